"""Background jobs: a catalog change queues the panel; db_worker runs it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks import default_task_backend
from django_tasks_db.models import DBTaskResult

from tests.panel.conftest import SAMPLE
from toolverdict.catalog.importer import import_catalog, parse_catalog
from toolverdict.catalog.models import Tool
from toolverdict.panel.models import Review
from toolverdict.panel.services import enqueue_panel

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["panel"]}}
IMMEDIATE = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["panel"]}
}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["panel"]}}
FAKE_MODEL = "python:tests.panel.fakes.ScriptedModel"


@pytest.mark.django_db(transaction=True)
def test_import_enqueues_one_panel_task_per_changed_tool_without_running_it(settings):
    settings.TASKS = DUMMY
    settings.TOOLVERDICT_PANEL_MODEL = FAKE_MODEL
    import_catalog(parse_catalog(SAMPLE))
    queued = default_task_backend.results
    ids = sorted(r.args[0] for r in queued)
    assert ids == sorted(Tool.objects.values_list("pk", flat=True))
    assert {r.task.queue_name for r in queued} == {"panel"}
    assert not Review.objects.exists()
    # Re-importing the unchanged file changes nothing and queues nothing.
    import_catalog(parse_catalog(SAMPLE))
    assert len(default_task_backend.results) == 2


@pytest.mark.django_db(transaction=True)
def test_db_worker_runs_the_queued_panel(settings):
    settings.TASKS = DATABASE
    settings.TOOLVERDICT_PANEL_MODEL = FAKE_MODEL
    import_catalog(parse_catalog(SAMPLE))
    assert DBTaskResult.objects.filter(queue_name="panel", status="READY").count() == 2
    assert not Review.objects.exists()
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, verbosity=0)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert Review.objects.filter(status="published", is_current=True).count() == 8
    # A second run of the same tasks reuses every review.
    enqueue_panel(list(Tool.objects.values_list("pk", flat=True)))
    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, verbosity=0)
    assert Review.objects.count() == 8
    results = DBTaskResult.objects.order_by("-enqueued_at")[:2]
    assert all(r.task_result.return_value["reused"] == 4 for r in results)


@pytest.mark.django_db(transaction=True)
def test_immediate_backend_runs_the_panel_inline(settings):
    settings.TASKS = IMMEDIATE
    settings.TOOLVERDICT_PANEL_MODEL = FAKE_MODEL
    import_catalog(parse_catalog(SAMPLE))
    assert Review.objects.filter(is_current=True).count() == 8


@pytest.mark.django_db(transaction=True)
def test_a_queue_failure_does_not_break_the_import(settings, monkeypatch, caplog):
    settings.TASKS = DUMMY

    def broken(tool_ids):
        raise RuntimeError("queue down")

    monkeypatch.setattr("toolverdict.panel.services.enqueue_panel", broken)
    report = import_catalog(parse_catalog(SAMPLE))
    assert report.created == ["acme-coder", "bolt-ide"]
    assert "could not enqueue the panel" in caplog.text
