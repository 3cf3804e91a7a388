"""The periodic jobs: start the day's pipeline once the day's run hour has come (``tick``),
and queue the checks of the sources due one (``check_sources``).

State-driven like every periodic job here: whether the day's run is due, queued, running,
done or failed is read from its PipelineRun row, so a missed or doubled tick is harmless.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from toolverdict.catalog.sources import claim_due, sync_sources
from toolverdict.core.scheduling import periodic_job

from .models import PipelineRun, RunStatus
from .pipeline import get_run
from .tasks import check_claimed_sources, run_daily_pipeline, running_elsewhere

MAX_ATTEMPTS = 3
# A failed day waits this long before its next attempt: a transient fault (a full disk,
# a database restart) gets time to clear instead of using up the attempts in minutes.
RETRY_AFTER = dt.timedelta(minutes=15)
# Failed days older than this are not retried (their entries still reach later runs).
RETRY_DAYS = dt.timedelta(days=7)


def _due(now: dt.datetime) -> Q:
    stale = now - dt.timedelta(seconds=settings.TOOLVERDICT_INGEST_STALE_AFTER)
    # Due: new, queued but never picked up, failed with tries left (after a pause), or
    # running but dead.
    return (
        Q(status=RunStatus.QUEUED, queued_at__isnull=True)
        | Q(status=RunStatus.QUEUED, queued_at__lt=stale)
        | (
            Q(status=RunStatus.FAILED, attempts__lt=MAX_ATTEMPTS)
            & (Q(finished_at__isnull=True) | Q(finished_at__lt=now - RETRY_AFTER))
        )
        | Q(status=RunStatus.RUNNING, started_at__lt=stale)
    )


def _claim(run: PipelineRun, now: dt.datetime) -> bool:
    """One UPDATE … WHERE decides, so two schedulers cannot both queue the same day.

    A run that a live worker is running is never due, however long it has been running.
    """
    due = _due(now)
    if run.status == RunStatus.RUNNING and running_elsewhere(run.day):
        due &= ~Q(status=RunStatus.RUNNING)
    with transaction.atomic():
        claimed = (
            PipelineRun.objects.filter(pk=run.pk)
            .filter(due)
            .update(queued_at=now, status=RunStatus.QUEUED)
        )
    if claimed:
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
    """Claim the sources due a check (never checked, or not for
    ``TOOLVERDICT_SOURCES_RECHECK_DAYS``) and queue one task that checks them; one batch
    is out at a time (catalog/sources.py: ``claim_due``)."""
    now = now or timezone.now()
    sync_sources()
    urls = claim_due(now)
    if not urls:
        return "sources: nothing due"
    check_claimed_sources.enqueue(urls)
    return f"sources: checking {len(urls)}"
