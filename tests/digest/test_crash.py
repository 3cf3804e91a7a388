"""Crash safety with a real process: SIGKILL the sender mid-batch, restart, count copies.

The sender runs as `toolverdict digest send` in a subprocess against a real aiosmtpd
server; the test database is shared with it (a file on SQLite, the same test database
on PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from django.db import connection
from django.utils import timezone

from toolverdict.digest.models import Delivery, Issue, Section, Subscriber

from .conftest import make_subscribers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 40


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def sender(issue: Issue, port: int, rate: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
    }
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
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
