"""Background tasks (Django Tasks API; ``db_worker`` runs them from the "panel" queue)."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="panel")
def review_tool(tool_id: int) -> dict[str, int]:
    """Run the panel for one tool; unchanged reviews are reused, so a repeat is free."""
    from .services import review_tools

    outcomes = review_tools([tool_id])
    counts: dict[str, int] = {"tool_id": tool_id, "reused": sum(o.reused for o in outcomes)}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts
