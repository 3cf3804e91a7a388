"""From imported to published: the panel reviews the new and changed tools, each new tool
gets its most similar published rival for a comparison page, then the tools go live.

Stages 4 to 6 of the daily pipeline (pipeline.py), also used after a submission is
approved (submissions.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.catalog.services import canonical_pair, set_published

from . import dedupe
from .arrivals import arrived
from .candidates import tool_items
from .models import Candidate, CandidateStatus, DailyComparison, PipelineRun, RunStatus

log = logging.getLogger(__name__)


def panel_reviewer() -> Callable[..., Any] | None:
    """The panel's ``review_tools`` when the panel app provides it."""
    from toolverdict.panel import services as panel_services

    return getattr(panel_services, "review_tools", None)


def review(tool_ids: Sequence[int], model: Any = None) -> tuple[int, str]:
    """Run the panel on ``tool_ids``; returns (tools reviewed, a note for the run record).

    A panel failure is recorded, not raised: the tools still get published, and the
    panel's own queue reviews them later.
    """
    if not tool_ids:
        return 0, ""
    reviewer = panel_reviewer()
    if reviewer is None:
        return 0, "panel unavailable"
    limit = settings.TOOLVERDICT_INGEST_REVIEW_LIMIT
    now_ids, later_ids = list(tool_ids[:limit]), list(tool_ids[limit:])
    notes = []
    try:
        outcomes = reviewer(now_ids, model=model)
    except Exception as exc:  # noqa: BLE001 - recorded on the run; publishing goes on
        log.exception("panel review failed for %s", now_ids)
        return 0, f"panel failed: {type(exc).__name__}: {str(exc)[:300]}"
    # The panel reports one outcome per persona review; say how many failed, if any.
    failed = sum(1 for o in outcomes or [] if getattr(o, "status", "") == "failed")
    if failed:
        notes.append(f"{failed} persona reviews failed")
    if later_ids:
        from toolverdict.panel import services as panel_services

        enqueue = getattr(panel_services, "enqueue_panel", None)
        try:
            if enqueue is None:
                raise LookupError("the panel has no queue")
            enqueue(later_ids)
            notes.append(f"{len(later_ids)} more tools left to the panel queue")
        except Exception as exc:  # noqa: BLE001 - recorded; the next run reviews them
            log.exception("could not queue the panel for %s", later_ids)
            notes.append(f"{len(later_ids)} tools over the review limit not queued: {exc}")
    return len(now_ids), "; ".join(notes)[:500]


def enrich(tool_ids: Sequence[int]) -> str:
    """What the apps registered for arriving tools (``arrivals.py``; the enrichment reads
    their own pages) runs before the panel sees them; returns a note for the run record."""
    return arrived(tool_ids)


def run_tool_ids(run: PipelineRun) -> list[int]:
    """Tools this run brought into the catalog."""
    return list(
        Candidate.objects.filter(run=run, status=CandidateStatus.IMPORTED, tool__isnull=False)
        .order_by("pk")
        .values_list("tool_id", flat=True)
    )


def changed_since_last_run(run: PipelineRun) -> list[int]:
    """Tools created or changed (import, admin, approved submissions) since the previous
    finished run started; none on the very first run (the catalog import has its own)."""
    previous = (
        PipelineRun.objects.filter(day__lt=run.day, status=RunStatus.DONE).order_by("-day").first()
    )
    if previous is None or previous.started_at is None:
        return []
    # The previous run's own new tools were reviewed by it, unless edited since it ended.
    its_own = Q(pk__in=run_tool_ids(previous)) & Q(
        updated_at__lt=previous.finished_at or timezone.now()
    )
    return list(
        Tool.objects.filter(updated_at__gte=previous.started_at, is_published=True)
        .exclude(its_own)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rivals_in_category(
    group: list[Tool], category_id: int, exclude: Sequence[int], embedder: dedupe.Embedder
) -> list[tuple[Tool, int, float]]:
    """(tool, rival id, similarity) for each tool of one category that has a rival: the most
    similar published tool of the category, none of ``exclude``."""
    pool = list(
        Tool.objects.published()
        .filter(category_id=category_id)
        .exclude(pk__in=exclude)
        .values_list("pk", "name", "homepage", "tagline")
    )
    rivals = dedupe.best_rivals(
        tool_items([(t.pk, t.name, t.homepage, t.tagline) for t in group]),
        tool_items(pool),
        embedder,
    )
    return [
        (tool, rival[0], rival[1])
        for tool, rival in zip(group, rivals, strict=True)
        if rival is not None
    ]


def choose_comparison(
    tool_ids: Sequence[int],
    day: dt.date,
    *,
    run: PipelineRun | None = None,
    source: str = "pipeline",
    embedder: dedupe.Embedder | None = None,
) -> list[DailyComparison]:
    """Pair each tool with the most similar published tool of its category.

    A tool already paired (on any day) keeps its pair, so repeating this changes nothing.
    """
    already = set(
        DailyComparison.objects.filter(tool_id__in=tool_ids).values_list("tool_id", flat=True)
    )
    tools = list(Tool.objects.filter(pk__in=tool_ids).exclude(pk__in=already).order_by("pk"))
    if not tools:
        return []
    embedder = embedder or dedupe.get_embedder()  # loaded only when there is work
    by_category: dict[int, list[Tool]] = defaultdict(list)
    for tool in tools:
        by_category[tool.category_id].append(tool)
    made: list[DailyComparison] = []
    for category_id, group in by_category.items():
        paired = _rivals_in_category(group, category_id, tool_ids, embedder)
        slugs = dict(
            Tool.objects.filter(pk__in=[rival_id for _, rival_id, _ in paired]).values_list(
                "pk", "slug"
            )
        )
        for tool, rival_id, similarity in paired:
            left, right = canonical_pair(tool.slug, slugs[rival_id])
            made.append(
                DailyComparison(
                    day=day,
                    run=run,
                    source=source,
                    tool=tool,
                    rival_id=rival_id,
                    similarity=similarity,
                    left_slug=left,
                    right_slug=right,
                )
            )
    with transaction.atomic():
        DailyComparison.objects.bulk_create(made, ignore_conflicts=True)
    return made


def publish(tool_ids: Sequence[int]) -> int:
    """Make the run's new tools visible; returns how many changed."""
    with transaction.atomic():
        return set_published(list(tool_ids), True)
