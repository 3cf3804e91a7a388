"""A `toolverdict ingest` killed mid-run, in a real process: the next run resumes it within
seconds, because the command runs the day as a one-task worker whose heartbeat stopped.

The command runs in a subprocess against a real feed server on loopback; the test database
is shared with it (a file on SQLite, the same test database on PostgreSQL). Heartbeats
every half second, a worker dead after two.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.catalog.models import Category, Tool
from toolverdict.core.models import TaskRecovery
from toolverdict.ingest.models import Feed, PipelineRun, RunStatus
from toolverdict.ingest.tasks import run_daily_pipeline

from .conftest import rss

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 24)


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def ingest(day: dt.date) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
        "TOOLVERDICT_WORKER_HEARTBEAT": "0.5",
        "TOOLVERDICT_WORKER_STALE_AFTER": "2",
        "TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES": "true",
        "TOOLVERDICT_INGEST_EMBEDDER": "ngram",
        "TOOLVERDICT_INGEST_TIMEOUT": "120",
        "TOOLVERDICT_ENRICH_ON_ARRIVAL": "false",
        "TOOLVERDICT_PANEL_MODEL": "python:tests.panel.fakes.ScriptedModel",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "toolverdict.cli", "ingest", "--date", day.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(predicate, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_a_killed_command_line_run_is_resumed_by_the_next_within_seconds(feed_server):
    """Killed while it reads a slow feed, the day is left "running". The next
    `toolverdict ingest` waits for the dead run's heartbeat to go stale (2 s here), the
    recovery step puts the day and its task back in the queue, and the command resumes
    that task in place: no two-hour stale window to wait out."""
    category = Category.objects.create(slug="developer-tools", name="Developer tools")
    url = feed_server.add(
        "/slow",
        rss([("Introducing Orbit: an AI pair programmer", "https://orbit.example/", "Orbit.")]),
        delay=60.0,
    )
    Feed.objects.create(name="Slow", url=url, category=category)

    first = ingest(DAY)
    try:
        assert wait_for(lambda: feed_server.hits.get("/slow"), 120, first), first.communicate()
        run = PipelineRun.objects.get(day=DAY)
        assert run.status == RunStatus.RUNNING
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)

    feed_server.routes["/slow"].delay = 0.0
    started = time.monotonic()
    second = ingest(DAY)
    out, err = second.communicate(timeout=120)
    took = time.monotonic() - started

    assert second.returncode == 0, err
    assert "pipeline 2026-11-24: done (attempt 2)" in out, out + err
    assert took < 60  # seconds, not TOOLVERDICT_TASK_ORPHAN_AFTER or any stale window
    run = PipelineRun.objects.get(day=DAY)
    assert (run.status, run.imported, run.published) == (RunStatus.DONE, 1, 1)
    assert Tool.objects.get(homepage="https://orbit.example/").is_published
    # The dead run's task was requeued in place and finished by the second command.
    (row,) = DBTaskResult.objects.filter(task_path=run_daily_pipeline.module_path)
    assert run.runner == str(row.pk)
    assert row.status == TaskResultStatus.SUCCESSFUL and len(row.worker_ids) == 2
    assert TaskRecovery.objects.get(task_id=row.pk).action == "requeued"
