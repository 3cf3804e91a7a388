"""`toolverdict digest …`: send, status, unknown and resolve from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.core.models import TaskRecovery, WorkerHeartbeat
from toolverdict.digest.models import Delivery, Issue, Section
from toolverdict.digest.tasks import send_issue_task

from .conftest import make_subscribers, running, worker

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("digest", *args, stdout=out)
    return out.getvalue()


def test_send_status_unknown_resolve(smtp_sink, no_sleep):
    a, b = make_subscribers(2)
    issue = sending_issue()
    Delivery.objects.create(issue=issue, subscriber=b, status=Delivery.Status.SENDING)

    report = json.loads(run("send", "2026-w48", "--rate", "0"))
    assert report["sent"] == 1 and report["recovered_unknown"] == 1
    assert json.loads(run("status", str(issue.pk))) == {
        "issue": "2026-w48",
        "status": "sent",
        "sent": 1,
        "unknown": 1,
    }
    listing = run("unknown", "2026-w48")
    assert b.email in listing and a.email not in listing

    assert "1 delivery(ies) settled" in run("resolve", "2026-w48", "--resend")
    run("send", "2026-w48", "--rate", "0")
    assert smtp_sink.handler.copies() == {a.email: 1, b.email: 1}


def test_unknown_issue_is_a_clear_error():
    with pytest.raises(CommandError, match="no issue"):
        run("status", "2031-w01")
    with pytest.raises(CommandError, match="no issue"):
        run("status", "not-a-key")


def sending_issue() -> Issue:
    now = timezone.now()
    issue = Issue.objects.create(
        iso_year=2026,
        iso_week=48,
        subject="S",
        status=Issue.Status.SENDING,
        period_start=now - dt.timedelta(days=7),
        period_end=now,
    )
    Section.objects.create(issue=issue, kind="note", heading="Hello", body="World")
    return issue


@pytest.mark.django_db(transaction=True)
def test_send_runs_as_a_one_task_worker_and_claims_the_queued_task(fast, smtp_sink, no_sleep):
    """The command's send is a task of its own worker (heartbeat row, fence, recorded
    outcome), so task_alive sees it; the task the weekly job queued is the one it runs."""
    readers = make_subscribers(2)
    issue = sending_issue()
    queued = send_issue_task.enqueue(issue.pk)

    report = json.loads(run("send", "2026-w48"))

    assert report["sent"] == 2 and report["finished"]
    assert smtp_sink.handler.copies() == {r.email: 1 for r in readers}
    (row,) = DBTaskResult.objects.filter(task_path=send_issue_task.module_path)
    assert str(row.pk) == queued.id  # claimed, not queued a second time
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value["sent"] == 2
    (beat,) = WorkerHeartbeat.objects.all()
    assert row.worker_ids == [beat.worker_id]
    assert beat.queues.startswith("foreground:") and beat.stopped_at is not None
    assert Issue.objects.get(pk=issue.pk).sender == ""


@pytest.mark.django_db(transaction=True)
def test_send_waits_while_a_worker_sends_and_resumes_once_it_dies(
    fast, smtp_sink, no_sleep, monkeypatch
):
    """A second sender never runs beside a live one: the command waits. When that worker
    dies, the recovery step requeues its task (same id) and the command runs it."""
    (reader,) = make_subscribers(1)
    issue = sending_issue()
    worker("busy", beat_ago=0)
    task = running(send_issue_task, issue.pk, worker_id="busy")
    Issue.objects.filter(pk=issue.pk).update(sender=str(task.pk), sending_since=timezone.now())
    naps: list[float] = []

    def nap(seconds: float) -> None:  # the worker dies while the command waits
        naps.append(seconds)
        WorkerHeartbeat.objects.filter(pk="busy").update(
            beat_at=timezone.now() - dt.timedelta(seconds=10)
        )

    monkeypatch.setattr("toolverdict.core.foreground.time.sleep", nap)
    err = io.StringIO()
    out = io.StringIO()
    call_command("digest", "send", "2026-w48", stdout=out, stderr=err)

    assert "a worker is sending this issue; waiting" in err.getvalue()
    assert len(naps) == 1
    assert json.loads(out.getvalue())["sent"] == 1
    assert smtp_sink.handler.copies() == {reader.email: 1}
    row = DBTaskResult.objects.get(pk=task.pk)  # requeued in place, finished by the command
    assert row.status == TaskResultStatus.SUCCESSFUL and row.worker_ids[0] == "busy"
    assert TaskRecovery.objects.get(task_id=task.pk).action == "requeued"
