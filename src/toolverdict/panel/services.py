"""The panel's services, as other apps call them: read reviews for the pages, run or
enqueue reviews.

Read side: ``panel_summaries`` and ``scorecard_rows`` build what the templates show in a
fixed number of queries, whatever the number of tools, personas or reviews. Only what the
claim check published is shown: sourced and computed sentences with their evidence, and
the persona's opinions labelled as such.

Write side: ``review_tools`` (``pipeline.py``, the review's stages) runs the panel now;
``enqueue_panel`` hands the same work to the task queue (``db_worker`` runs it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from toolverdict.catalog.models import Tool

from . import pipeline, shares
from .models import Claim, Review
from .personas import load_personas
from .shares import MIN_PUBLISHED_FOR_PCT  # noqa: F401 - other apps import it from here

log = logging.getLogger(__name__)

DEFAULT_PERSONAS = ("Builder", "Skeptic", "Futurist", "Buyer")


# --- read side ---------------------------------------------------------------------------


@dataclass
class ClaimCard:
    kind: str
    text: str
    evidence_ids: list[str]
    support: str  # supported | computed | opinion (what the claim check published)
    problems: list[str] = field(default_factory=list)
    question: str = ""  # the persona question this sentence answers

    @property
    def support_label(self) -> str:
        return {
            "supported": "sourced",
            "computed": "computed",
            "opinion": "opinion",
            "not_judged": f"{self.kind}, not checked",
        }.get(self.support, self.support)


@dataclass
class PointCard:
    """A computed point the persona's rubric weighed: for, against, or a note."""

    direction: str
    text: str
    evidence_ids: list[str]


@dataclass
class ReviewCard:
    verdict: str  # "ship" | "skip" | "failed" (failed also covers withheld reviews)
    reason: str
    is_local_draft: bool = False
    status: str = Review.Status.PUBLISHED
    persona: str = ""
    claims: list[ClaimCard] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    support_rate: float | None = None
    model_id: str = ""
    problem: str = ""
    # (evidence id, status label) for each cited item whose source is unreachable or stale;
    # filled in by the tool page (catalog/views.py), empty elsewhere.
    source_marks: list[tuple[str, str]] = field(default_factory=list)
    points: list[PointCard] = field(default_factory=list)
    rubric_verdict: str = ""  # shown beside the verdict when a model judged differently
    not_published: int = 0  # sentences the claim check kept off the page

    @property
    def label(self) -> str:
        if self.status == Review.Status.WITHHELD:
            return "Withheld"
        if self.verdict == Review.Verdict.INSUFFICIENT:
            return "Not enough evidence"
        return self.verdict.capitalize()

    @property
    def is_confident(self) -> bool:
        return self.status == Review.Status.PUBLISHED and self.verdict in ("ship", "skip")

    @property
    def rubric_differs(self) -> bool:
        return bool(self.rubric_verdict) and self.rubric_verdict != self.verdict

    @property
    def rubric_label(self) -> str:
        return dict(Review.Verdict.choices).get(self.rubric_verdict, self.rubric_verdict)


@dataclass
class PanelSummary:
    ship: int = 0
    valid: int = 0  # published reviews with a verdict: the only ones the ship % counts
    insufficient: int = 0  # published "not enough evidence" reviews: shown, not counted
    reviews: dict[str, ReviewCard] = field(default_factory=dict)
    is_local_draft: bool = False

    @property
    def ship_pct(self) -> int | None:
        """Share of confident reviews saying ship; None below MIN_PUBLISHED_FOR_PCT."""
        return shares.ship_pct(self.ship, self.valid)

    @property
    def verdict(self) -> str | None:
        """The panel's majority: "ship", "skip" or "split" (as many each way);
        "insufficient" when most reviewers found too little evidence to judge; None
        where there is no ship percentage otherwise (the same rule, so the two never
        disagree)."""
        if self.ship_pct is None:
            return "insufficient" if self.not_enough_evidence else None
        return shares.majority(self.ship, self.valid)

    @property
    def reviewers(self) -> str:
        """How many stand behind the figure: "3 of 4 reviewers"."""
        return f"{self.valid} of {len(self.reviews)} reviewers"

    @property
    def not_enough_evidence(self) -> bool:
        """Too little evidence for a ship %: most reviewers said so."""
        return self.ship_pct is None and 2 * self.insufficient > len(self.reviews)

    @property
    def ship_label(self) -> str:
        """ "75% · 3 of 4 reviewers", or why there is no percentage."""
        if not self.reviews:
            return "not reviewed yet"
        if self.not_enough_evidence:
            return f"not enough evidence ({self.insufficient} of {len(self.reviews)} reviewers)"
        if self.ship_pct is None:
            return f"too few published reviews ({self.reviewers})"
        return f"{self.ship_pct}% · {self.reviewers}"

    @property
    def skip(self) -> int:
        return self.valid - self.ship

    @property
    def not_counted(self) -> int:
        """Failed or withheld reviews: shown, but not part of the ship %."""
        return len(self.reviews) - self.valid - self.insufficient


@dataclass
class ScorecardRow:
    persona: str
    cells: list[ReviewCard | None]


# Public wording for reviews that are not published, one fixed sentence per cause. The
# model's own text of a withheld review and the raw problem of a failed one (provider or
# exception text, which can carry partial keys or internal host names) stay in the
# database, the admin and the logs only.
WITHHELD_PUBLIC_REASON = "Withheld: failed the grounding check"
WITHHELD_PUBLIC_REASONS = {
    Review.Gate.GROUNDING: WITHHELD_PUBLIC_REASON,
    Review.Gate.NON_ANSWERS: "Withheld: the review did not answer its questions",
    Review.Gate.UNREADABLE: "Withheld: parts of the review were not readable text",
}
FAILED_PUBLIC_REASON = "Review failed; it will be retried"


