"""Work recovery: heartbeats, requeueing a dead worker's task, the fence, the backlog job.

The in-process tests drive core/recovery.py, core/heartbeat.py and the panel's backlog job
(panel/periodic.py) against hand-made queue rows; the integration
tests at the end run real `toolverdict worker` processes and kill them with SIGKILL and
SIGTERM.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.catalog.models import Fact, Tool
from toolverdict.core import recovery
from toolverdict.core.heartbeat import HandedBack, Heartbeat
from toolverdict.core.models import TaskRecovery, WorkerHeartbeat
from toolverdict.core.scheduling import periodic_jobs
from toolverdict.core.workerconf import conf
from toolverdict.ingest.models import PipelineRun, RunStatus
from toolverdict.ingest.pipeline import claim_run
from toolverdict.ingest.tasks import run_daily_pipeline
from toolverdict.panel import periodic as panel_periodic
from toolverdict.panel.models import Review
from toolverdict.panel.services import review_tools
from toolverdict.panel.tasks import outdated_tool_ids, queue_backlog, review_tool

ROOT = Path(__file__).resolve().parents[2]
DATABASE = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "panel", "digest", "ingest"],
    }
}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["panel"]}}
FAKE_MODEL = "python:tests.panel.fakes.ScriptedModel"


@pytest.fixture
def fast(settings):
    """Beats every second, stale after three; the database queue."""
    settings.TASKS = DATABASE
    settings.TOOLVERDICT_WORKER_HEARTBEAT = 1
    settings.TOOLVERDICT_WORKER_STALE_AFTER = 3
    settings.TOOLVERDICT_TASK_MAX_ATTEMPTS = 3
    settings.TOOLVERDICT_TASK_ORPHAN_AFTER = 60
    settings.TOOLVERDICT_PANEL_MODEL = FAKE_MODEL
    return settings


def worker(worker_id: str, *, beat_ago: float = 0, **fields) -> WorkerHeartbeat:
    at = timezone.now() - dt.timedelta(seconds=beat_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, host="h", pid=1, started_at=at, beat_at=at, **fields
    )


def running(task, *args, worker_id: str = "", started_ago: float = 1) -> DBTaskResult:
    result = task.enqueue(*args)
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=started_ago),
        worker_ids=[worker_id] if worker_id else [],
    )
    return DBTaskResult.objects.get(pk=result.id)


def status(row: DBTaskResult) -> str:
    return DBTaskResult.objects.values_list("status", flat=True).get(pk=row.pk)


# --- settings -------------------------------------------------------------------------


def test_the_recovery_job_runs_first_and_the_panels_backlog_after_it():
    """Registered by core's and the panel's periodic.py; recovery first, so a requeued
    review is not queued a second time by the backlog job."""
    names = [name for name, _job in periodic_jobs()]
    assert names[0] == "toolverdict.core.recovery.tick"
    assert names.index("toolverdict.panel.periodic.tick") > 0


def test_stale_threshold_is_at_least_three_beats(settings):
    settings.TOOLVERDICT_WORKER_HEARTBEAT = 10
    settings.TOOLVERDICT_WORKER_STALE_AFTER = 12  # too close: a slow beat would look dead
    c = conf()
    assert c.stale_after == 30
    assert c.lease == 20  # a worker trusts its last beat one beat less than others wait


# --- recovery -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dead_workers_task_is_requeued_in_place_and_a_live_ones_is_left_alone(fast):
    worker("dead", beat_ago=10)
    worker("alive", beat_ago=0.5)
    lost = running(review_tool, 1, worker_id="dead")
    busy = running(review_tool, 2, worker_id="alive")

    recovered = recovery.recover_lost_tasks()

    assert (recovered.lost_workers, recovered.requeued, recovered.failed) == (1, 1, 0)
    assert status(lost) == TaskResultStatus.READY  # same task id, back in the queue
    assert status(busy) == TaskResultStatus.RUNNING
    assert WorkerHeartbeat.objects.get(pk="dead").lost_at is not None
    assert WorkerHeartbeat.objects.get(pk="alive").lost_at is None
    assert list(TaskRecovery.objects.values_list("task_id", "worker_id", "action")) == [
        (lost.pk, "dead", "requeued")
    ]
    # A second pass finds nothing more to do.
    assert recovery.recover_lost_tasks().requeued == 0


@pytest.mark.django_db
def test_a_stopped_workers_task_is_requeued_without_waiting_for_staleness(fast):
    worker("gone", beat_ago=0, stopped_at=timezone.now())
    task = running(review_tool, 1, worker_id="gone")
    assert recovery.recover_lost_tasks().requeued == 1
    assert status(task) == TaskResultStatus.READY


@pytest.mark.django_db
def test_tasks_without_a_heartbeat_wait_for_the_orphan_bound(fast):
    """A plain db_worker's task: nothing says whether it lives, so only a long bound."""
    young = running(review_tool, 1, worker_id="plain-db-worker", started_ago=30)
    old = running(review_tool, 2, worker_id="plain-db-worker", started_ago=61)
    assert recovery.recover_lost_tasks().requeued == 1
    assert status(young) == TaskResultStatus.RUNNING
    assert status(old) == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_task_whose_workers_keep_dying_is_failed_after_the_attempts(fast):
    task = running(review_tool, 1, worker_id="w1")
    for n in range(1, 4):
        worker(f"w{n}", beat_ago=10)
        DBTaskResult.objects.filter(pk=task.pk).update(
            status=TaskResultStatus.RUNNING, worker_ids=[f"w{i}" for i in range(1, n + 1)]
        )
        recovery.recover_lost_tasks()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "toolverdict.core.recovery.WorkerLost"
    assert "died 3 times" in task.traceback and "given up" in task.traceback
    assert list(TaskRecovery.objects.order_by("at", "pk").values_list("action", flat=True)) == [
        "requeued",
        "requeued",
        "failed",
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_recoverers_requeue_each_task_once(fast):
    worker("dead", beat_ago=10)
    tasks = [running(review_tool, n, worker_id="dead") for n in range(5)]
    errors: list[BaseException] = []

    def recover() -> None:
        try:
            recovery.recover_lost_tasks()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=recover) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert TaskRecovery.objects.count() == 5
    assert {status(t) for t in tasks} == {TaskResultStatus.READY}


@pytest.mark.django_db
def test_release_task_only_hands_back_the_workers_own_task(fast):
    task = running(review_tool, 1, worker_id="me")
    assert not recovery.release_task(task.pk, "someone-else")
    assert status(task) == TaskResultStatus.RUNNING
    assert recovery.release_task(task.pk, "me")
    assert status(task) == TaskResultStatus.READY
    assert TaskRecovery.objects.get().action == "released"
    # Released runs are not counted as deaths.
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", worker_ids=["me", "w2"])
    worker("w2", beat_ago=10)
    assert recovery.recover_lost_tasks().requeued == 1


# --- heartbeat and fence --------------------------------------------------------------


class Died(Exception):
    pass


def heartbeat(worker_id: str = "hb") -> Heartbeat:
    beat = Heartbeat(worker_id, "*")

    def die(reason: str) -> None:
        raise Died(reason)

    beat.die = die
    return beat


@pytest.mark.django_db
def test_a_worker_declared_lost_stops_at_its_next_beat(fast):
    beat = heartbeat()
    beat.register()
    before = WorkerHeartbeat.objects.get(pk="hb").beat_at
    assert beat.beat()
    assert WorkerHeartbeat.objects.get(pk="hb").beat_at >= before
    WorkerHeartbeat.objects.filter(pk="hb").update(lost_at=timezone.now())
    with pytest.raises(Died, match="declared lost"):
        beat.beat()


@pytest.mark.django_db
def test_the_fence_refuses_queries_once_the_lease_is_unconfirmed(fast):
    beat = heartbeat()
    beat.register()
    with connection.execute_wrapper(beat.fence):
        assert Tool.objects.count() == 0  # confirmed just now: queries pass
        beat.confirmed -= beat.conf.lease + 0.1  # no beat has reached the database since
        with pytest.raises(Died, match="lease not confirmed"):
            Tool.objects.count()
        beat.confirmed = time.monotonic()
        beat.handing_back = True
        with pytest.raises(HandedBack):
            Tool.objects.count()


def test_the_local_lease_ends_a_beat_before_others_may_declare_the_worker_dead(settings):
    """Measured from before the beat was sent, so the worker stops first whatever the
    database's latency: stale_after - lease == one beat interval of margin."""
    settings.TOOLVERDICT_WORKER_HEARTBEAT = 10
    settings.TOOLVERDICT_WORKER_STALE_AFTER = 60
    c = conf()
    assert c.stale_after - c.lease == c.heartbeat


# --- the daily ingest run -------------------------------------------------------------


@pytest.mark.django_db
def test_a_dead_workers_ingest_run_is_released_for_the_requeued_task(fast):
    day = dt.date(2026, 11, 30)
    PipelineRun.objects.create(day=day, status=RunStatus.RUNNING, started_at=timezone.now())
    worker("dead", beat_ago=10)
    task = running(run_daily_pipeline, day.isoformat(), worker_id="dead")
    recovery.recover_lost_tasks()
    assert status(task) == TaskResultStatus.READY
    assert PipelineRun.objects.get(day=day).status == RunStatus.QUEUED
    assert claim_run(day) is not None  # the requeued task can claim it at once


@pytest.mark.django_db
def test_an_ingest_run_given_up_is_failed_so_the_daily_job_retries_it(fast):
    fast.TOOLVERDICT_TASK_MAX_ATTEMPTS = 1
    day = dt.date(2026, 11, 30)
    PipelineRun.objects.create(day=day, status=RunStatus.RUNNING, started_at=timezone.now())
    worker("dead", beat_ago=10)
    running(run_daily_pipeline, day.isoformat(), worker_id="dead")
    assert recovery.recover_lost_tasks().failed == 1
    assert PipelineRun.objects.get(day=day).status == RunStatus.FAILED


@pytest.mark.django_db
def test_a_long_ingest_run_on_a_live_worker_is_never_taken_over(fast):
    day = dt.date(2026, 11, 30)
    worker("alive", beat_ago=0.2)
    task = running(run_daily_pipeline, day.isoformat(), worker_id="alive")
    long_ago = timezone.now() - dt.timedelta(days=2)
    PipelineRun.objects.create(
        day=day, status=RunStatus.RUNNING, started_at=long_ago, runner=str(task.pk)
    )
    assert recovery.task_alive(run_daily_pipeline, day.isoformat())
    assert claim_run(day) is None  # two days running, but its worker is alive
    WorkerHeartbeat.objects.filter(pk="alive").update(lost_at=timezone.now())
    assert not recovery.task_alive(run_daily_pipeline, day.isoformat())
    assert claim_run(day) is not None
    assert status(task) == TaskResultStatus.RUNNING  # recovery's business, not claim_run's


# --- the panel backlog ----------------------------------------------------------------


@pytest.mark.django_db
def test_outdated_reviews_are_queued_by_the_periodic_job(fast, starter_catalog):
    tools = list(Tool.objects.order_by("pk")[:2])
    DBTaskResult.objects.all().delete()
    review_tools([t.pk for t in tools])
    reviewed = {t.pk for t in tools}
    # Reviewed just now with the configured model: nothing is outdated.
    assert set(outdated_tool_ids(reviewed)) == set()
    # New evidence for one tool changes its dossier: its reviews are outdated.
    Fact.objects.create(
        tool=tools[0],
        key="note",
        value="Ships a CLI",
        source_url="https://example.com/a",
        as_of=dt.date(2026, 11, 1),
    )
    assert outdated_tool_ids(reviewed) == [tools[0].pk]
    backlog = queue_backlog(outdated=True)
    queued = {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()}
    assert tools[0].pk in queued and tools[1].pk not in queued
    assert backlog.queued == Tool.objects.published().count() - 1  # the rest: never reviewed
    # The plain backlog (what `up` runs) leaves complete panels alone, as before.
    DBTaskResult.objects.all().delete()
    queue_backlog()
    assert tools[0].pk not in {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()}


