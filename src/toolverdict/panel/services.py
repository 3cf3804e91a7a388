"""The panel's services: run reviews, enqueue them, and read them for the pages.

Write side: ``review_tools`` runs the personas over each tool's dossier (synchronously),
reusing any review whose inputs are unchanged, retrying provider errors with backoff,
grounding every claim and storing each review atomically. ``enqueue_panel`` hands the
same work to the task queue (``db_worker`` runs it).

Read side: ``panel_summaries`` and ``scorecard_rows`` build what the templates show in a
fixed number of queries, whatever the number of tools, personas or reviews.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from toolverdict.catalog.models import Category, Fact, PricePoint, Tool

from . import grounding, history
from .dossier import Dossier, build_dossier
from .generation import Draft, DraftError, style_for, write_review
from .llm import ReviewModel, get_review_model
from .models import Claim, Review
from .personas import Persona, load_personas
from .prompts import prompt_version
from .substance import check_substance

log = logging.getLogger(__name__)

DEFAULT_PERSONAS = ("Builder", "Skeptic", "Futurist", "Buyer")


# --- read side ---------------------------------------------------------------------------


@dataclass
class ClaimCard:
    kind: str
    text: str
    evidence_ids: list[str]
    support: str  # supported | unsupported | not_judged
    problems: list[str] = field(default_factory=list)
    question: str = ""  # the persona question this claim answers (stepwise reviews)

    @property
    def is_unsupported(self) -> bool:
        return self.support == Claim.Support.UNSUPPORTED

    @property
    def support_label(self) -> str:
        return {
            "supported": "supported",
            "unsupported": "unsupported",
            "not_judged": f"{self.kind}, not judged",
        }.get(self.support, self.support)


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

    @property
    def label(self) -> str:
        if self.status == Review.Status.WITHHELD:
            return "Withheld"
        return self.verdict.capitalize()

    @property
    def support_pct(self) -> int | None:
        return None if self.support_rate is None else round(100 * self.support_rate)

    @property
    def unsupported_count(self) -> int:
        return sum(c.is_unsupported for c in self.claims)


#: Fewer published reviews than this give no panel ship percentage anywhere.
MIN_PUBLISHED_FOR_PCT = 3


@dataclass
class PanelSummary:
    ship: int = 0
    valid: int = 0  # published reviews: the only ones the ship % counts
    reviews: dict[str, ReviewCard] = field(default_factory=dict)
    is_local_draft: bool = False

    @property
    def ship_pct(self) -> int | None:
        """Share of published reviews saying ship; None below MIN_PUBLISHED_FOR_PCT."""
        if self.valid < MIN_PUBLISHED_FOR_PCT:
            return None
        return round(100 * self.ship / self.valid)

    @property
    def verdict(self) -> str | None:
        """The panel's majority: "ship", "skip" or "split" (as many each way); None where
        there is no ship percentage (the same rule, so the two never disagree)."""
        if self.ship_pct is None:
            return None
        if 2 * self.ship == self.valid:
            return "split"
        return "ship" if 2 * self.ship > self.valid else "skip"

    @property
    def reviewers(self) -> str:
        """How many stand behind the figure: "3 of 4 reviewers"."""
        return f"{self.valid} of {len(self.reviews)} reviewers"

    @property
    def ship_label(self) -> str:
        """ "75% · 3 of 4 reviewers", or why there is no percentage."""
        if not self.reviews:
            return "not reviewed yet"
        if self.ship_pct is None:
            return f"too few published reviews ({self.reviewers})"
        return f"{self.ship_pct}% · {self.reviewers}"

    @property
    def skip(self) -> int:
        return self.valid - self.ship

    @property
    def not_counted(self) -> int:
        """Failed or withheld reviews: shown, but not part of the ship %."""
        return len(self.reviews) - self.valid

    @property
    def support_pct(self) -> int | None:
        rates = [
            c.support_rate
            for c in self.reviews.values()
            if c.status == Review.Status.PUBLISHED and c.support_rate is not None
        ]
        return round(100 * sum(rates) / len(rates)) if rates else None


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
    # A stepwise review's answers are its claims: show them once, with their support.
    claims = [
        ClaimCard(
            c.kind, c.text, list(c.evidence_ids), c.support, list(c.problems), asked.get(c.text, "")
        )
        for c in review.claims.all()
    ]
    claimed = {c.text for c in claims}
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
            if v not in claimed
        },
        support_rate=review.support_rate,
        model_id=review.model_id,
    )


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
        if review.is_published:
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


# --- write side --------------------------------------------------------------------------


@dataclass
class ReviewOutcome:
    tool: str
    persona: str
    status: str
    verdict: str
    reused: bool
    review_id: int


def _tools(tool_ids: Iterable[int]) -> list[Tool]:
    return list(
        Tool.objects.filter(pk__in=list(tool_ids))
        .select_related("category")
        .prefetch_related(
            Prefetch("price_points", queryset=PricePoint.objects.order_by("position", "id")),
            Prefetch("facts", queryset=Fact.objects.order_by("position", "id")),
        )
        .order_by("pk")
    )


def known_names() -> list[str]:
    """Names the panel may mention without inventing them: catalog tools, vendors, categories."""
    names = [n for pair in Tool.objects.values_list("name", "vendor") for n in pair]
    return names + list(Category.objects.values_list("name", flat=True))


def _store(
    tool: Tool,
    persona: Persona,
    model: ReviewModel,
    dossier: Dossier,
    fields: dict[str, Any],
    claims: list[dict[str, Any]],
) -> Review:
    """Write one review and its claims and make it current, all or nothing."""
    style = fields.pop("style")
    key = {
        "tool": tool,
        "persona": persona.slug,
        "model_id": model.model_id,
        "prompt_version": prompt_version(persona, style),
        "dossier_hash": dossier.hash,
    }
    with transaction.atomic():
        Review.objects.filter(tool=tool, persona=persona.slug, is_current=True).exclude(
            **{k: v for k, v in key.items() if k not in ("tool", "persona")}
        ).update(is_current=False)
        review, _ = Review.objects.update_or_create(
            **key,
            defaults={
                **fields,
                "persona_name": persona.name,
                "persona_order": persona.order,
                "is_local_draft": model.is_local_draft,
                "is_current": True,
            },
        )
        review.claims.all().delete()
        Claim.objects.bulk_create(
            Claim(review=review, position=i, **c) for i, c in enumerate(claims)
        )
    return review


def _make_current(review: Review) -> None:
    with transaction.atomic():
        Review.objects.filter(
            tool_id=review.tool_id, persona=review.persona, is_current=True
        ).exclude(pk=review.pk).update(is_current=False)
        if not review.is_current:
            review.is_current = True
            review.save(update_fields=["is_current", "updated_at"])


def _claim_rows(draft: Draft, check: grounding.ReviewCheck) -> list[dict[str, Any]]:
    return [
        {
            "kind": c["kind"],
            "text": c["text"],
            "evidence_ids": c["evidence"],
            "support": result.status,
            "problems": result.problems,
        }
        for c, result in zip(draft.claims, check.claims, strict=True)
    ]


def judge(draft: Draft, dossier: Dossier, names: list[str], persona: Persona) -> dict[str, Any]:
    """Both gates over a draft: the review's status, public gate and problem."""
    substance = check_substance(
        reason=draft.reason, sections=draft.sections, claims=[c["text"] for c in draft.claims]
    )
    check = grounding.check_review(
        reason=draft.reason,
        sections=draft.sections,
        claims=[(c["kind"], c["text"], list(c["evidence"])) for c in draft.claims],
        dossier=dossier,
        known_names=names,
        asked="\n".join(
            [persona.lens, persona.instructions, *(s.question for s in persona.sections)]
        ),
    )
    gate = ""
    if not substance.publishable:
        gate = Review.Gate.UNREADABLE if substance.gibberish else Review.Gate.NON_ANSWERS
    elif not check.publishable:
        gate = Review.Gate.GROUNDING
    problem = "; ".join(p for p in (substance.withheld_reason, check.withheld_reason) if p)
    return {
        "status": Review.Status.WITHHELD if gate else Review.Status.PUBLISHED,
        "withheld_gate": gate,
        "problem": problem[:500],
        "support_rate": check.support_rate,
        "claims": _claim_rows(draft, check),
    }


