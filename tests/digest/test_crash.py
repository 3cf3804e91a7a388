"""Crash safety with real processes: SIGKILL the sender mid-batch, resume, count copies.

The sender runs as `toolverdict digest send` (a one-task worker of its own) or as the task
of a `toolverdict worker`, in a subprocess against a real aiosmtpd server; the test
database is shared with it (a file on SQLite, the same test database on PostgreSQL).
Heartbeats every half second, a worker dead after two: a killed sender is resumed within
seconds, and a live one is never taken over however long it runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.core.models import TaskRecovery
from toolverdict.digest.models import Delivery, Issue, Section, Subscriber
from toolverdict.digest.sending import start_sending
from toolverdict.digest.tasks import send_issue_task

from .conftest import make_subscribers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 40
ROOT = Path(__file__).resolve().parents[2]
FAST_HEARTBEAT = {"TOOLVERDICT_WORKER_HEARTBEAT": "0.5", "TOOLVERDICT_WORKER_STALE_AFTER": "2"}


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def environment(port: int, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
        **FAST_HEARTBEAT,
        **more,
    }


def sender(issue: Issue, port: int, rate: float, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolverdict.cli",
            "digest",
            "send",
            str(issue.pk),
            "--rate",
            str(rate),
        ],
        env=environment(port, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# A worker that believes it runs on another machine: no process probe on this host could
# tell whether it lives; only its heartbeat can.
ELSEWHERE = (
    "import socket, sys; socket.gethostname = lambda: 'another-machine'; "
    "from toolverdict.cli import main; main(sys.argv[1:])"
)


def digest_worker(port: int, *, elsewhere: bool = False) -> subprocess.Popen:
    start = ["-c", ELSEWHERE] if elsewhere else ["-m", "toolverdict.cli"]
    return subprocess.Popen(
        [
            sys.executable,
            *start,
            "worker",
            "--queue-name",
            "digest",
            "--interval",
            "0.2",
            "--no-startup-delay",
        ],
        env=environment(port, TOOLVERDICT_DIGEST_RATE="5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return out or ""


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def approved_issue() -> Issue:
    now = timezone.now()
    issue = Issue.objects.create(
        iso_year=2026,
        iso_week=48,
        subject="Weekly AI Tool Verdicts",
        status=Issue.Status.APPROVED,
        period_start=now,
        period_end=now,
    )
    Section.objects.create(issue=issue, kind="tool", heading="A by Acme", body="The A tool.")
    return issue


def counts(issue: Issue) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in Delivery.objects.filter(issue=issue).values_list("status", flat=True):
        out[s] = out.get(s, 0) + 1
    return out


def restart_to_completion(issue: Issue, port: int) -> dict:
    proc = sender(issue, port, rate=0)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_killed_while_the_server_accepts_a_message_every_recipient_gets_one_copy(smtp_sink):
    """The worst moment: the server has stored message 15, the sender has not heard 250."""
    readers = make_subscribers(RECIPIENTS)
    issue = approved_issue()
    victim: dict[str, subprocess.Popen] = {}

    def kill_at_fifteen(count: int) -> None:
        if count == 15 and "proc" in victim:
            os.kill(victim["proc"].pid, signal.SIGKILL)

    smtp_sink.handler.after_data = kill_at_fifteen
    victim["proc"] = proc = sender(issue, smtp_sink.port, rate=50)
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    smtp_sink.handler.after_data = None
    # Mid-batch: 14 recorded as sent, one claimed and in flight, the rest untouched.
    assert counts(issue) == {"sent": 14, "sending": 1, "pending": RECIPIENTS - 15}

    report = restart_to_completion(issue, smtp_sink.port)
    assert report["recovered_unknown"] == 1
    assert report["sent"] == RECIPIENTS - 15
    assert report["finished"]

    copies = smtp_sink.handler.copies()
    assert {r.email: copies[r.email] for r in readers} == {r.email: 1 for r in readers}
    assert sum(copies.values()) == RECIPIENTS
    # The in-flight one was delivered and is marked unknown, not sent twice.
    unknown = Delivery.objects.get(issue=issue, status=Delivery.Status.UNKNOWN)
    assert copies[unknown.subscriber.email] == 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_killed_between_messages_then_resumed_sends_each_remaining_email_once(smtp_sink):
    """A kill at an ordinary moment (between two sends); also a second restart is a no-op."""
    readers = make_subscribers(RECIPIENTS)
    issue = approved_issue()
    tenth = threading.Event()
    smtp_sink.handler.after_data = lambda count: tenth.set() if count == 10 else None
    proc = sender(issue, smtp_sink.port, rate=5)
    assert tenth.wait(timeout=120)
    # Wait until the sender has recorded the tenth message, then kill it.
    while Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() < 10:
        assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    smtp_sink.handler.after_data = None
    assert (
        10 <= Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() < RECIPIENTS
    )

    restart_to_completion(issue, smtp_sink.port)
    again = restart_to_completion(issue, smtp_sink.port)
    assert again["sent"] == 0

    copies = smtp_sink.handler.copies()
    final = counts(issue)
    # Never a second copy; everyone not caught in flight gets exactly one.
    assert max(copies.values()) == 1
    assert final.get("unknown", 0) <= 1
    settled = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    assert all(copies[d.subscriber.email] == 1 for d in settled.select_related("subscriber"))
    if not final.get("unknown"):
        assert {r.email: copies[r.email] for r in readers} == {r.email: 1 for r in readers}
    assert Subscriber.objects.filter(status=Subscriber.Status.BOUNCED).count() == 0


def test_a_worker_killed_on_another_machine_is_resumed_by_recovery_without_waiting(smtp_sink):
    """The send task's worker dies mid-batch on "another machine": its heartbeat stops, the
    recovery step requeues the task in place within seconds and releases the issue, and
    a worker here resumes it. Nothing waits for a lease to run out."""
    readers = make_subscribers(RECIPIENTS)
    issue = approved_issue()
    assert start_sending(issue)  # the weekly job's path: queued for a worker
    (task,) = DBTaskResult.objects.filter(task_path=send_issue_task.module_path)
    first = digest_worker(smtp_sink.port, elsewhere=True)
    try:
        sent = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
        assert wait_for(lambda: sent.count() >= 10, 120), stop(first)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        stop(first)
    killed_at = time.monotonic()
    assert sent.count() < RECIPIENTS

    second = digest_worker(smtp_sink.port)
    try:
        done = Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENT)
        assert wait_for(done.exists, 60), stop(second)
        sent_at = time.monotonic()
        # The task's row is marked successful just after the issue: wait for that too
        # before stopping the worker, or the stop can land in between.
        finished = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.SUCCESSFUL)
        assert wait_for(finished.exists, 30), stop(second)
    finally:
        out = stop(second)
    assert sent_at - killed_at < 60, out

    row = DBTaskResult.objects.get(pk=task.pk)
    assert row.status == TaskResultStatus.SUCCESSFUL, out
    assert len(row.worker_ids) == 2  # requeued in place, finished by the second worker
    assert TaskRecovery.objects.get(task_id=task.pk).action == "requeued"
    copies = smtp_sink.handler.copies()
    assert max(copies.values()) == 1
    final = counts(issue)
    assert final.get("unknown", 0) <= 1 and final["sent"] + final.get("unknown", 0) == RECIPIENTS
    settled = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    assert all(copies[d.subscriber.email] == 1 for d in settled.select_related("subscriber"))
    assert {r.email for r in readers} >= set(copies)


def test_a_live_sender_slower_than_any_lease_is_never_taken_over(smtp_sink):
    """Each message takes the server 1.5 s, the whole send many times STALE_AFTER: a second
    `digest send` started meanwhile waits for the first, however long it runs, then finds
    nothing to send. (TOOLVERDICT_DIGEST_LEASE_SECONDS, the setting of the lease this
    replaced, is set to one second: no clock may hand a live sender's issue to another.)"""
    readers = make_subscribers(6)
    issue = approved_issue()

    def slow(count: int) -> None:
        time.sleep(1.5)

    smtp_sink.handler.after_data = slow
    first = sender(issue, smtp_sink.port, rate=0, TOOLVERDICT_DIGEST_LEASE_SECONDS="1")
    assert wait_for(lambda: bool(smtp_sink.handler.received), 60)
    second = sender(issue, smtp_sink.port, rate=0, TOOLVERDICT_DIGEST_LEASE_SECONDS="1")
    time.sleep(3)  # the first has at least 6 s of messages left
    assert first.poll() is None and second.poll() is None  # the second waits, alongside
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert (report["sent"], report["unknown"], report["finished"]) == (6, 0, True)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "a worker is sending this issue; waiting" in err
    assert json.loads(out.strip().splitlines()[-1])["sent"] == 0
    assert smtp_sink.handler.copies() == {r.email: 1 for r in readers}


def test_ctrl_c_hands_the_send_back_to_the_queue(smtp_sink):
    """SIGINT to `digest send` mid-run: its task goes back to the queue (a worker or the
    next `send` resumes it), the issue's claim is released with it, and the command exits
    with 130."""
    make_subscribers(10)
    issue = approved_issue()
    proc = sender(issue, smtp_sink.port, rate=2)
    sent = Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT)
    assert wait_for(lambda: sent.count() >= 2, 60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (task,) = DBTaskResult.objects.filter(task_path=send_issue_task.module_path)
    assert task.status == TaskResultStatus.READY
    assert TaskRecovery.objects.get(task_id=task.pk).action == "released"
    issue.refresh_from_db()
    assert (issue.status, issue.sender) == (Issue.Status.SENDING, "")
    assert 2 <= sent.count() < 10

    report = restart_to_completion(issue, smtp_sink.port)
    assert report["finished"]
    assert max(smtp_sink.handler.copies().values()) == 1
