"""The panel's services: run reviews, enqueue them, and read them for the pages.

Write side: ``review_tools`` runs the personas over each tool's dossier (synchronously),
reusing any review whose inputs are unchanged, retrying provider errors with backoff,
grounding every claim and storing each review atomically. ``enqueue_panel`` hands the
same work to the task queue (``db_worker`` runs it).

Read side: ``panel_summaries`` and ``scorecard_rows`` build what the templates show in a
fixed number of queries, whatever the number of tools, personas or reviews.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from pydantic import ValidationError

from toolverdict.catalog.models import Category, Fact, PricePoint, Tool

from .dossier import Dossier, build_dossier
from .grounding import check_review
from .llm import Generation, ModelError, ReviewModel, ReviewRequest, get_review_model
from .models import Claim, Review
from .personas import Persona, load_personas
from .prompts import build_prompt, prompt_version
from .schema import json_schema, review_model

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


@dataclass
class PanelSummary:
    ship: int = 0
    valid: int = 0
    reviews: dict[str, ReviewCard] = field(default_factory=dict)
    is_local_draft: bool = False

    @property
    def ship_pct(self) -> int | None:
        return round(100 * self.ship / self.valid) if self.valid else None

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


# Public wording for reviews that are not published. The model's own text of a withheld
# review and the raw problem of a failed one (provider/exception text, which can carry
# partial keys or internal host names) stay in the database, the admin and the logs only.
WITHHELD_PUBLIC_REASON = "Withheld: failed the grounding check"
FAILED_PUBLIC_REASON = "Review failed; it will be retried"


def _card(review: Review) -> ReviewCard:
    if not review.is_published:
        public = (
            WITHHELD_PUBLIC_REASON
            if review.status == Review.Status.WITHHELD
            else FAILED_PUBLIC_REASON
        )
        return ReviewCard(
            verdict="failed",
            reason=public,
            is_local_draft=review.is_local_draft,
            status=review.status,
            persona=review.persona_name,
            model_id=review.model_id,
            problem=public,
        )
    return ReviewCard(
        verdict=review.verdict,
        reason=review.reason,
        is_local_draft=review.is_local_draft,
        status=review.status,
        persona=review.persona_name,
        claims=[
            ClaimCard(c.kind, c.text, list(c.evidence_ids), c.support, list(c.problems))
            for c in review.claims.all()
        ],
        sections={k.replace("_", " ").capitalize(): v for k, v in review.sections.items()},
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
    for review in reviews:
        summary = summaries[review.tool_id]
        summary.reviews[review.persona_name] = _card(review)
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


def _generate_with_retry(model: ReviewModel, request: ReviewRequest) -> tuple[Generation, int]:
    """Call the model, retrying retryable errors with exponential backoff."""
    attempts = max(1, settings.TOOLVERDICT_PANEL_ATTEMPTS)
    backoff = settings.TOOLVERDICT_PANEL_BACKOFF
    for attempt in range(1, attempts + 1):
        try:
            return model.generate(request), attempt
        except ModelError as exc:
            if not exc.retryable or attempt == attempts:
                exc.attempts = attempt  # type: ignore[attr-defined]
                raise
            log.warning("panel model error (attempt %s/%s): %s", attempt, attempts, exc)
            time.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "review"
    return f"{where}: {err['msg']}"


def _parse(text: str, dossier: Dossier, persona: Persona) -> dict[str, Any]:
    """Parse and validate model output. Evidence ids are checked by grounding, not here,
    so a backend without enum enforcement gets a flagged claim, not a lost review."""
    model = review_model(dossier, persona, strict_ids=False)
    try:
        data = json.loads(text, strict=False)  # small models emit raw newlines in strings
    except json.JSONDecodeError as exc:
        raise ModelError(f"output is not JSON: {exc.msg} at character {exc.pos}") from exc
    try:
        review = model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ModelError(f"output does not match the review schema: {_first_error(exc)}") from exc
    review["reason"] = " ".join(review["reason"].split())  # the reason is one line
    return review


def _store(
    tool: Tool,
    persona: Persona,
    model: ReviewModel,
    dossier: Dossier,
    fields: dict[str, Any],
    claims: list[dict[str, Any]],
) -> Review:
    """Write one review and its claims and make it current, all or nothing."""
    key = {
        "tool": tool,
        "persona": persona.slug,
        "model_id": model.model_id,
        "prompt_version": prompt_version(persona),
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


def review_one(
    tool: Tool,
    persona: Persona,
    model: ReviewModel,
    dossier: Dossier,
    names: list[str],
) -> Review:
    """Run one persona over one dossier and store the result (published, withheld or failed)."""
    request = ReviewRequest(
        prompt=build_prompt(dossier, persona),
        schema=json_schema(review_model(dossier, persona)),
    )
    started = time.perf_counter()
    generation: Generation | None = None
    attempts = 1
    try:
        generation, attempts = _generate_with_retry(model, request)
        data = _parse(generation.text, dossier, persona)
    except ModelError as exc:
        attempts = getattr(exc, "attempts", attempts)
        failure = str(exc)
    except Exception as exc:  # a backend bug must still leave a visible failed review
        log.exception("panel model crashed")
        failure = f"model error: {type(exc).__name__}: {exc}"
    else:
        failure = ""
    latency_ms = round((time.perf_counter() - started) * 1000)
    usage = generation or Generation(text="")
    fields: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
        "latency_ms": latency_ms,
        "cost_usd": model.prices.cost(usage),
        "attempts": attempts,
    }
    if failure:
        fields |= {
            "status": Review.Status.FAILED,
            "verdict": "",
            "reason": "",
            "sections": {},
            "problem": failure[:500],
            "support_rate": None,
        }
        return _store(tool, persona, model, dossier, fields, [])

    claims_in = [(c["kind"], c["text"], list(c["evidence"])) for c in data["claims"]]
    check = check_review(
        reason=data["reason"],
        sections=data["sections"],
        claims=claims_in,
        dossier=dossier,
        known_names=names,
    )
    fields |= {
        "status": Review.Status.PUBLISHED if check.publishable else Review.Status.WITHHELD,
        "verdict": data["verdict"],
        "reason": data["reason"],
        "sections": data["sections"],
        "problem": check.withheld_reason[:500],
        "support_rate": check.support_rate,
    }
    claims = [
        {
            "kind": kind,
            "text": text,
            "evidence_ids": cited,
            "support": result.status,
            "problems": result.problems,
        }
        for (kind, text, cited), result in zip(claims_in, check.claims, strict=True)
    ]
    return _store(tool, persona, model, dossier, fields, claims)


def review_tools(
    tool_ids: Iterable[int],
    model: ReviewModel | str | None = None,
    *,
    force: bool = False,
    progress: Callable[[ReviewOutcome], None] | None = None,
) -> list[ReviewOutcome]:
    """Run the panel for these tools now; reuse reviews whose inputs are unchanged.

    A review is reused when tool, persona, model, prompt version and dossier hash all
    match a stored review that did not fail; ``force`` re-runs even those.
    """
    if model is None or isinstance(model, str):
        model = get_review_model(model)
    personas = load_personas()
    names = known_names()
    outcomes: list[ReviewOutcome] = []
    versions = {p.slug: prompt_version(p) for p in personas}
    for tool in _tools(tool_ids):
        dossier = build_dossier(tool)
        existing = {
            (r.persona, r.prompt_version): r
            for r in Review.objects.filter(
                tool=tool,
                model_id=model.model_id,
                prompt_version__in=set(versions.values()),
                dossier_hash=dossier.hash,
            )
        }
        for persona in personas:
            review = existing.get((persona.slug, versions[persona.slug]))
            reused = review is not None and review.status != Review.Status.FAILED and not force
            if reused:
                _make_current(review)
            else:
                try:
                    review = review_one(tool, persona, model, dossier, names)
                except IntegrityError:
                    # Another worker stored the same review meanwhile: theirs stands.
                    review = Review.objects.get(
                        tool=tool,
                        persona=persona.slug,
                        model_id=model.model_id,
                        prompt_version=versions[persona.slug],
                        dossier_hash=dossier.hash,
                    )
                    reused = True
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
    return outcomes


def enqueue_panel(tool_ids: Iterable[int]) -> list[Any]:
    """Queue one panel task per tool on the "panel" queue; returns the task results.

    Cheap (one row per tool with the database backend); the model runs in ``db_worker``,
    or inline only when the configured tasks backend is the immediate one.
    """
    from .tasks import review_tool

    return [review_tool.enqueue(tool_id) for tool_id in dict.fromkeys(tool_ids)]


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