def _write(
    model: ReviewModel,
    dossier: Dossier,
    persona: Persona,
    *,
    temperature: float | None,
    seed: int | None,
) -> tuple[Draft, str]:
    """Ask the model for the review: (draft, "") or (what came back, why it failed)."""
    try:
        draft = write_review(model, dossier, persona, temperature=temperature, seed=seed)
    except DraftError as exc:
        return exc.draft, str(exc)
    except Exception as exc:  # a backend bug must still leave a visible failed review
        log.exception("panel model crashed")
        return Draft(attempts=1), f"model error: {type(exc).__name__}: {exc}"
    return draft, ""


def _usage_fields(model: ReviewModel, draft: Draft, started: float) -> dict[str, Any]:
    """What the review cost: tokens, time, money, attempts, and the way it was asked."""
    return {
        "input_tokens": draft.input_tokens,
        "output_tokens": draft.output_tokens,
        "cached_tokens": draft.cached_tokens,
        "latency_ms": round((time.perf_counter() - started) * 1000),
        "cost_usd": model.prices.cost(draft.usage),
        "attempts": max(1, draft.attempts),
        "style": style_for(model),
    }


def _failed_fields(failure: str) -> dict[str, Any]:
    return {
        "status": Review.Status.FAILED,
        "withheld_gate": "",
        "verdict": "",
        "reason": "",
        "sections": {},
        "problem": failure[:500],
        "support_rate": None,
    }


