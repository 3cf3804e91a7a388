"""Who may run a day: the runner's worker heartbeat decides, never a clock.

A day's run records its runner (the id of its task). It is taken over at once when that
task's worker is dead, never while it lives however long it runs; the recovery step
releases only the dead task's own day; the daily job requeues a day only when its task is
gone from the queue.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.catalog.models import Category
from toolverdict.core import recovery
from toolverdict.core.models import WorkerHeartbeat
from toolverdict.ingest import candidates, periodic
from toolverdict.ingest.models import Feed, FeedEntry, PipelineRun, RunStatus
from toolverdict.ingest.pipeline import claim_run
from toolverdict.ingest.tasks import run_daily_pipeline

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 24)
MORNING = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def fast(fast_workers):
    """The database queue; heartbeats every second, a worker dead after three."""
    fast_workers.TOOLVERDICT_INGEST_HOUR = 6
    return fast_workers


def worker(worker_id: str, *, beat_ago: float = 0) -> WorkerHeartbeat:
    at = timezone.now() - dt.timedelta(seconds=beat_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, host="another-machine", pid=1, started_at=at, beat_at=at
    )


def running(day: dt.date, worker_id: str) -> DBTaskResult:
    result = run_daily_pipeline.enqueue(day.isoformat())
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=[worker_id]
    )
    return DBTaskResult.objects.get(pk=result.id)


def held(day: dt.date, task: DBTaskResult, *, ago: float = 0) -> PipelineRun:
    return PipelineRun.objects.create(
        day=day,
        status=RunStatus.RUNNING,
        runner=str(task.pk),
        started_at=timezone.now() - dt.timedelta(seconds=ago),
        attempts=1,
    )


def day_tasks() -> list[str]:
    return list(
        DBTaskResult.objects.filter(task_path=run_daily_pipeline.module_path).values_list(
            "status", flat=True
        )
    )


def test_a_day_whose_runner_died_is_taken_over_at_once(fast):
    """Started a minute ago, its worker (on another machine) stopped beating: no stale
    window to wait out."""
    worker("gone", beat_ago=10)
    held(DAY, running(DAY, "gone"), ago=60)
    run = claim_run(DAY)
    assert run is not None and run.attempts == 2
    assert run.runner.startswith(recovery.UNTRACKED)  # claimed here, outside any task


def test_a_day_run_by_a_live_worker_is_never_taken_over_however_long(fast):
    worker("busy", beat_ago=0.5)
    task = running(DAY, "busy")
    held(DAY, task, ago=2 * 24 * 3600)
    assert claim_run(DAY) is None
    assert periodic.tick(MORNING) == "ingest 2026-11-24: running"
    # Its entries without a candidate are its own, not adopted by another day's run.
    category = Category.objects.create(slug="developer-tools", name="Developer tools")
    feed = Feed.objects.create(name="F", url="https://f.example/feed", category=category)
    entry = FeedEntry.objects.create(feed=feed, guid="g", title="T", link="https://t.example/")
    FeedEntry.objects.filter(pk=entry.pk).update(run=PipelineRun.objects.get(day=DAY))
    other = PipelineRun.objects.create(day=DAY + dt.timedelta(days=1), status=RunStatus.RUNNING)
    assert candidates.adopt_orphan_entries(other) == 0
    # Dead now: adopted, and the day can be claimed.
    WorkerHeartbeat.objects.filter(pk="busy").update(lost_at=timezone.now())
    assert candidates.adopt_orphan_entries(other) == 1
    assert claim_run(DAY) is not None
    assert day_tasks() == [TaskResultStatus.RUNNING]  # the dead task: recovery's to requeue


def test_the_recovery_step_releases_only_the_dead_tasks_own_day(fast):
    worker("gone", beat_ago=10)
    lost = running(DAY, "gone")
    held(DAY, lost)
    recovery.recover_lost_tasks()
    assert PipelineRun.objects.get(day=DAY).status == RunStatus.QUEUED
    # A day another running task took over stays with that task.
    PipelineRun.objects.filter(day=DAY).delete()
    DBTaskResult.objects.filter(pk=lost.pk).update(
        status=TaskResultStatus.RUNNING, worker_ids=["gone", "gone-too"]
    )
    worker("gone-too", beat_ago=10)
    worker("busy", beat_ago=0.5)
    taker = running(DAY, "busy")
    held(DAY, taker)
    assert recovery.recover_lost_tasks().requeued == 1
    run = PipelineRun.objects.get(day=DAY)
    assert (run.status, run.runner) == (RunStatus.RUNNING, str(taker.pk))


def test_the_daily_job_queues_a_day_again_only_when_its_task_is_gone(fast):
    """A queued day whose task waits in the queue (no worker for hours) is not queued a
    second time; one whose task vanished (lost between the claim and the enqueue, a purged
    queue) is queued again at the next tick, not hours later."""
    assert periodic.tick(MORNING) == "ingest 2026-11-24: queued"
    assert day_tasks() == [TaskResultStatus.READY]
    PipelineRun.objects.filter(day=DAY).update(queued_at=MORNING - dt.timedelta(hours=5))
    assert periodic.tick(MORNING) == "ingest 2026-11-24: queued"
    assert day_tasks() == [TaskResultStatus.READY]
    DBTaskResult.objects.all().delete()
    PipelineRun.objects.filter(day=DAY).update(queued_at=MORNING - dt.timedelta(minutes=1))
    assert periodic.tick(MORNING) == "ingest 2026-11-24: queued"
    assert day_tasks() == [TaskResultStatus.READY]


def test_the_daily_job_leaves_a_dead_workers_day_to_the_recovery_step(fast):
    """Its task is still there (running on a dead worker): the recovery step requeues that
    one, in place, rather than the job queueing a second."""
    worker("gone", beat_ago=10)
    held(DAY, running(DAY, "gone"), ago=60)
    assert periodic.tick(MORNING) == "ingest 2026-11-24: running"
    assert day_tasks() == [TaskResultStatus.RUNNING]
    recovery.recover_lost_tasks()
    assert PipelineRun.objects.get(day=DAY).status == RunStatus.QUEUED
    assert periodic.tick(MORNING) == "ingest 2026-11-24: queued"
    assert day_tasks() == [TaskResultStatus.READY]


@pytest.mark.django_db(transaction=True)
def test_the_command_runs_the_day_as_a_one_task_worker(fast, monkeypatch):
    """`toolverdict ingest` claims the task the daily job queued (no second one) and runs it
    under a heartbeat of its own, so task_alive sees it while it runs."""
    seen: list[bool] = []

    def feeds_read(feeds):
        mine = recovery.current_task_id
        seen.append(recovery.task_alive(run_daily_pipeline, DAY.isoformat()))
        recovery.current_task_id = None  # as any other process sees it
        try:
            seen.append(recovery.task_alive(run_daily_pipeline, DAY.isoformat()))
        finally:
            recovery.current_task_id = mine
        return []

    monkeypatch.setattr("toolverdict.ingest.pipeline.read_feeds", feeds_read)
    queued = run_daily_pipeline.enqueue(DAY.isoformat())
    out = io.StringIO()
    call_command("ingest", "--date", DAY.isoformat(), stdout=out)
    assert "pipeline 2026-11-24: done (attempt 1)" in out.getvalue()
    assert seen == [False, True]  # alive to others; to itself, not "another process"
    (row,) = DBTaskResult.objects.all()
    assert str(row.pk) == queued.id and row.status == TaskResultStatus.SUCCESSFUL
    (beat,) = WorkerHeartbeat.objects.all()
    assert row.worker_ids == [beat.worker_id] and beat.stopped_at is not None
    assert PipelineRun.objects.get(day=DAY).runner == str(row.pk)
