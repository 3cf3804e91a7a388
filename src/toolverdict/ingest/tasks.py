"""Background tasks (queue "ingest"): the daily pipeline and the follow-up of an approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task

from toolverdict.core.recovery import (
    UNTRACKED,
    holder_alive,
    on_release,
    release_claims,
    running_task_ids,
    task_alive,
)


@task(queue_name="ingest")
def run_daily_pipeline(day: str, again: bool = False, model: str | None = None) -> str:
    """Run the pipeline for ``day`` (ISO date); a finished day is left alone unless
    ``again``. ``model``: the panel model for the review stage (``toolverdict ingest
    --model``)."""
    from .pipeline import run_pipeline

    run = run_pipeline(dt.date.fromisoformat(day), again=again, model=model)
    return f"{run.day}: {run.status}"


@on_release(run_daily_pipeline)
def release_daily_pipeline(args: list, kwargs: dict, final: bool) -> None:
    """The worker running ``day`` died (or was stopped): its run is no longer running.

    Back to "queued" for the requeued task to claim, or "failed" when the task is given
    up (the periodic job retries failed days, see periodic.py). Only that task's run: a
    day another running task took over, or one run outside any task, is left alone (the
    released task is no longer running when this is called).
    """
    from .models import PipelineRun, RunStatus

    day = args[0] if args else kwargs.get("day")
    runs = (
        PipelineRun.objects.filter(day=dt.date.fromisoformat(day), status=RunStatus.RUNNING)
        .exclude(runner__startswith=UNTRACKED)
        .exclude(runner__in=running_task_ids(run_daily_pipeline))
    )
    if final:
        runs.update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error="the worker running this day's pipeline died repeatedly",
        )
    else:
        runs.update(status=RunStatus.QUEUED, queued_at=timezone.now())


def running_elsewhere(day: dt.date) -> bool:
    """True while another live process (a worker, or `toolverdict ingest`) runs this day's
    pipeline task, however long it takes."""
    return task_alive(run_daily_pipeline, day.isoformat())


def runner_alive(run: Any) -> bool:
    """True while whoever runs this running day may still be at work on it: a live
    process runs its task; or it runs outside any task (``run_pipeline`` called directly,
    or a task backend other than the database's) and started less than
    ``TOOLVERDICT_TASK_ORPHAN_AFTER`` ago, as nothing can tell whether that lives."""
    return holder_alive(
        run_daily_pipeline, run.day.isoformat(), holder=run.runner, since=run.started_at
    )


@task(queue_name="ingest")
def follow_up_tool(tool_id: int) -> str:
    """Panel review and comparison for a tool an editor just approved."""
    from .submissions import follow_up

    reviewed, note, made = follow_up(tool_id)
    return f"reviewed {reviewed}, comparisons {len(made)}" + (f" ({note})" if note else "")


@task(queue_name="ingest")
def check_due_sources() -> str:
    """Claim a batch of the sources due a check (this run's task id is the claim's holder)
    and check them; recording each releases its claim. Claims nothing while another run is
    at work on a live worker (core.recovery.claims_free)."""
    from toolverdict.catalog.sources import claim_due, record
    from toolverdict.core.recovery import claims_free, holder_id

    from .source_checks import check_urls

    urls = claim_due(claims_free(check_due_sources), holder_id())
    if not urls:
        return "sources: nothing to claim (nothing due, or another run is at work)"
    results = check_urls(urls)
    changed = record(results)
    ok = sum(r.outcome == "ok" for r in results)
    return f"checked {len(results)} source(s): {ok} reachable, {len(changed)} changed status"


@on_release(check_due_sources)
def release_source_claims(args: list, kwargs: dict, final: bool) -> None:
    """The run's worker died or was stopped: its claims go (only its own), so the next run
    checks those sources at once."""
    from toolverdict.catalog.models import Source

    release_claims(check_due_sources, Source.objects.all())
