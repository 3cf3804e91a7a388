"""Background tasks (queue "ingest"): enrich a batch of due tools."""

from __future__ import annotations

from django_tasks import task

from toolverdict.core.recovery import on_release, release_claims


@task(queue_name="ingest")
def enrich_due() -> str:
    """Claim the tools due a re-read and enrich them; storing each releases its claim."""
    from .periodic import claim_due
    from .services import enrich_ids

    ids = claim_due()
    if not ids:
        return "enrich: nothing to claim (nothing due, or another run is at work)"
    reports = enrich_ids(ids)
    values = sum(len(r.stored.prices) + len(r.stored.facts) for r in reports if r.stored)
    return f"enriched {len(reports)} tool(s), {values} value(s) extracted"


@on_release(enrich_due)
def release_enrichment_claims(args: list, kwargs: dict, final: bool) -> None:
    """The run's worker died or was stopped: its claims go (only its own), so the next run
    takes those tools at once."""
    from .models import Enrichment

    release_claims(enrich_due, Enrichment.objects.all())
