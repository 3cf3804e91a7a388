"""The editor's desk: edit a draft, approve it into sending, read-only once it is out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from toolverdict.digest.models import Issue, Section

pytestmark = pytest.mark.django_db


def draft() -> Issue:
    now = timezone.now()
    issue = Issue.objects.create(
        iso_year=2026,
        iso_week=48,
        subject="Weekly AI Tool Verdicts",
        status=Issue.Status.DRAFT,
        period_start=now - dt.timedelta(days=7),
        period_end=now,
    )
    Section.objects.create(issue=issue, kind="tool", heading="A by Acme", body="The A tool.")
    return issue


def test_approve_action_starts_sending_once(admin_client, django_capture_on_commit_callbacks):
    issue = draft()
    url = reverse("admin:digest_issue_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "approve_and_send", "_selected_action": [issue.pk]}, follow=True
        )
    assert b"1 issue(s) queued for sending." in response.content
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING and issue.approved_at is not None
    assert DBTaskResult.objects.filter(queue_name="digest").count() == 1
    # Approving again does nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"action": "approve_and_send", "_selected_action": [issue.pk]})
    assert DBTaskResult.objects.filter(queue_name="digest").count() == 1


def test_subject_with_a_line_break_is_rejected_in_the_form(admin_client):
    issue = draft()
    section = issue.sections.get()
    url = reverse("admin:digest_issue_change", args=[issue.pk])
    data = {
        "subject": "Hello\r\nBcc: victim@example.org",
        "intro": "",
        "sections-TOTAL_FORMS": "1",
        "sections-INITIAL_FORMS": "1",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
        "sections-0-id": str(section.pk),
        "sections-0-issue": str(issue.pk),
        "sections-0-position": "0",
        "sections-0-kind": "tool",
        "sections-0-heading": "A by Acme",
        "sections-0-url": "",
        "sections-0-ship_pct": "",
        "sections-0-body": "The A tool.",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    issue.refresh_from_db()
    assert issue.subject == "Weekly AI Tool Verdicts"
    data["subject"] = "Edited subject"
    assert admin_client.post(url, data).status_code == 302
    issue.refresh_from_db()
    assert issue.subject == "Edited subject"


def test_a_sent_issue_is_read_only(admin_client):
    issue = draft()
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENT)
    html = admin_client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()
    assert 'name="subject"' not in html
    assert 'name="sections-0-heading"' not in html
