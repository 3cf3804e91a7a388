"""Background tasks of the catalog (queue "ingest": network work): source checks."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="ingest")
def check_claimed_sources(urls: list[str]) -> str:
    """Check a batch the periodic job claimed; recording the results releases the claim."""
    from .sources import check_urls, record

    results = check_urls(urls)
    changed = record(results)
    ok = sum(r.outcome == "ok" for r in results)
    return f"checked {len(results)} source(s): {ok} reachable, {len(changed)} changed status"