def public_reason(review: Review) -> str:
    """The fixed public sentence for a review that is not published."""
    if review.status == Review.Status.WITHHELD:
        return WITHHELD_PUBLIC_REASONS.get(review.withheld_gate, WITHHELD_PUBLIC_REASON)
    return FAILED_PUBLIC_REASON


def _section_labels() -> dict[tuple[str, str], str]:
    """(persona slug, section key) -> the persona's question, for labelling answers."""
    try:
        return {(p.slug, s.key): s.question for p in load_personas() for s in p.sections}
    except Exception:  # a broken persona file must not take the pages down
        log.exception("cannot read persona files; labelling sections by key")
        return {}


def _card(review: Review, labels: dict[tuple[str, str], str] | None = None) -> ReviewCard:
    if not review.is_published:
        public = public_reason(review)
        return ReviewCard(
            verdict="failed",
            reason=public,
            is_local_draft=review.is_local_draft,
            status=review.status,
            persona=review.persona_name,
            model_id=review.model_id,
            problem=public,
        )
    labels = labels or {}
    asked = {
        text: labels.get((review.persona, key), key.replace("_", " ").capitalize())
        for key, text in review.sections.items()
    }
    # The review's sentences as the claim check labelled them; only the published ones.
    every = list(review.claims.all())
    claims = [
        ClaimCard(
            c.kind,
            c.text,
            list(c.evidence_ids),
            c.support,
            list(c.problems),
            labels.get((review.persona, c.section), "") if c.section else asked.get(c.text, ""),
        )
        for c in every
        if c.support in Claim.PUBLISHED_SUPPORT
    ]
    claimed = {c.text for c in claims}
    sectioned = {c.section for c in every if c.section}
    return ReviewCard(
        verdict=review.verdict,
        reason=review.reason,
        is_local_draft=review.is_local_draft,
        status=review.status,
        persona=review.persona_name,
        claims=claims,
        sections={
            k.replace("_", " ").capitalize(): v
            for k, v in review.sections.items()
            if v not in claimed and k not in sectioned
        },
        support_rate=review.support_rate,
        model_id=review.model_id,
        points=[
            PointCard(
                _direction(p.get("weight", 0)),
                p.get("text", ""),
                list(p.get("evidence_ids", [])),
            )
            for p in review.points or []
        ],
        rubric_verdict=review.rubric_verdict,
        not_published=len(every) - len(claims),
    )


def _direction(weight: int) -> str:
    return "for" if weight > 0 else "against" if weight < 0 else "note"


def panel_summaries(tools: Sequence[Tool]) -> dict[int, PanelSummary]:
    """Each tool's current panel: ship %, split and review cards (two queries in all)."""
    summaries = {tool.pk: PanelSummary() for tool in tools}
    if not summaries:
        return summaries
    reviews = (
        Review.objects.filter(tool_id__in=list(summaries), is_current=True)
        .order_by("tool_id", "persona_order", "persona_name")
        .prefetch_related(Prefetch("claims", queryset=Claim.objects.order_by("position")))
    )
    labels = _section_labels()
    for review in reviews:
        summary = summaries[review.tool_id]
        summary.reviews[review.persona_name] = _card(review, labels)
        if review.is_published and review.verdict == Review.Verdict.INSUFFICIENT:
            summary.insufficient += 1
        elif review.is_published:
            summary.valid += 1
            summary.ship += review.verdict == Review.Verdict.SHIP
            summary.is_local_draft |= review.is_local_draft
    return summaries


def scorecard_rows(tools: Sequence[Tool], summaries: dict[int, PanelSummary]) -> list[ScorecardRow]:
    """One row per persona (configured personas first), one cell per tool."""
    try:
        names = [p.name for p in load_personas()]
    except Exception:  # a broken persona file must not take the pages down
        log.exception("cannot read persona files; using the default persona names")
        names = list(DEFAULT_PERSONAS)
    for tool in tools:
        for name in summaries[tool.pk].reviews:
            if name not in names:
                names.append(name)
    return [
        ScorecardRow(persona=name, cells=[summaries[t.pk].reviews.get(name) for t in tools])
        for name in names
    ]


# --- write side: the stages live in pipeline.py; other apps call them through here ----

review_tools = pipeline.review_tools
ReviewOutcome = pipeline.ReviewOutcome
_tools = pipeline.tools_for_review


def enqueue_panel(tool_ids: Iterable[int]) -> list[Any]:
    """Queue one panel task per tool on the "panel" queue; returns the task results.

    Cheap (one row per tool with the database backend); the model runs in ``db_worker``,
    or inline only when the configured tasks backend is the immediate one. The seed
    comparison's tools (``TOOLVERDICT_PANEL_FIRST``) are queued ahead of the rest.
    """
    from .tasks import enqueue_reviews

    return enqueue_reviews(tool_ids)


def on_tools_changed(sender: Any, tool_ids: list[int], reason: str = "", **kwargs: Any) -> None:
    """Receiver for catalog.signals.tools_changed: queue the changed tools' panels."""
    try:
        enqueue_panel(tool_ids)
    except Exception:
        # The catalog change has committed; a queue problem must not undo or hide it.
        # `toolverdict review` can run the panel later.
        log.exception("could not enqueue the panel for tools %s (%s)", tool_ids, reason)


def latest_reviewed_tool_ids(limit: int = 12) -> list[int]:
    """Published tools whose panel most recently produced a current review, newest first."""
    from django.db.models import Max

    rows = (
        Review.objects.filter(is_current=True, tool__is_published=True)
        .values("tool_id")
        .annotate(latest=Max("created_at"))
        .order_by("-latest", "-tool_id")[:limit]
    )
    return [row["tool_id"] for row in rows]
