"""The periodic job: re-read tools' own pages every ``TOOLVERDICT_ENRICH_EVERY_DAYS``.

State-driven like every periodic job here: due-ness is read from each tool's
``Enrichment.ran_at``. The job follows core's long-job pattern (docs/operations.md): the
tick only queues the batch task (``enrich_due``) when tools are due and no run of it is
queued or running; the task claims its tools itself, recording its own task id
(``claimed_by``); a claim is taken over at once when its run's worker is dead and never
while it lives (``core.recovery.claims_free``), and the recovery step lets go of a dead
run's claims (``release_claims``, registered in tasks.py).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.core.recovery import claims_free, holder_id, task_queued
from toolverdict.core.scheduling import periodic_job

from .models import Enrichment
from .tasks import enrich_due


def _due(now: dt.datetime) -> Q:
    due_before = now - dt.timedelta(days=settings.TOOLVERDICT_ENRICH_EVERY_DAYS)
    return (
        Q(enrichment__isnull=True)
        | Q(enrichment__ran_at__isnull=True)
        | Q(enrichment__ran_at__lt=due_before)
    )


def due_ids(now: dt.datetime, limit: int) -> list[int]:
    """Published tools never enriched or not for the set days, longest waiting first."""
    return list(
        Tool.objects.published()
        .filter(_due(now))
        .order_by("enrichment__ran_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def claim_due(now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    """Claim up to ``limit`` due tools for this run of ``enrich_due``; none while another
    run of it is at work on a live worker. One conditional UPDATE decides."""
    now = now or timezone.now()
    limit = settings.TOOLVERDICT_ENRICH_PER_RUN if limit is None else limit
    free = claims_free(enrich_due)
    if free is None:
        return []
    me = holder_id()
    with transaction.atomic():
        ids = due_ids(now, limit * 3)
        Enrichment.objects.bulk_create(
            [Enrichment(tool_id=pk) for pk in ids], ignore_conflicts=True
        )
        candidates = Enrichment.objects.filter(tool_id__in=ids).filter(free)
        chosen = list(candidates.order_by("ran_at", "tool_id").values_list("pk", flat=True)[:limit])
        Enrichment.objects.filter(pk__in=chosen).filter(free).update(claimed_by=me, claimed_at=now)
    return list(
        Enrichment.objects.filter(pk__in=chosen, claimed_by=me)
        .order_by("ran_at", "tool_id")
        .values_list("tool_id", flat=True)
    )


@periodic_job
def tick(now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if not due_ids(now, 1):
        return "enrich: nothing due"
    if task_queued(enrich_due):
        return "enrich: a batch is queued or running"
    enrich_due.enqueue()
    return "enrich: batch queued"
