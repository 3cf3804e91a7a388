"""The whole newsletter against a real SMTP server on loopback (aiosmtpd).

Sign up, confirm from the link in the mail, let the schedule compose and a real task
worker send the issue, read it with the `email` package, unsubscribe with the RFC 8058
one-click POST from its header, and get nothing the week after.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from toolverdict.digest import periodic
from toolverdict.digest.models import Delivery, DigestSettings, Issue, Subscriber

from .conftest import make_subscribers, make_tool

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_worker() -> None:
    """A real django-tasks database worker: runs the queued digest tasks, then exits."""
    call_command(
        "db_worker", "--queue-name", "digest", "--batch", "--no-startup-delay", verbosity=0
    )


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@override_settings(TOOLVERDICT_DIGEST_RATE=0)
def test_sign_up_confirm_receive_unsubscribe_then_nothing(smtp_sink):
    now = timezone.now()
    config = DigestSettings.load()
    config.auto_send = True
    config.send_weekday = now.isoweekday()
    config.send_hour_utc = 0
    config.save()
    make_tool("claude-like", name="Claude <Like>", created=now - dt.timedelta(hours=2))
    make_tool("peer-agent", created=now - dt.timedelta(days=90))
    (stayer,) = make_subscribers(1, prefix="stayer")

    # 1. Sign up through the box; the confirmation arrives over SMTP.
    client = Client()
    response = client.post(reverse("digest:subscribe"), {"email": " Reader@Example.com "})
    assert response.status_code == 200
    (confirmation,) = smtp_sink.handler.to("reader@example.com")
    confirm_msg = parse(confirmation.content)
    assert "Confirm" in confirm_msg["Subject"]
    link = re.search(
        r"http://\S+/digest/confirm/\?token=\S+", confirm_msg.get_body(("plain",)).get_content()
    )
    assert link

    # 2. Confirm (the page shows a button; the button POSTs).
    page = client.get(path_of(link.group(0)))
    assert b"Confirm subscription" in page.content
    token = urlsplit(link.group(0)).query.split("token=", 1)[1]
    assert b"subscribed" in client.post(reverse("digest:confirm"), {"token": token}).content
    reader = Subscriber.objects.get(email="reader@example.com")
    assert reader.status == Subscriber.Status.CONFIRMED

    # 3. The schedule composes the week's issue and a real worker sends it.
    outcome = periodic.tick(now + dt.timedelta(minutes=1))
    assert "composed" in outcome and "sending" in outcome
    run_worker()
    issue = Issue.objects.get()
    assert issue.status == Issue.Status.SENT
    (received,) = [r for r in smtp_sink.handler.to("reader@example.com") if r is not confirmation]
    msg = parse(received.content)

    # 4. Both parts, the headers, the escaped tool name, the unsubscribe link in the body.
    assert msg["To"] == "reader@example.com"
    assert msg["Subject"] == issue.subject
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == Delivery.objects.get(subscriber=reader).message_id
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Claude <Like>" in text
    assert "Claude &lt;Like&gt;" in html and "Claude <Like>" not in html
    assert "The panel has not reviewed this tool yet." in text
    unsubscribe = str(msg["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe in text and unsubscribe in html
    assert html.index("vs") < html.index("New this week")

    # 5. One-click unsubscribe, as a mail client does it: POST, no cookie, no CSRF token.
    one_click = Client(enforce_csrf_checks=True).post(
        path_of(unsubscribe),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED

    # 6. Next week: a new tool, a new issue for the others, nothing for the reader.
    next_week = now + dt.timedelta(days=7)
    make_tool("next-week-agent", created=next_week - dt.timedelta(hours=1))
    before = len(smtp_sink.handler.to("reader@example.com"))
    periodic.tick(next_week + dt.timedelta(minutes=1))
    run_worker()
    assert Issue.objects.filter(status=Issue.Status.SENT).count() == 2
    assert len(smtp_sink.handler.to("reader@example.com")) == before
    assert len(smtp_sink.handler.to(stayer.email)) == 2
    assert smtp_sink.handler.copies()[stayer.email] == 2
