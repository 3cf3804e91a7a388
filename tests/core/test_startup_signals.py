"""Start-up by registration: a starting worker and a starting `up` announce themselves
with core's signals, and the panel (which core never names) queues its backlog on them."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from toolverdict.catalog.models import Tool
from toolverdict.core.management.commands.up import Command as Up
from toolverdict.core.management.commands.worker import HeartbeatWorker
from toolverdict.core.signals import up_starting, worker_started
from toolverdict.panel.tasks import review_tool

CORE = Path(__file__).resolve().parents[2] / "src" / "toolverdict" / "core"
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["panel"]}}
FAKE_MODEL = "python:tests.panel.fakes.ScriptedModel"


@pytest.fixture
def queue(settings):
    settings.TASKS = DATABASE
    settings.TOOLVERDICT_PANEL_MODEL = FAKE_MODEL
    settings.TOOLVERDICT_PANEL_FIRST = ["claude-4-sonnet", "smolvlm-2-5"]
    return settings


def queued_tools() -> set[int]:
    rows = DBTaskResult.objects.filter(task_path=review_tool.module_path)
    return {r.args_kwargs["args"][0] for r in rows}


def test_core_imports_no_panel_module():
    """The start-up paths (`up`, the worker, recovery) reach the panel only by signal."""
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("toolverdict.panel"), path
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("toolverdict.panel"), path


@pytest.mark.django_db
def test_up_queues_the_panel_through_its_signal_and_prints_its_progress(queue, starter_catalog):
    DBTaskResult.objects.all().delete()
    out = StringIO()
    Up(stdout=out).announce_start()
    total = Tool.objects.published().count()
    assert queued_tools() == set(Tool.objects.published().values_list("pk", flat=True))
    assert f"panel: 0 of {total} tools reviewed, claude-4-sonnet, smolvlm-2-5 first" in (
        out.getvalue()
    )


@pytest.mark.django_db
def test_a_failing_receiver_does_not_stop_up_starting(queue, starter_catalog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    up_starting.connect(broken, dispatch_uid="test.broken")
    try:
        DBTaskResult.objects.all().delete()
        out = StringIO()
        Up(stdout=out).announce_start()
    finally:
        up_starting.disconnect(dispatch_uid="test.broken")
    assert "tools reviewed" in out.getvalue()  # the panel's receiver still ran
    assert queued_tools()


@pytest.mark.django_db
def test_a_starting_worker_recovers_then_signals_and_the_panel_queues_its_backlog(
    queue, starter_catalog, caplog
):
    DBTaskResult.objects.all().delete()
    heard = []

    def listener(sender, worker_id, **kwargs):
        heard.append(worker_id)

    worker_started.connect(listener, dispatch_uid="test.listener")
    try:
        worker = HeartbeatWorker(
            grace=1.0,
            queue_names=["*"],
            interval=1,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="starting",
            excluded_queue_names=[],
        )
        with caplog.at_level("INFO", logger="toolverdict.worker"):
            worker.recover_and_announce()
    finally:
        worker_started.disconnect(dispatch_uid="test.listener")
    total = Tool.objects.published().count()
    assert heard == ["starting"]
    assert len(queued_tools()) == total
    line = next(r.getMessage() for r in caplog.records if "start:" in r.getMessage())
    assert "recovery: 0 lost worker(s)" in line
    assert f"panel: {total} tool(s) queued" in line
