"""The daily pipeline: feeds to candidates, candidates to the catalog, panel, comparisons.

The daily pipeline is a sequence of stages, each driven by database state so that a crash
half way, a second tick or a re-run of the same day repeats no work:

1. **ingest**   read every active feed; store entries not seen before (unique per feed).
2. **dedupe**   turn this run's new entries, and any earlier run's entries left without a
                candidate, into candidates; mark those already known.
3. **import**   new candidates enter the catalog through the catalog importer (hidden).
4. **review**   the panel reviews the new tools and the tools changed since the last run.
5. **compare**  each new tool gets its most similar published rival in its category.
6. **publish**  the new tools become visible, with their panel and their "A vs B" page.

Feeds are fetched before any transaction opens (network time never holds the SQLite
write lock) and one feed's failure is recorded against that feed, never the run.

A day's run is core's long job (docs/operations.md, "Long jobs that survive a crash"): it
runs as the task ``run_daily_pipeline`` (ingest/tasks.py), queued by the daily job or run
by ``toolverdict ingest`` as a one-task worker of its own; ``claim_run`` claims the day
with one conditional UPDATE recording the task's id, takes a running day over only when
no live process runs it (``core.recovery.task_alive``), and the recovery step releases a
dead worker's day (``on_release``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import dedupe
from .candidates import dedupe_entries, import_candidates, read_feeds, store_entries
from .models import Feed, PipelineRun, RunStatus
from .publishing import (
    changed_since_last_run,
    choose_comparison,
    enrich,
    publish,
    review,
    run_tool_ids,
)

log = logging.getLogger(__name__)


STAGES = ("ingest", "dedupe", "import", "review", "compare", "publish")


def get_run(day: dt.date) -> PipelineRun:
    """The day's run record, created once (the unique day settles concurrent creators)."""
    try:
        with transaction.atomic():
            run, _ = PipelineRun.objects.get_or_create(day=day)
    except IntegrityError:
        run = PipelineRun.objects.get(day=day)
    return run


def run_alive(run: PipelineRun) -> bool:
    """True while whoever runs this (running) day may still be at work on it: a live
    process runs its task, however long it has been (ingest/tasks.py)."""
    from .tasks import runner_alive

    return runner_alive(run)


def claim_run(day: dt.date, *, again: bool = False) -> PipelineRun | None:
    """Mark the day's run as running, unless it is done (or running and its runner alive).

    One UPDATE … WHERE decides, so two workers given the same day cannot both run it. A
    running day is taken over only when its runner is not alive (``run_alive``): at once
    when its worker died, never while it lives, however long the run takes.
    """
    from toolverdict.core.recovery import holder_id

    run = get_run(day)
    claimable = Q(status__in=[RunStatus.QUEUED, RunStatus.FAILED])
    if run.status == RunStatus.RUNNING and not run_alive(run):
        # The same UPDATE, on the runner just read: of two takers, one wins.
        claimable |= Q(status=RunStatus.RUNNING, runner=run.runner, started_at=run.started_at)
    if again:
        claimable |= Q(status=RunStatus.DONE)
    with transaction.atomic():
        claimed = (
            PipelineRun.objects.filter(pk=run.pk)
            .filter(claimable)
            .update(
                status=RunStatus.RUNNING,
                started_at=timezone.now(),
                runner=holder_id(),
                attempts=F("attempts") + 1,
                error="",
            )
        )
    if not claimed:
        return None
    run.refresh_from_db()
    return run


def run_pipeline(
    day: dt.date | None = None,
    *,
    again: bool = False,
    model: Any = None,
    embedder: dedupe.Embedder | None = None,
) -> PipelineRun:
    """Run (or resume) the day's pipeline and return its record.

    A day that is done is left alone unless ``again``; even then only entries never seen
    before are ingested, so nothing is imported twice.
    """
    day = day or timezone.now().date()
    run = claim_run(day, again=again)
    if run is None:
        return get_run(day)
    try:
        active = list(Feed.objects.filter(is_active=True).order_by("pk"))
        store_entries(run, read_feeds(active))
        dedupe_entries(run, embedder)
        import_candidates(run)
        new_ids = run_tool_ids(run)
        # The new tools' own pages first, so the panel reads their prices and licence.
        enriched = enrich(new_ids)
        fresh = set(new_ids)
        changed = [pk for pk in changed_since_last_run(run) if pk not in fresh]
        reviewed, note = review(new_ids + changed, model=model)
        note = "; ".join(part for part in (enriched, note) if part)[:500]
        with transaction.atomic():
            PipelineRun.objects.filter(pk=run.pk).update(
                reviewed=reviewed, panel_note=note, stage="review"
            )
        choose_comparison(new_ids, day, run=run, embedder=embedder)
        published = publish(new_ids)
        with transaction.atomic():
            PipelineRun.objects.filter(pk=run.pk, runner=run.runner).update(
                published=F("published") + published,
                stage="publish",
                status=RunStatus.DONE,
                finished_at=timezone.now(),
            )
    except Exception as exc:
        log.exception("pipeline for %s failed", day)
        with transaction.atomic():
            PipelineRun.objects.filter(pk=run.pk, runner=run.runner).update(
                status=RunStatus.FAILED,
                finished_at=timezone.now(),
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
    run.refresh_from_db()
    return run
