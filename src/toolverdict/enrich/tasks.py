"""Background tasks (queue "ingest"): enrich a batch of tools."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="ingest")
def enrich_claimed(tool_ids: list[int]) -> str:
    """Enrich tools the periodic job claimed; storing each releases its claim."""
    from .services import enrich_ids

    reports = enrich_ids(tool_ids)
    values = sum(len(r.stored.prices) + len(r.stored.facts) for r in reports if r.stored)
    return f"enriched {len(reports)} tool(s), {values} value(s) extracted"
