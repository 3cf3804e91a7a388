"""The periodic job: re-read tools' own pages every ``TOOLVERDICT_ENRICH_EVERY_DAYS``.

State-driven like every periodic job here: due-ness is read from each tool's
``Enrichment.ran_at``; a claim (``claimed_at``) keeps two schedulers from queueing the same
tools, and a claim older than an hour (its worker died) is claimable again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.core.scheduling import periodic_job

from .models import Enrichment
from .tasks import enrich_claimed

CLAIM_LEASE = dt.timedelta(hours=1)


def claim_due(now: dt.datetime, limit: int | None = None) -> list[int]:
    """Claim up to ``limit`` published tools never enriched or not for the set days."""
    limit = settings.TOOLVERDICT_ENRICH_PER_RUN if limit is None else limit
    due_before = now - dt.timedelta(days=settings.TOOLVERDICT_ENRICH_EVERY_DAYS)
    free = Q(enrichment__claimed_at__isnull=True) | Q(enrichment__claimed_at__lt=now - CLAIM_LEASE)
    due = Q(enrichment__isnull=True) | (
        (Q(enrichment__ran_at__isnull=True) | Q(enrichment__ran_at__lt=due_before)) & free
    )
    with transaction.atomic():
        ids = list(
            Tool.objects.published()
            .filter(due)
            .order_by("enrichment__ran_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        for pk in ids:
            Enrichment.objects.get_or_create(tool_id=pk)
        claimed = Enrichment.objects.filter(tool_id__in=ids).filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
        )
        ids = list(claimed.values_list("tool_id", flat=True))
        claimed.update(claimed_at=now)
    return ids


@periodic_job
def tick(now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    ids = claim_due(now)
    if not ids:
        return "enrich: nothing due"
    enrich_claimed.enqueue(ids)
    return f"enrich: {len(ids)} tool(s) queued"