@pytest.mark.django_db
def test_a_large_catalog_is_checked_for_outdated_reviews_a_slice_a_minute(
    fast, starter_catalog, monkeypatch
):
    tools = list(Tool.objects.order_by("pk")[:2])
    Tool.objects.exclude(pk__in=[t.pk for t in tools]).update(is_published=False)
    DBTaskResult.objects.all().delete()
    review_tools([t.pk for t in tools])
    Review.objects.update(dossier_hash="old")  # both outdated
    minute = {"now": 0}
    monkeypatch.setattr("toolverdict.panel.tasks.time.time", lambda: minute["now"] * 60.0)
    assert queue_backlog(outdated=True, outdated_batch=1).queued == 1
    minute["now"] = 1
    assert queue_backlog(outdated=True, outdated_batch=1).queued == 1
    assert {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()} == {t.pk for t in tools}


@pytest.mark.django_db
def test_the_periodic_job_leaves_a_recently_failed_tool_alone(fast, starter_catalog):
    tool = Tool.objects.order_by("pk").first()
    DBTaskResult.objects.all().delete()
    Review.objects.all().delete()
    done = review_tool.enqueue(tool.pk)
    DBTaskResult.objects.filter(pk=done.id).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now()
    )
    queue_backlog(outdated=True, retry_after=900)
    ready = {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()}
    assert tool.pk not in ready  # tried a moment ago: not every minute
    DBTaskResult.objects.filter(pk=done.id).update(
        finished_at=timezone.now() - dt.timedelta(seconds=901)
    )
    queue_backlog(outdated=True, retry_after=900)
    assert tool.pk in {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()}


@pytest.mark.django_db
def test_a_tool_whose_task_killed_its_workers_waits_a_day(fast, starter_catalog):
    fast.TOOLVERDICT_TASK_MAX_ATTEMPTS = 1
    tool = Tool.objects.order_by("pk").first()
    DBTaskResult.objects.all().delete()
    Review.objects.all().delete()
    worker("dead", beat_ago=10)
    task = running(review_tool, tool.pk, worker_id="dead")
    assert recovery.recover_lost_tasks().failed == 1
    DBTaskResult.objects.filter(pk=task.pk).update(
        finished_at=timezone.now() - dt.timedelta(hours=2)
    )
    queue_backlog(outdated=True, retry_after=900)
    assert tool.pk not in {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()}
    DBTaskResult.objects.filter(pk=task.pk).update(
        finished_at=timezone.now() - dt.timedelta(hours=25)
    )
    queue_backlog(outdated=True, retry_after=900)
    assert tool.pk in {r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()}


@pytest.mark.django_db
def test_the_job_recovers_then_queues_and_says_so(fast, starter_catalog):
    DBTaskResult.objects.all().delete()
    worker("dead", beat_ago=10)
    first = Tool.objects.order_by("pk").first()
    running(review_tool, first.pk, worker_id="dead")
    # The scheduler's order: core's recovery, then the panel's backlog.
    line = recovery.tick()
    assert line == "recovery: 1 lost worker(s), 1 task(s) requeued, 0 failed"
    total = Tool.objects.published().count()
    # The requeued one is not queued twice.
    assert panel_periodic.tick() == f"panel: {total - 1} tool(s) queued"
    tasks = DBTaskResult.objects.filter(task_path=review_tool.module_path)
    assert tasks.count() == total
    assert recovery.tick().startswith("recovery: 0 lost worker(s)")
    assert panel_periodic.tick() == "panel: 0 tool(s) queued"


