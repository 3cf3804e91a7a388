"""A review, stage by stage: dossier → findings → verdict → wording → checks → store.

1. ``dossier.build_dossier``: the tool's numbered evidence, with the computed findings
   (``findings.py``) appended as C items;
2. ``rubric.decide``: the persona's verdict from those findings, or "not enough
   evidence"; no model is asked for a thin tool;
3. ``generation.write_review``: the model explains the decided verdict, one answer per
   persona question;
4. ``claimcheck``: every sentence labelled sourced, computed, opinion, contradicted or
   unsupported; only the first three are published;
5. ``store.store_review``: the review and its sentences, all or nothing.

``review_tools`` runs the stages for many tools, reusing any review whose inputs (tool,
persona, model, prompt version, dossier hash) are unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Prefetch

from toolverdict.catalog.models import Fact, PricePoint, Tool

from . import claimcheck, history
from .dossier import Dossier, build_dossiers
from .generation import Draft, DraftError, style_for, write_review
from .llm import ReviewModel, get_review_model
from .models import Claim, Review
from .personas import Persona, load_personas
from .prompts import decided_line, prompt_version
from .rubric import Decision, decide
from .store import make_current, store_review

log = logging.getLogger(__name__)

#: The claim kind shown for each check label.
KIND_FOR_SUPPORT = {
    claimcheck.SUPPORTED: Claim.Kind.FACT,
    claimcheck.COMPUTED: Claim.Kind.COMPARISON,
}


@dataclass
class ReviewOutcome:
    tool: str
    persona: str
    status: str
    verdict: str
    reused: bool
    review_id: int


def tools_for_review(tool_ids: Iterable[int]) -> list[Tool]:
    """The tools with what their dossiers read, prefetched (a fixed number of queries)."""
    return list(
        Tool.objects.filter(pk__in=list(tool_ids))
        .select_related("category")
        .prefetch_related(
            Prefetch("price_points", queryset=PricePoint.objects.order_by("position", "id")),
            Prefetch("facts", queryset=Fact.objects.order_by("position", "id")),
        )
        .order_by("pk")
    )


def catalog_tool_names() -> list[str]:
    """Every tool name in the catalog: a sentence naming one of them is about that tool."""
    return list(Tool.objects.values_list("name", flat=True))


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


def _decision_fields(decision: Decision) -> dict[str, Any]:
    return {
        "rubric_verdict": decision.verdict,
        "rubric_score": decision.score,
        "points": [
            {
                "signal": p.signal,
                "weight": p.weight,
                "text": p.text,
                "evidence_ids": list(p.evidence_ids),
            }
            for p in decision.points
        ],
    }


def check_draft(
    draft: Draft, dossier: Dossier, persona: Persona, names: list[str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every sentence of the draft with its check label, and the published answers."""
    questions = {s.key: s.question for s in persona.sections}
    earlier: list[str] = []
    rows: list[dict[str, Any]] = []
    published: dict[str, list[str]] = {}
    for claim in draft.claims:
        ctx = claimcheck.context_for(dossier, names, asked=questions.get(claim["section"], ""))
        for sentence, result in claimcheck.check_text(
            claim["text"], claim["evidence"], ctx, earlier
        ):
            rows.append(
                {
                    "kind": KIND_FOR_SUPPORT.get(result.support, Claim.Kind.OPINION),
                    "text": sentence[:300],
                    "evidence_ids": result.evidence_ids,
                    "support": result.support,
                    "problems": [result.reason],
                    "section": claim["section"],
                }
            )
            if result.published:
                published.setdefault(claim["section"], []).append(sentence)
    return rows, {k: " ".join(v) for k, v in published.items()}


def _model_verdict(draft: Draft, dossier: Dossier, names: list[str]) -> tuple[str, str]:
    """The model's own verdict and reason (judge mode); a reason that fails the check is
    not published, so the verdict then stands with the rubric's reason."""
    ctx = claimcheck.context_for(dossier, names)
    results = claimcheck.check_text(draft.reason, [], ctx)
    ok = results and all(r.published for _, r in results)
    return draft.verdict, draft.reason if ok else ""


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
    """Run the stages for one persona over one dossier and store the result."""
    started = time.perf_counter()
    decision = decide(dossier, persona)
    fields = _decision_fields(decision)
    if not decision.is_confident:
        # Nothing to explain: the review is the rubric's outcome and its points.
        fields |= _usage_fields(model, Draft(), started) | {
            "status": Review.Status.PUBLISHED,
            "verdict": decision.verdict,
            "reason": decision.reason[:300],
            "sections": {},
            "problem": "",
            "withheld_gate": "",
            "support_rate": None,
        }
        return store_review(tool, persona, model, dossier, fields, [])
    judge = settings.TOOLVERDICT_PANEL_JUDGE == "model"
    try:
        draft = write_review(
            model,
            dossier,
            persona,
            decided=decided_line(decision.verdict, decision.reason),
            judge=judge,
            temperature=temperature,
            seed=seed,
        )
        failure = ""
    except DraftError as exc:
        draft, failure = exc.draft, str(exc)
    except Exception as exc:  # a backend bug must still leave a visible failed review
        log.exception("panel model crashed")
        draft, failure = Draft(attempts=1), f"model error: {type(exc).__name__}: {exc}"
    fields |= _usage_fields(model, draft, started)
    if failure:
        fields |= {
            "status": Review.Status.FAILED,
            "withheld_gate": "",
            "verdict": "",
            "reason": "",
            "sections": {},
            "problem": failure[:500],
            "support_rate": None,
        }
        return store_review(tool, persona, model, dossier, fields, [])
    claims, sections = check_draft(draft, dossier, persona, names)
    verdict, reason = decision.verdict, decision.reason
    if judge:
        verdict, model_reason = _model_verdict(draft, dossier, names)
        reason = model_reason or reason
    published = sum(c["support"] in claimcheck.PUBLISHED for c in claims)
    dropped = len(claims) - published
    fields |= {
        "status": Review.Status.PUBLISHED,
        "withheld_gate": "",
        "verdict": verdict,
        "reason": reason[:300],
        "sections": sections,
        "problem": f"{dropped} of {len(claims)} sentences not published" if dropped else "",
        "support_rate": published / len(claims) if claims else None,
    }
    return store_review(tool, persona, model, dossier, fields, claims)


@dataclass
class _PanelRun:
    """One review_tools call: the model, the personas with their prompt versions, the
    catalog's tool names (for the claim check) and the sampling overrides."""

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
    current again unless ``force``; otherwise the stages run anew."""
    if stored is not None and stored.status != Review.Status.FAILED and not run.force:
        make_current(stored)
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

    ``force`` re-runs even those. ``temperature`` and ``seed`` override the configured
    sampling (the evaluation varies them).
    """
    if model is None or isinstance(model, str):
        model = get_review_model(model)
    personas = load_personas()
    style = style_for(model)
    run = _PanelRun(
        model=model,
        personas=personas,
        versions={p.slug: prompt_version(p, style) for p in personas},
        names=catalog_tool_names(),
        force=force,
        temperature=temperature,
        seed=seed,
    )
    outcomes: list[ReviewOutcome] = []
    tools = tools_for_review(tool_ids)
    dossiers = build_dossiers(tools)
    for tool in tools:
        dossier = dossiers[tool.pk]
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
