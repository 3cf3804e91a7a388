"""`toolverdict digest …`: send, status, unknown and resolve from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from toolverdict.digest.models import Delivery, Issue, Section

from .conftest import make_subscribers

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("digest", *args, stdout=out)
    return out.getvalue()


def test_send_status_unknown_resolve(smtp_sink, no_sleep):
    a, b = make_subscribers(2)
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
