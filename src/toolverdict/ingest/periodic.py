"""The periodic jobs: start the day's pipeline once the day's run hour has come (``tick``),
and queue the checks of the sources due one (``check_sources``).

State-driven like every periodic job here: whether the day's run is due, queued, running,
done or failed is read from its PipelineRun row, so a missed or doubled tick is harmless.
No clock decides that a run is dead: a run whose worker died is the recovery step's to
requeue (core/recovery.py, with ``release_daily_pipeline``); this job only queues a day
whose task is gone from the queue altogether.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from toolverdict.catalog.models import Source
from toolverdict.catalog.sources import due_filter, sync_sources
from toolverdict.core.foreground import uses_database_queue
from toolverdict.core.recovery import task_queued
from toolverdict.core.scheduling import periodic_job

from .models import PipelineRun, RunStatus
from .pipeline import get_run, run_alive
from .tasks import check_due_sources, run_daily_pipeline

MAX_ATTEMPTS = 3
# A failed day waits this long before its next attempt: a transient fault (a full disk,
# a database restart) gets time to clear instead of using up the attempts in minutes.
RETRY_AFTER = dt.timedelta(minutes=15)
# Failed days older than this are not retried (their entries still reach later runs).
RETRY_DAYS = dt.timedelta(days=7)


def _due(now: dt.datetime) -> Q:
    # Due: new, or failed with tries left (after a pause).
    return Q(status=RunStatus.QUEUED, queued_at__isnull=True) | (
        Q(status=RunStatus.FAILED, attempts__lt=MAX_ATTEMPTS)
        & (Q(finished_at__isnull=True) | Q(finished_at__lt=now - RETRY_AFTER))
    )


def _lost(run: PipelineRun) -> Q | None:
    """A queued or running day whose task is gone: no run of it waits in the queue or
    runs (a dead worker's task counts until the recovery step requeues it), and nobody
    who may be alive holds the day. That happens when the queue lost the task (a crash
    between a claim and its enqueue, a purged queue) or when a runner died outside any
    task. Matched on the state just read, so of two schedulers one requeues it."""
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return None
    queued = task_queued(run_daily_pipeline, run.day.isoformat())
    if queued or (queued is None and run.status == RunStatus.QUEUED):
        return None  # waiting or running; or, without a database queue, nothing to check
    if run.status == RunStatus.RUNNING and run_alive(run):
        return None
    return Q(status=run.status, queued_at=run.queued_at, started_at=run.started_at)


def _claim(run: PipelineRun, now: dt.datetime) -> bool:
    """One UPDATE … WHERE decides, so two schedulers cannot both queue the same day; the
    task is queued in the same transaction.

    A run whose runner is alive is never due, however long it has been running.
    """
    due = _due(now)
    lost = _lost(run)
    if lost is not None:
        due |= lost
    # The database queue takes the task in the claim's transaction (the day is never
    # queued without it); another backend may run it at once, so only after the commit.
    in_claim = uses_database_queue(run_daily_pipeline)
    with transaction.atomic():
        claimed = (
            PipelineRun.objects.filter(pk=run.pk)
            .filter(due)
            .update(queued_at=now, status=RunStatus.QUEUED)
        )
        if claimed and in_claim:
            run_daily_pipeline.enqueue(run.day.isoformat())
    if claimed and not in_claim:
        run_daily_pipeline.enqueue(run.day.isoformat())
    return bool(claimed)


@periodic_job
def tick(now: dt.datetime | None = None) -> str:
    """Queue the day's pipeline if it is due, and retry recent failed days that have
    attempts left; returns what it found, for the scheduler log."""
    now = now or timezone.now()
    if now.hour < settings.TOOLVERDICT_INGEST_HOUR:
        return f"ingest: not before {settings.TOOLVERDICT_INGEST_HOUR:02d}:00 UTC"
    day = now.date()
    run = get_run(day)
    if _claim(run, now):
        report = f"ingest {day}: queued"
    else:
        run.refresh_from_db()
        report = f"ingest {day}: {run.status}"
    # An earlier day that failed (a crash after it imported tools, which then stay
    # hidden) is resumed by its own retry; its stored entries are also adopted by any
    # later run, so nothing is lost once its attempts are used up.
    earlier = PipelineRun.objects.filter(
        day__lt=day,
        day__gte=day - RETRY_DAYS,
        status=RunStatus.FAILED,
        attempts__lt=MAX_ATTEMPTS,
    ).order_by("day")
    retried = [str(old.day) for old in earlier if _claim(old, now)]
    if retried:
        report += f"; retrying {', '.join(retried)}"
    return report


@periodic_job
def check_sources(now: dt.datetime | None = None) -> str:
    """Queue the checking task when sources are due a check (never checked, or not for
    ``TOOLVERDICT_SOURCES_RECHECK_DAYS``) and no run of it is queued or running; the task
    claims its batch itself (ingest/tasks.py: ``check_due_sources``)."""
    now = now or timezone.now()
    sync_sources()
    if not Source.objects.filter(due_filter(now)).exists():
        return "sources: nothing due"
    if task_queued(check_due_sources):
        return "sources: a batch is queued or running"
    check_due_sources.enqueue()
    return "sources: batch queued"