# --- real processes -------------------------------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(tmp_path: Path, *args: str, delay: float = 0.4) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
        "TOOLVERDICT_PANEL_MODEL": "python:tests.core.fakes.SlowModel",
        "TOOLVERDICT_TEST_MODEL_DELAY": str(delay),
        "TOOLVERDICT_TEST_MODEL_LOG": str(tmp_path / "calls.log"),
        "TOOLVERDICT_WORKER_HEARTBEAT": "0.5",
        "TOOLVERDICT_WORKER_STALE_AFTER": "2",
        "TOOLVERDICT_PANEL_FIRST": "",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolverdict.cli",
            "worker",
            "--queue-name",
            "*",
            "--interval",
            "0.2",
            "--no-startup-delay",
            *args,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(predicate, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return predicate()
        time.sleep(0.1)
    return False


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return out


def complete_panel(tool_ids: list[int], personas: int) -> bool:
    return (
        Review.objects.filter(tool_id__in=tool_ids, is_current=True).count()
        == len(tool_ids) * personas
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_review_killed_mid_way_is_finished_by_the_next_worker(fast, tmp_path):
    from toolverdict.catalog.importer import import_path

    fast.TASKS = DUMMY  # the import's own signal must not queue: the test queues
    import_path(fast.TOOLVERDICT_STARTER_CATALOG)
    fast.TASKS = DATABASE
    tool_ids = list(Tool.objects.order_by("pk").values_list("pk", flat=True)[:3])
    Tool.objects.exclude(pk__in=tool_ids).update(is_published=False)
    personas = 4
    for pk in tool_ids:
        review_tool.enqueue(pk)
    first = start_worker(tmp_path, "--no-recovery")
    try:
        # Kill it while the first tool is half reviewed: some personas stored, not all.
        assert wait_for(
            lambda: Review.objects.filter(tool_id=tool_ids[0]).count() >= 2, 120, first
        ), stop(first)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        stop(first)
    stuck = DBTaskResult.objects.get(status=TaskResultStatus.RUNNING)
    assert stuck.args_kwargs["args"] == [tool_ids[0]]

    second = start_worker(tmp_path)
    try:
        assert wait_for(lambda: complete_panel(tool_ids, personas), 180, second), stop(second)
        assert wait_for(
            lambda: (
                not DBTaskResult.objects.filter(
                    status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
                ).exists()
            ),
            60,
            second,
        )
    finally:
        out = stop(second)
    # The killed task was requeued in place (same id) and finished by the second worker.
    stuck.refresh_from_db()
    assert stuck.status == TaskResultStatus.SUCCESSFUL, out
    assert TaskRecovery.objects.filter(task_id=stuck.pk, action="requeued").count() == 1
    # One review per tool and persona: the re-run reused what the dead worker stored.
    rows = list(Review.objects.values_list("tool_id", "persona"))
    assert len(rows) == len(set(rows)) == len(tool_ids) * personas
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert len(calls) <= len(tool_ids) * personas + 1  # at most the call in flight redone


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_sigterm_hands_the_task_in_progress_back_within_the_grace(fast, tmp_path):
    fast.TASKS = DUMMY
    from toolverdict.catalog.importer import import_path

    import_path(fast.TOOLVERDICT_STARTER_CATALOG)
    fast.TASKS = DATABASE
    tool = Tool.objects.order_by("pk").first()
    task = review_tool.enqueue(tool.pk)
    proc = start_worker(tmp_path, "--no-recovery", "--grace", "0.5", delay=5)
    try:
        assert wait_for(
            lambda: DBTaskResult.objects.filter(pk=task.id, status="RUNNING").exists(), 60, proc
        ), stop(proc)
        assert wait_for(lambda: (tmp_path / "calls.log").exists(), 30, proc)
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        took = time.monotonic() - started
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert took < 15  # the grace (0.5 s), not the 5 s model call and the rest of the panel
    row = DBTaskResult.objects.get(pk=task.id)
    assert row.status == TaskResultStatus.READY, out
    assert TaskRecovery.objects.get(task_id=task.id).action == "released"
    assert WorkerHeartbeat.objects.get().stopped_at is not None
    assert "handed back" in out
