"""The disclosure line: how each tool entered the catalog, and that placement is unpaid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.services import set_published
from toolverdict.ingest.candidates import import_candidates
from toolverdict.ingest.models import Candidate, Feed, FeedEntry, PipelineRun, Submission
from toolverdict.ingest.origin import tool_origin
from toolverdict.ingest.submissions import approve_submission

pytestmark = pytest.mark.django_db

NEVER_PAID = "Placement is never paid"


def disclosure(client, tool: Tool) -> str:
    body = client.get(tool.get_absolute_url()).content.decode()
    return body.split('<p class="disclosure"', 1)[1].split("</p>", 1)[0]


def test_a_starter_tool_was_added_by_an_editor(client, starter_catalog):
    tool = Tool.objects.get(slug="claude-4-sonnet")
    assert tool_origin(tool).kind == "editor"
    line = disclosure(client, tool)
    assert "added by an editor" in line and NEVER_PAID in line


def test_an_approved_submission_says_the_maker_submitted_it(client, starter_catalog):
    staff = get_user_model().objects.create_user("ed", "ed@example.com", is_staff=True)
    submission = Submission.objects.create(
        name="Maker Tool",
        vendor="Maker",
        homepage="https://maker.example/",
        category=Category.objects.get(slug="developer-tools"),
        pricing="free",
        tagline="Made by its maker",
    )
    tool = approve_submission(submission, staff)
    origin = tool_origin(tool)
    assert origin.kind == "submission"
    assert origin.day == submission.created_at.date()
    line = disclosure(client, tool)
    assert "submitted by its maker on" in line and "approved by an editor" in line
    assert NEVER_PAID in line


def test_a_tool_from_a_feed_names_the_feed(client, starter_catalog):
    category = Category.objects.get(slug="developer-tools")
    feed = Feed.objects.create(
        name='Launches <b>"daily"</b>', url="https://feed.example/rss", category=category
    )
    run = PipelineRun.objects.create(day=dt.date(2026, 12, 1))
    entry = FeedEntry.objects.create(feed=feed, guid="1", title="Feed Tool", run=run)
    Candidate.objects.create(
        name="Feed Tool",
        name_key="feed tool",
        homepage="https://feedtool.example/",
        homepage_key="feedtool.example",
        vendor="Feedy",
        tagline="Announced in a feed",
        category=category,
        pricing="free",
        source_url="https://feed.example/1",
        run=run,
        entry=entry,
    )
    (tool_id,) = import_candidates(run)
    set_published([tool_id], True)
    tool = Tool.objects.get(pk=tool_id)
    origin = tool_origin(tool)
    assert (origin.kind, origin.feed) == ("feed", feed.name)
    line = disclosure(client, tool)
    assert (
        "found by the daily ingest in the “Launches &lt;b&gt;&quot;daily&quot;&lt;/b&gt;” feed"
        in line
    )
    assert NEVER_PAID in line


def test_the_disclosure_costs_the_tool_page_one_query(client, starter_catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tool = Tool.objects.get(slug="claude-4-sonnet")
    with CaptureQueriesContext(connection) as ctx:
        tool_origin(tool)
    assert len(ctx.captured_queries) == 1
