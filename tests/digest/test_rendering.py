"""Email rendering: both parts, inlined CSS with a dark-mode block, headers, escaping."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
from django.core.exceptions import ValidationError

from toolverdict.digest.models import Issue, Section
from toolverdict.digest.rendering import build_message, header_safe, link, render_issue

pytestmark = pytest.mark.django_db

UNSUB = "http://127.0.0.1:8000/digest/unsubscribe/KEY123/"


def make_issue(**kw) -> Issue:
    now = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    fields = {
        "iso_year": 2026,
        "iso_week": 48,
        "subject": "Weekly AI Tool Verdicts: A vs B",
        "intro": "Two new tools.",
        "status": Issue.Status.APPROVED,
        "period_start": now - dt.timedelta(days=7),
        "period_end": now,
    }
    fields.update(kw)
    issue = Issue.objects.create(**fields)
    Section.objects.create(
        issue=issue,
        position=0,
        kind="headline",
        heading="A vs B",
        url="/compare/a-vs-b/",
        body="A is good.\nB is cheaper.",
    )
    Section.objects.create(
        issue=issue,
        position=1,
        kind="tool",
        heading="A by Acme",
        url="/tools/a/",
        ship_pct=75,
        body="The A tool.\nPanel: 75% ship from 4 reviews.\nBuilder (ship): solid.",
    )
    return issue


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def test_message_has_both_parts_and_list_unsubscribe_headers():
    issue = make_issue()
    msg = parsed(
        build_message(
            render_issue(issue), issue, email="r@example.com", unsubscribe_url=UNSUB, delivery_id=7
        )
    )
    assert msg["List-Unsubscribe"] == f"<{UNSUB}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == "<digest.2026-w48.7@localhost>"
    assert msg["To"] == "r@example.com"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert UNSUB in text and UNSUB in html
    assert "75% ship" in text and "Builder (ship): solid." in text
    assert "http://127.0.0.1:8000/compare/a-vs-b/" in text
    assert html.index("A vs B") < html.index("A by Acme")


def test_css_is_inlined_and_dark_mode_block_kept():
    html = render_issue(make_issue()).html
    assert 'style="' in html and "color: #18181b" in html
    assert "@media (prefers-color-scheme: dark)" in html
    assert '<meta name="color-scheme" content="light dark">' in html


def test_all_database_text_is_escaped_in_html():
    issue = make_issue(intro="<b>bold</b> & <script>alert(1)</script>")
    Section.objects.create(
        issue=issue,
        position=5,
        kind="tool",
        heading="<img src=x onerror=alert(1)>",
        body='Tagline "quoted" <iframe>\nPanel: x',
        url="javascript:alert(1)",
    )
    html = render_issue(issue).html
    assert "<script>alert" not in html and "<img src=x" not in html and "<iframe>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "javascript:" not in html


def test_subject_injection_is_impossible():
    issue = make_issue()
    issue.subject = "Hello\r\nBcc: victim@example.org"
    with pytest.raises(ValidationError):
        issue.full_clean()
    # Even a value that bypassed validation goes out on one line.
    Issue.objects.filter(pk=issue.pk).update(subject="Hello\r\nBcc: victim@example.org")
    issue.refresh_from_db()
    msg = parsed(
        build_message(
            render_issue(issue), issue, email="r@example.com", unsubscribe_url=UNSUB, delivery_id=1
        )
    )
    assert msg["Subject"] == "Hello Bcc: victim@example.org"
    assert msg["Bcc"] is None


def test_section_heading_with_newline_fails_validation():
    issue = make_issue()
    section = Section(issue=issue, heading="x\ny", kind="note")
    with pytest.raises(ValidationError):
        section.full_clean()


def test_header_safe_and_link_helpers():
    assert header_safe("a\r\nb\tc\x00d") == "a b c d"
    assert link("/compare/a-vs-b/") == "http://127.0.0.1:8000/compare/a-vs-b/"
    assert link("https://example.com/x") == "https://example.com/x"
    for bad in ["javascript:alert(1)", "data:text/html,x", "//evil.example/", "ftp://x"]:
        assert link(bad) == ""


def test_placeholder_cannot_be_forged_by_section_text():
    issue = make_issue()
    first = render_issue(issue)
    Section.objects.create(
        issue=issue, position=9, kind="note", heading="n", body=first.placeholder
    )
    second = render_issue(issue)
    text, _ = second.for_recipient(UNSUB)
    assert first.placeholder in text  # shown as typed, not replaced
    assert second.placeholder != first.placeholder
