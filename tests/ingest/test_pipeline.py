"""The daily pipeline with real feeds on loopback, real database, stand-in panel."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.signals import tools_changed
from toolverdict.ingest import candidates, periodic, pipeline, publishing
from toolverdict.ingest.models import (
    Candidate,
    CandidateStatus,
    DailyComparison,
    Feed,
    FeedEntry,
    PipelineRun,
    RunStatus,
)

from .conftest import atom, json_feed, rss

DAY = dt.date(2026, 11, 24)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def feeds(starter_catalog, feed_server):
    dev = Category.objects.get(slug="developer-tools")
    vectors = Category.objects.get(slug="vector-databases")
    made = {}

    def add(name, path, body, category=dev, **route):
        url = feed_server.add(path, body, **route)
        made[name] = Feed.objects.create(name=name, url=url, category=category)

    add(
        "Launch RSS",
        "/rss",
        rss(
            [
                (
                    "Introducing Acme Coder: an AI pair programmer",
                    "https://acme.dev/coder",
                    "Acme Coder pairs with you in the terminal. It writes tests.",
                ),
                (
                    "Cursor – the AI code editor",
                    "https://www.cursor.com/",
                    "Cursor ships a new release.",
                ),
            ]
        ),
    )
    add(
        "Hub Atom",
        "/atom",
        atom(
            [
                (
                    "Zeta Vector 1.0",
                    "https://zeta.example/vector",
                    "Zeta Vector is an open-source vector database for small devices.",
                )
            ]
        ),
        category=vectors,
        content_type="application/atom+xml",
    )
    add(
        "Launch JSON",
        "/feed.json",
        json_feed(
            [
                (
                    "Acme Coder — AI pair programmer",
                    "https://news.example/acme-coder",
                    "Acme Coder launched today.",
                ),
                (
                    "Show HN: Lintly, a linter that explains itself",
                    "https://lintly.example/",
                    "Lintly explains every warning in plain words.",
                ),
            ]
        ),
        content_type="application/feed+json",
    )
    add("Broken", "/broken", "<html><body>oops</body></html>", content_type="text/html")
    add("Slow", "/slow", rss([("Never", "https://never.example/", "x")]), delay=5.0)
    add("Huge", "/huge", b"<rss>" + b"x" * 400_000 + b"</rss>", send_length=False)
    return made


def test_pipeline_end_to_end_with_failing_feeds(feeds, fake_panel, client):
    before = set(Tool.objects.values_list("slug", flat=True))
    signals = []

    def listener(sender, tool_ids, reason, **kwargs):
        signals.append((reason, list(tool_ids)))

    tools_changed.connect(listener)
    try:
        run = pipeline.run_pipeline(DAY)
    finally:
        tools_changed.disconnect(listener)

    assert run.status == RunStatus.DONE, run.error
    # Each broken feed is recorded against its own feed; the others were read.
    assert set(run.feed_errors) == {str(feeds[name].pk) for name in ("Broken", "Slow", "Huge")}
    errors = {row.name: row.error for row in candidates.feed_error_rows(run)}
    assert "not a feed" in errors["Broken"]
    assert "timed out" in errors["Slow"]
    assert "too large" in errors["Huge"]
    assert Feed.objects.get(name="Slow").last_error.startswith("timed out")
    assert Feed.objects.get(name="Launch RSS").last_error == ""
    assert run.feeds_read == 3
    assert (run.entries_in, run.new_entries) == (5, 5)
    # Acme Coder arrives twice (RSS and JSON); Cursor is already in the catalog.
    assert (run.new_candidates, run.duplicates, run.imported) == (3, 2, 3)
    new = set(Tool.objects.values_list("slug", flat=True)) - before
    assert new == {"acme-coder", "zeta-vector-1-0", "lintly"}
    cursor = Candidate.objects.get(name="Cursor")
    assert (cursor.status, cursor.duplicate_reason, cursor.duplicate_of.slug) == (
        CandidateStatus.DUPLICATE,
        "homepage",
        "cursor",
    )
    repeat = Candidate.objects.get(homepage="https://news.example/acme-coder")
    assert repeat.duplicate_reason == "name"
    assert repeat.duplicate_of_candidate.tool.slug == "acme-coder"

    acme = Tool.objects.get(slug="acme-coder")
    assert acme.is_published and acme.category.slug == "developer-tools"
    assert acme.tagline == "Acme Coder pairs with you in the terminal."
    assert acme.vendor == "acme.dev"
    assert acme.facts.get().source_url == "https://acme.dev/coder"
    # The panel reviewed exactly the new tools; the catalog heard about them once.
    new_ids = sorted(Tool.objects.filter(slug__in=new).values_list("pk", flat=True))
    assert sorted(fake_panel.reviewed) == new_ids
    assert run.reviewed == 3
    assert sorted(pk for reason, ids in signals if reason == "feed" for pk in ids) == new_ids

    # Every new tool got its "A vs B" page against a published tool of its category.
    pairs = {c.tool.slug: c for c in DailyComparison.objects.filter(run=run)}
    assert set(pairs) == new
    zeta = pairs["zeta-vector-1-0"]
    assert zeta.rival.category.slug == "vector-databases" and zeta.rival.is_published
    assert (zeta.left_slug, zeta.right_slug) == tuple(sorted([zeta.tool.slug, zeta.rival.slug]))
    page = client.get(zeta.get_absolute_url())
    assert page.status_code == 200
    assert "Zeta Vector 1.0" in page.content.decode()
    assert run.published == 3


def test_rerun_of_the_same_day_and_the_next_day_import_nothing_new(feeds, fake_panel):
    first = pipeline.run_pipeline(DAY)
    assert first.imported == 3
    tools = Tool.objects.count()

    # Same day, not forced: the finished run is left alone.
    again = pipeline.run_pipeline(DAY)
    assert again.attempts == 1 and again.imported == 3

    forced = pipeline.run_pipeline(DAY, again=True)
    assert forced.status == RunStatus.DONE
    assert forced.attempts == 2
    assert forced.new_entries == 5  # nothing added on the second pass
    assert forced.imported == 3
    assert Tool.objects.count() == tools

    tomorrow = pipeline.run_pipeline(DAY + dt.timedelta(days=1))
    assert tomorrow.entries_in == 5 and tomorrow.new_entries == 0
    assert (tomorrow.new_candidates, tomorrow.imported) == (0, 0)
    assert Tool.objects.count() == tools
    assert FeedEntry.objects.count() == 5
    assert PipelineRun.objects.count() == 2


def test_a_new_entry_on_a_later_day_is_imported_and_changed_tools_are_reviewed(
    feeds, fake_panel, feed_server
):
    pipeline.run_pipeline(DAY)
    feed_server.add(
        "/rss",
        rss(
            [
                ("Introducing Acme Coder: an AI pair programmer", "https://acme.dev/coder", "x"),
                ("Bolt Review: code review bot", "https://bolt.example/", "Bolt reviews code."),
            ]
        ),
    )
    cursor = Tool.objects.get(slug="cursor")
    cursor.tagline = "AI code editor, now with agents"
    cursor.save()  # an editor's change since the last run
    fake_panel.calls.clear()
    run = pipeline.run_pipeline(DAY + dt.timedelta(days=1))
    assert (run.new_entries, run.imported) == (1, 1)
    bolt = Tool.objects.get(slug="bolt-review")
    assert fake_panel.calls == [[bolt.pk, cursor.pk]]


def test_panel_failure_is_recorded_and_tools_still_publish(feeds, fake_panel):
    fake_panel.fail = True
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.DONE
    assert run.panel_note == "panel failed: RuntimeError: model server down"
    assert run.reviewed == 0
    assert Tool.objects.get(slug="acme-coder").is_published


def test_panel_unavailable_is_recorded(feeds, monkeypatch):
    from toolverdict.panel import services as panel_services

    monkeypatch.delattr(panel_services, "review_tools", raising=False)
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.DONE
    assert run.panel_note == "panel unavailable"
    assert Tool.objects.get(slug="lintly").is_published


def test_review_limit_leaves_the_rest_to_the_panel_queue(feeds, fake_panel, settings):
    settings.TOOLVERDICT_INGEST_REVIEW_LIMIT = 2
    run = pipeline.run_pipeline(DAY)
    assert run.reviewed == 2
    new_ids = publishing.run_tool_ids(run)
    assert fake_panel.calls == [new_ids[:2]]
    assert new_ids[2:] in fake_panel.enqueued
    assert run.panel_note == "1 more tools left to the panel queue"


def test_an_entry_the_catalog_schema_rejects_is_marked_invalid(
    starter_catalog, feed_server, fake_panel
):
    dev = Category.objects.get(slug="developer-tools")
    long_link = "https://long.example/" + "a" * 300
    url = feed_server.add(
        "/rss",
        rss(
            [
                ("Good Tool", "", "Has no link."),  # invalid, and must not shadow the next one
                ("Good Tool", "https://good.example/", "Fine."),
                ("Long Tool", long_link, "Its address is too long for the catalog."),
            ]
        ),
    )
    Feed.objects.create(name="Mixed", url=url, category=dev, vendor="x" * 80)
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.DONE
    assert (run.new_candidates, run.duplicates, run.imported, run.invalid) == (1, 0, 1, 2)
    assert Tool.objects.get(slug="good-tool").homepage == "https://good.example/"
    problems = dict(
        Candidate.objects.filter(status=CandidateStatus.INVALID).values_list("name", "problem")
    )
    assert problems["Good Tool"] == "the entry has no link to the tool"
    assert problems["Long Tool"] == "homepage: Value error, URL longer than 300 characters"


def test_a_crash_marks_the_run_failed_and_a_retry_resumes(feeds, fake_panel, monkeypatch):
    real = pipeline.choose_comparison

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "choose_comparison", boom)
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.FAILED and run.error == "RuntimeError: disk full"
    assert not Tool.objects.get(slug="acme-coder").is_published  # half-done work stays hidden

    monkeypatch.setattr(pipeline, "choose_comparison", real)
    retry = pipeline.run_pipeline(DAY)
    assert retry.status == RunStatus.DONE and retry.attempts == 2
    assert retry.imported == 3  # nothing imported twice
    assert Tool.objects.get(slug="acme-coder").is_published
    assert DailyComparison.objects.filter(run=retry).count() == 3


def test_tick_queues_the_day_once(starter_catalog, dummy_tasks, settings):
    settings.TOOLVERDICT_INGEST_HOUR = 6
    early = dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC)
    assert periodic.tick(early) == "ingest: not before 06:00 UTC"
    assert dummy_tasks.results == []
    now = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    assert periodic.tick(now) == "ingest 2026-11-24: queued"
    assert periodic.tick(now) == "ingest 2026-11-24: queued"  # already queued: not again
    assert len(dummy_tasks.results) == 1
    assert dummy_tasks.results[0].args == ["2026-11-24"]
    assert dummy_tasks.results[0].task.queue_name == "ingest"


def test_tick_requeues_a_failed_day_a_few_times(starter_catalog, dummy_tasks):
    now = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    PipelineRun.objects.create(day=now.date(), status=RunStatus.FAILED, attempts=1, finished_at=now)
    assert periodic.tick(now) == "ingest 2026-11-24: failed"  # too soon after the failure
    assert periodic.tick(now + dt.timedelta(minutes=16)) == "ingest 2026-11-24: queued"
    PipelineRun.objects.filter(day=now.date()).update(status=RunStatus.FAILED, attempts=3)
    assert periodic.tick(now) == "ingest 2026-11-24: failed"
    # Run outside any task (here: no database queue), so nothing tells whether it lives:
    # it counts as alive for TOOLVERDICT_TASK_ORPHAN_AFTER (3 h), then as dead.
    started = timezone.now() - dt.timedelta(hours=1)
    PipelineRun.objects.filter(day=now.date()).update(status=RunStatus.RUNNING, started_at=started)
    assert periodic.tick(now) == "ingest 2026-11-24: running"
    PipelineRun.objects.filter(day=now.date()).update(
        started_at=timezone.now() - dt.timedelta(hours=3, minutes=1)
    )
    assert periodic.tick(now) == "ingest 2026-11-24: queued"
    PipelineRun.objects.filter(day=now.date()).update(status=RunStatus.DONE)
    assert periodic.tick(now) == "ingest 2026-11-24: done"
    assert len(dummy_tasks.results) == 2


def test_tick_runs_the_pipeline_through_the_task_queue(feeds, fake_panel, immediate_tasks):
    now = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    periodic.tick(now)
    run = PipelineRun.objects.get(day=now.date())
    assert run.status == RunStatus.DONE and run.imported == 3


def test_ingest_command_prints_the_run_record(feeds, fake_panel):
    out = StringIO()
    call_command("ingest", "--date", "2026-11-24", stdout=out)
    text = out.getvalue()
    assert "pipeline 2026-11-24: done (attempt 1)" in text
    assert "imported 3" in text
    assert f"feed 'Slow' ({feeds['Slow'].url}): timed out" in text
    out = StringIO()
    call_command("ingest", "--date", "2026-11-24", stdout=out)
    assert "already done" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("ingest", "--date", "yesterday")


def test_staff_can_read_run_records_and_others_cannot(feeds, fake_panel, client, django_user_model):
    pipeline.run_pipeline(DAY)
    url = reverse("ingest:run", args=["2026-11-24"])
    assert client.get(url).status_code == 302  # to the login page
    staff = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    client.force_login(staff)
    listing = client.get(reverse("ingest:runs")).content.decode()
    assert "2026-11-24" in listing
    page = client.get(url).content.decode()
    assert "timed out" in page and "Huge" in page
    assert "Acme Coder vs" in page or "vs Acme Coder" not in page
    assert "same homepage as Cursor" in page
    assert client.get(reverse("ingest:run", args=["not-a-day"])).status_code == 404


def test_failed_persona_reviews_are_counted_in_the_note(monkeypatch):
    from types import SimpleNamespace

    from toolverdict.panel import services as panel_services

    outcomes = [SimpleNamespace(status="published"), SimpleNamespace(status="failed")]
    monkeypatch.setattr(
        panel_services, "review_tools", lambda ids, model=None: outcomes, raising=False
    )
    assert publishing.review([1, 2]) == (2, "1 persona reviews failed")
    assert publishing.review([]) == (0, "")


def test_a_feed_on_a_private_address_is_refused_and_recorded(
    starter_catalog, feed_server, fake_panel, settings
):
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    dev = Category.objects.get(slug="developer-tools")
    url = feed_server.add("/rss", rss([("Sneaky", "https://sneaky.example/", "x")]))
    feed = Feed.objects.create(name="Internal", url=url, category=dev)
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.DONE
    assert run.feed_errors[str(feed.pk)].startswith("refused: 127.0.0.1 resolves to 127.0.0.1")
    assert "public addresses" in run.feed_errors[str(feed.pk)]
    assert feed_server.hits == {}  # nothing was fetched
    assert run.feeds_read == 0 and not FeedEntry.objects.exists()
    feed.refresh_from_db()
    assert feed.last_error.startswith("refused:")


def test_feeds_with_the_same_name_keep_their_own_errors(
    starter_catalog, feed_server, fake_panel, client, django_user_model
):
    dev = Category.objects.get(slug="developer-tools")
    broken_url = feed_server.add("/broken", "<html>oops</html>", content_type="text/html")
    good_url = feed_server.add("/rss", rss([("Orbit", "https://orbit.example/", "Orbit ships.")]))
    broken = Feed.objects.create(name="Launches", url=broken_url, category=dev)
    Feed.objects.create(name="Launches", url=good_url, category=dev)  # read after the broken one
    run = pipeline.run_pipeline(DAY)
    assert run.feed_errors == {str(broken.pk): run.feed_errors[str(broken.pk)]}
    assert "not a feed" in run.feed_errors[str(broken.pk)]
    assert run.feeds_read == 1 and Tool.objects.filter(slug="orbit").exists()
    editor = django_user_model.objects.create_superuser("ed", "ed@example.test", "pw")
    client.force_login(editor)
    page = client.get(reverse("ingest:run", args=[DAY.isoformat()])).content.decode()
    shown = f'<strong>Launches</strong> <span class="muted">{broken_url}</span>: not a feed'
    assert shown in page
    assert good_url not in page
    admin_page = client.get(reverse("admin:ingest_pipelinerun_change", args=[run.pk]))
    assert f"<strong>Launches</strong> {broken_url}: not a feed" in admin_page.content.decode()


def test_a_dripping_feed_is_recorded_and_the_run_goes_on(
    starter_catalog, feed_server, fake_panel, settings
):
    settings.TOOLVERDICT_INGEST_TIMEOUT = 0.5
    dev = Category.objects.get(slug="developer-tools")
    drip = feed_server.add("/drip", rss([("Never", "https://never.example/", "x")]), drip=0.2)
    good = feed_server.add("/rss", rss([("Orbit", "https://orbit.example/", "Orbit ships.")]))
    slow = Feed.objects.create(name="Drip", url=drip, category=dev)
    Feed.objects.create(name="Good", url=good, category=dev)
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.DONE
    assert run.feed_errors[str(slow.pk)].startswith("too slow: not complete after 1.5 s")
    assert run.feeds_read == 1 and run.imported == 1
    assert Tool.objects.get(slug="orbit").is_published
    assert not FeedEntry.objects.filter(feed=slow).exists()


def test_entries_of_a_run_that_failed_get_candidates_on_the_next_run_once(
    feeds, fake_panel, monkeypatch
):
    real = pipeline.dedupe_entries

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "dedupe_entries", boom)
    failed = pipeline.run_pipeline(DAY)
    assert failed.status == RunStatus.FAILED and failed.new_entries == 5
    assert not Candidate.objects.exists()
    PipelineRun.objects.filter(pk=failed.pk).update(attempts=periodic.MAX_ATTEMPTS)  # given up

    monkeypatch.setattr(pipeline, "dedupe_entries", real)
    nextday = pipeline.run_pipeline(DAY + dt.timedelta(days=1))
    assert nextday.status == RunStatus.DONE
    assert nextday.new_entries == 0  # stored the day before, not again
    assert (nextday.new_candidates, nextday.duplicates, nextday.imported) == (3, 2, 3)
    assert set(FeedEntry.objects.values_list("run", flat=True)) == {nextday.pk}
    assert Tool.objects.get(slug="acme-coder").is_published

    # A later forced retry of the failed day finds nothing left to do: one candidate each.
    retry = pipeline.run_pipeline(DAY, again=True)
    assert retry.status == RunStatus.DONE and retry.new_candidates == 0
    assert Candidate.objects.count() == FeedEntry.objects.count() == 5
    assert not FeedEntry.objects.filter(candidate__isnull=True).exists()


def test_entries_of_a_live_run_are_left_to_it(feeds, fake_panel):
    other = PipelineRun.objects.create(
        day=DAY - dt.timedelta(days=1), status=RunStatus.RUNNING, started_at=timezone.now()
    )
    entry = FeedEntry.objects.create(
        feed=feeds["Launch RSS"], guid="live", title="Live Tool", link="https://live.example/"
    )
    FeedEntry.objects.filter(pk=entry.pk).update(run=other)
    run = pipeline.run_pipeline(DAY)
    assert run.status == RunStatus.DONE
    entry.refresh_from_db()
    assert entry.run_id == other.pk and not Candidate.objects.filter(entry=entry).exists()


def test_tick_retries_recent_failed_days(starter_catalog, dummy_tasks):
    now = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
    long_ago = now - dt.timedelta(hours=2)
    for days_back, attempts in ((1, 1), (2, periodic.MAX_ATTEMPTS), (9, 1)):
        PipelineRun.objects.create(
            day=now.date() - dt.timedelta(days=days_back),
            status=RunStatus.FAILED,
            attempts=attempts,
            finished_at=long_ago,
        )
    assert periodic.tick(now) == "ingest 2026-11-24: queued; retrying 2026-11-23"
    assert sorted(r.args[0] for r in dummy_tasks.results) == ["2026-11-23", "2026-11-24"]
    assert periodic.tick(now) == "ingest 2026-11-24: queued"  # both already queued
    assert len(dummy_tasks.results) == 2


def test_feed_error_rows_read_old_and_orphaned_keys(starter_catalog):
    run = PipelineRun.objects.create(
        day=DAY, feed_errors={"Old Name": "HTTP 500 from the feed server", "99999": "gone"}
    )
    rows = candidates.feed_error_rows(run)
    assert [(r.name, r.url, r.error) for r in rows] == [
        ("Old Name", "", "HTTP 500 from the feed server"),
        ("feed 99999", "", "gone"),
    ]
