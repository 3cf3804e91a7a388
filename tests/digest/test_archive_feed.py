"""Web archive and Atom feed: sent issues only, all text escaped."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from toolverdict.digest.models import Issue, Section

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def issue(week: int, status: str, subject: str = "Weekly AI Tool Verdicts") -> Issue:
    now = timezone.now()
    obj = Issue.objects.create(
        iso_year=2026,
        iso_week=week,
        subject=subject,
        status=status,
        period_start=now - dt.timedelta(days=7),
        period_end=now,
        sent_at=now if status == Issue.Status.SENT else None,
    )
    Section.objects.create(
        issue=obj, kind="tool", heading="<b>Evil</b> by Acme", body="<script>x</script>\nPanel"
    )
    return obj


def test_archive_lists_only_sent_issues(client):
    issue(47, Issue.Status.SENT, "Sent one")
    issue(48, Issue.Status.DRAFT, "Draft one")
    html = client.get(reverse("digest:archive")).content.decode()
    assert "Sent one" in html and "Draft one" not in html


def test_issue_page_escapes_text_and_hides_drafts(client):
    sent = issue(47, Issue.Status.SENT)
    draft = issue(48, Issue.Status.DRAFT)
    html = client.get(sent.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html and "<b>Evil</b>" not in html
    assert "&lt;script&gt;" in html
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_atom_feed_is_valid_and_escaped(client):
    issue(47, Issue.Status.SENT, "Sent <one> & more")
    issue(48, Issue.Status.SKIPPED)
    response = client.get(reverse("digest:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed, not untrusted
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{ATOM}title").text == "Sent <one> & more"
    summary = entries[0].find(f"{ATOM}summary").text
    assert "&lt;b&gt;Evil&lt;/b&gt;" in summary and "<b>Evil</b>" not in summary


def test_atom_feed_links_are_on_the_site_url_whatever_the_host(client, settings):
    settings.SITE_URL = "https://verdicts.example"
    settings.ALLOWED_HOSTS = ["other.example"]
    sent = issue(47, Issue.Status.SENT)
    response = client.get(reverse("digest:feed"), HTTP_HOST="other.example")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed, not untrusted
    links = [el.get("href") for el in root.iter(f"{ATOM}link")]
    ids = [el.text for el in root.iter(f"{ATOM}id")]
    assert "https://verdicts.example/digest/feed.atom" in links
    assert f"https://verdicts.example{sent.get_absolute_url()}" in links
    assert f"https://verdicts.example{reverse('digest:archive')}" in links + ids
    assert all(value.startswith("https://verdicts.example/") for value in links + ids)
    assert b"other.example" not in response.content