def review_one(
    tool: Tool,
    persona: Persona,
    model: ReviewModel,
    dossier: Dossier,
    names: list[str],
    *,
    temperature: float | None = None,
    seed: int | None = None,
) -> Review:
    """Run one persona over one dossier and store the result (published, withheld or failed)."""
    started = time.perf_counter()
    draft, failure = _write(model, dossier, persona, temperature=temperature, seed=seed)
    fields = _usage_fields(model, draft, started)
    if failure:
        return _store(tool, persona, model, dossier, fields | _failed_fields(failure), [])
    verdict = judge(draft, dossier, names, persona)
    claims = verdict.pop("claims")
    fields |= verdict | {"verdict": draft.verdict, "reason": draft.reason[:300]}
    fields["sections"] = draft.sections
    return _store(tool, persona, model, dossier, fields, claims)


@dataclass
class _PanelRun:
    """One review_tools call: the model, the personas with their prompt versions, the
    catalog's tool names (for the grounding check) and the sampling overrides."""

    model: ReviewModel
    personas: list[Persona]
    versions: dict[str, str]
    names: list[str]
    force: bool
    temperature: float | None
    seed: int | None


def _stored_reviews(run: _PanelRun, tool: Tool, dossier: Dossier) -> dict[tuple[str, str], Review]:
    """Reviews already stored for these exact inputs, by (persona, prompt version)."""
    return {
        (r.persona, r.prompt_version): r
        for r in Review.objects.filter(
            tool=tool,
            model_id=run.model.model_id,
            prompt_version__in=set(run.versions.values()),
            dossier_hash=dossier.hash,
        )
    }


def _review_or_reuse(
    run: _PanelRun, tool: Tool, persona: Persona, dossier: Dossier, stored: Review | None
) -> tuple[Review, bool]:
    """(the review, whether it was reused): a stored review that did not fail is made
    current again unless ``force``; otherwise the model writes a new one."""
    if stored is not None and stored.status != Review.Status.FAILED and not run.force:
        _make_current(stored)
        return stored, True
    try:
        review = review_one(
            tool,
            persona,
            run.model,
            dossier,
            run.names,
            temperature=run.temperature,
            seed=run.seed,
        )
    except IntegrityError:
        # Another worker stored the same review meanwhile: theirs stands.
        review = Review.objects.get(
            tool=tool,
            persona=persona.slug,
            model_id=run.model.model_id,
            prompt_version=run.versions[persona.slug],
            dossier_hash=dossier.hash,
        )
        return review, True
    return review, False


def review_tools(
    tool_ids: Iterable[int],
    model: ReviewModel | str | None = None,
    *,
    force: bool = False,
    progress: Callable[[ReviewOutcome], None] | None = None,
    temperature: float | None = None,
    seed: int | None = None,
) -> list[ReviewOutcome]:
    """Run the panel for these tools now; reuse reviews whose inputs are unchanged.

    A review is reused when tool, persona, model, prompt version and dossier hash all
    match a stored review that did not fail; ``force`` re-runs even those. ``temperature``
    and ``seed`` override the configured sampling (the evaluation varies them).
    """
    if model is None or isinstance(model, str):
        model = get_review_model(model)
    personas = load_personas()
    style = style_for(model)
    run = _PanelRun(
        model=model,
        personas=personas,
        versions={p.slug: prompt_version(p, style) for p in personas},
        names=known_names(),
        force=force,
        temperature=temperature,
        seed=seed,
    )
    outcomes: list[ReviewOutcome] = []
    for tool in _tools(tool_ids):
        dossier = build_dossier(tool)
        stored = _stored_reviews(run, tool, dossier)
        for persona in personas:
            key = (persona.slug, run.versions[persona.slug])
            review, reused = _review_or_reuse(run, tool, persona, dossier, stored.get(key))
            outcome = ReviewOutcome(
                tool=tool.slug,
                persona=persona.name,
                status=review.status,
                verdict=review.verdict,
                reused=reused,
                review_id=review.pk,
            )
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        history.record_snapshot(tool, dossier)
    return outcomes


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
