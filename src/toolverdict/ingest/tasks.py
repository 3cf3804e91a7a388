"""Background tasks (queue "ingest"): the daily pipeline and the follow-up of an approval."""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task(queue_name="ingest")
def run_daily_pipeline(day: str) -> str:
    """Run the pipeline for ``day`` (ISO date); a finished day is left alone."""
    from .services import run_pipeline

    run = run_pipeline(dt.date.fromisoformat(day))
    return f"{run.day}: {run.status}"


@task(queue_name="ingest")
def follow_up_tool(tool_id: int) -> str:
    """Panel review and comparison for a tool an editor just approved."""
    from .services import follow_up

    reviewed, note, made = follow_up(tool_id)
    return f"reviewed {reviewed}, comparisons {len(made)}" + (f" ({note})" if note else "")
