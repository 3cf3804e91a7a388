"""The verdict stage: each persona's rubric over the computed findings.

A small model's ship/skip follows the order of the evidence and the seed (measured: its
pick of a tool's strongest point changed with the order in every case tried), so the
verdict is decided here, by code, from the signals the findings raise: each persona file
weighs them (``[rubric]`` in ``data/personas/*.toml``), the weights are summed, and the
tool ships when the sum reaches the persona's ``ship_at``. A tool with too little evidence
to judge gets "not enough evidence" (``insufficient``), which the ship % leaves out.

The outcome carries its points, each with the finding's sentence, its weight's direction
and the evidence it rests on, so the page can show why, with numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .dossier import Dossier
from .personas import Persona

SHIP, SKIP, INSUFFICIENT = "ship", "skip", "insufficient"

#: A few words per signal for the one-line reason.
SIGNAL_WORDS = {
    "cheapest_wide": "the cheapest of its category by a wide margin",
    "cheaper": "cheaper than its category's median",
    "pricier": "dearer than its category's median",
    "far_pricier": "at least three times its category's median price",
    "long_context": "a long context window",
    "short_context": "a short context window for its category",
    "open": "an open licence",
    "closed": "a closed licence",
    "tool_use": "tool calling",
    "no_tool_use": "no tool calling",
    "api": "API access",
    "no_api": "no API access",
    "free_tier": "a free tier",
    "no_free_tier": "no free tier",
    "missing": "facts missing from the catalog",
    "dead_sources": "cited sources that could not be reached",
    "unreviewed": "facts no editor has reviewed yet",
}


@dataclass(frozen=True)
class Point:
    """One signal the rubric weighed: its finding's sentence and where it comes from."""

    signal: str
    weight: int
    text: str
    evidence_ids: tuple[str, ...]

    @property
    def direction(self) -> str:
        return "for" if self.weight > 0 else "against" if self.weight < 0 else "note"


@dataclass
class Decision:
    verdict: str
    score: int
    reason: str
    points: list[Point] = field(default_factory=list)

    @property
    def is_confident(self) -> bool:
        return self.verdict in (SHIP, SKIP)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _reason(verdict: str, points: list[Point]) -> str:
    """One line: what weighed for and against, strongest first (the label says the verdict)."""
    pros = [SIGNAL_WORDS[p.signal] for p in points if p.weight > 0]
    cons = [SIGNAL_WORDS[p.signal] for p in points if p.weight < 0]
    first, then = (pros, cons) if verdict == SHIP else (cons, pros)
    lead, other = ("For it", "against it") if verdict == SHIP else ("Against it", "for it")
    if not first:
        return (
            "Nothing in the evidence counts against it."
            if verdict == SHIP
            else "Nothing in the evidence weighs enough in its favour."
        )
    text = f"{lead}: {_join(first)}"
    return text + (f"; {other}: {_join(then)}." if then else ".")


def decide(dossier: Dossier, persona: Persona) -> Decision:
    """The persona's verdict on the dossier's tool, from its findings alone."""
    facts = dossier.facts
    if facts is None:
        raise ValueError("the dossier carries no structured facts (build it with build_dossier)")
    computed = {e.text: e.id for e in dossier.evidence if e.kind == "computed"}
    rubric = persona.rubric
    points: list[Point] = []
    seen: set[str] = set()
    for finding in dossier.findings:
        cid = computed.get(finding.text)
        ids = tuple(dict.fromkeys([i for i in (cid, *finding.evidence_ids) if i]))
        for signal in finding.signals:
            if signal in seen:
                continue  # one signal counts once, however many prices raise it
            seen.add(signal)
            points.append(Point(signal, rubric.weight(signal), finding.text, ids))
    if facts.strength < rubric.min_strength:
        known = ", ".join(facts.known) or "its name and tagline"
        reason = (
            f"Not enough evidence: the catalog states only {known}; "
            f"missing: {', '.join(facts.missing) or 'nothing listed'}."
        )
        return Decision(INSUFFICIENT, 0, reason, points)
    score = sum(p.weight for p in points)
    verdict = SHIP if score >= rubric.ship_at else SKIP
    weighed = sorted((p for p in points if p.weight), key=lambda p: -abs(p.weight))
    return Decision(verdict, score, _reason(verdict, weighed), points)
