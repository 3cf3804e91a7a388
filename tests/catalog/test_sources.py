"""Source checks: a real fetch of each cited URL (loopback server), what pages then say."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from toolverdict.catalog import sources
from toolverdict.catalog.models import Category, Fact, Source, Tool
from toolverdict.ingest import source_checks
from toolverdict.ingest.periodic import check_sources as check_sources_tick
from toolverdict.panel.models import Claim, Review

from .conftest import Page

pytestmark = pytest.mark.django_db


def make_tool(urls: list[str], slug: str = "probe") -> Tool:
    category, _ = Category.objects.get_or_create(slug="developer-tools", name="Developer Tools")
    tool = Tool.objects.create(
        slug=slug,
        name=slug.title(),
        vendor="Probe Labs",
        category=category,
        tagline="A tool whose sources are checked",
        homepage="https://probe.example/",
        pricing="free",
    )
    for i, url in enumerate(urls):
        Fact.objects.create(
            tool=tool, key=f"fact_{i}", value=f"Value {i}", source_url=url, position=i
        )
    return tool


def check(url: str) -> Source:
    source_checks.check_sources([url])
    return Source.objects.get(url=url)


def test_a_live_source_records_status_final_url_date_and_content_hash(
    source_server, source_settings
):
    body = b"<html>Pricing: $3 per million tokens</html>"
    url = source_server.add("/pricing", Page(body=body))
    make_tool([url])
    before = timezone.now()
    source = check(url)
    assert source.outcome == Source.Outcome.OK
    assert source.http_status == 200
    assert source.final_url == url
    assert source.content_sha256 == hashlib.sha256(body).hexdigest()
    assert source.checked_at >= before and source.last_ok_at == source.checked_at
    assert source.failures == 0
    assert source_server.hits == {"/pricing": 1}


def test_the_request_names_the_checker_in_its_user_agent(source_server, source_settings):
    url = source_server.add("/about")
    make_tool([url])
    check(url)
    assert source_server.agents[0].startswith("toolverdict-source-check/")
    assert "/data/" in source_server.agents[0]


def test_a_missing_page_is_recorded_as_an_http_error_with_its_status(
    source_server, source_settings
):
    url = source_server.base + "/gone"
    make_tool([url])
    source = check(url)
    assert source.outcome == Source.Outcome.HTTP_ERROR
    assert source.http_status == 404
    assert source.is_dead and source.failures == 1
    assert sources.source_status(source).label.startswith("source unreachable (HTTP 404")


def test_a_redirect_is_followed_and_the_final_url_recorded(source_server, source_settings):
    new = source_server.add("/docs/v2", Page(body=b"moved here"))
    old = source_server.add(
        "/docs/v1", Page(status=301, body=b"", headers={"Location": "/docs/v2"})
    )
    make_tool([old])
    source = check(old)
    assert source.outcome == Source.Outcome.OK
    assert source.final_url == new
    assert source.content_sha256 == hashlib.sha256(b"moved here").hexdigest()
    assert source_server.hits == {"/docs/v1": 1, "/docs/v2": 1}


def test_a_server_that_does_not_answer_in_time_is_unreachable(source_server, source_settings):
    url = source_server.add("/slow", Page(delay=5))
    make_tool([url])
    source = check(url)
    assert source.outcome == Source.Outcome.UNREACHABLE
    assert "timed out" in source.detail
    assert source.http_status is None and source.content_sha256 == ""


@pytest.mark.parametrize("send_length", [True, False])
def test_an_oversized_page_is_not_read_past_the_limit(source_server, source_settings, send_length):
    url = source_server.add("/huge", Page(body=b"x" * 200_000, send_length=send_length))
    make_tool([url])
    source = check(url)
    assert source.outcome == Source.Outcome.TOO_LARGE
    assert "50,000" in source.detail
    assert source.content_sha256 == ""


def test_a_private_address_is_refused_by_the_address_guard_without_a_request(
    source_server, source_settings
):
    source_settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    url = source_server.add("/internal")
    make_tool([url])
    source = check(url)
    assert source.outcome == Source.Outcome.REFUSED
    assert "127.0.0.1 (loopback address)" in source.detail
    assert source_server.hits == {}


def test_a_recovered_source_counts_from_its_new_check(source_server, source_settings):
    url = source_server.base + "/flaky"
    make_tool([url])
    assert check(url).outcome == Source.Outcome.HTTP_ERROR
    source_server.add("/flaky", Page(body=b"back"))
    source = check(url)
    assert source.outcome == Source.Outcome.OK and source.failures == 0
    assert sources.source_status(source).label == "checked today"


def test_one_host_is_asked_one_request_at_a_time_while_hosts_are_checked_together(settings):
    settings.TOOLVERDICT_SOURCES_HOST_INTERVAL = 0.0
    both_hosts_at_once = threading.Barrier(2, timeout=10)
    lock = threading.Lock()
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}
    met: list[bool] = []

    def fetch(url: str) -> sources.CheckResult:
        host = source_checks.host_of(url)
        with lock:
            in_flight[host] = in_flight.get(host, 0) + 1
            most[host] = max(most.get(host, 0), in_flight[host])
        try:
            if url.endswith("/0"):  # each host's first request waits for the other host's
                both_hosts_at_once.wait()
                met.append(True)
            return source_checks.CheckResult(url, "ok", timezone.now())
        finally:
            with lock:
                in_flight[host] -= 1

    urls = [f"https://{host}.example/{i}" for host in ("a", "b") for i in range(4)]
    results = source_checks.check_urls(urls, concurrency=4, fetch=fetch)
    assert sorted(r.url for r in results) == sorted(urls)
    assert met == [True, True]  # both hosts were in flight together
    assert most == {"a.example": 1, "b.example": 1}  # never two requests to one host


# --- what pages say ---------------------------------------------------------------------


def test_starter_facts_say_source_cited_not_yet_checked(starter_catalog):
    page = Client().get("/tools/claude-4-sonnet/").content.decode()
    assert "source cited, not yet checked" in page
    assert "retrieved" not in page
    assert not Fact.objects.exclude(as_of=None).exists()


def test_an_editors_date_is_labelled_as_such_and_is_not_a_check(starter_catalog):
    import datetime as dt

    Fact.objects.filter(tool__slug="claude-4-sonnet").update(as_of=dt.date(2026, 11, 1))
    page = Client().get("/tools/claude-4-sonnet/").content.decode()
    assert "as of 1 Nov 2026 (editor's date)" in page
    assert "source cited, not yet checked" in page


def test_a_checked_source_shows_how_long_ago(starter_catalog):
    fact = Fact.objects.filter(tool__slug="claude-4-sonnet").first()
    Source.objects.create(
        url=fact.source_url,
        checked_at=timezone.now() - timedelta(days=3, hours=1),
        last_ok_at=timezone.now() - timedelta(days=3, hours=1),
        outcome=Source.Outcome.OK,
        http_status=200,
    )
    page = Client().get("/tools/claude-4-sonnet/").content.decode()
    assert "checked 3 days ago" in page


def test_a_source_not_reached_for_the_stale_period_is_stale(starter_catalog, settings):
    settings.TOOLVERDICT_SOURCES_STALE_DAYS = 90
    fact = Fact.objects.filter(tool__slug="claude-4-sonnet").first()
    long_ago = timezone.now() - timedelta(days=91)
    Source.objects.create(
        url=fact.source_url, checked_at=long_ago, last_ok_at=long_ago, outcome="ok"
    )
    page = Client().get("/tools/claude-4-sonnet/").content.decode()
    assert "stale: last checked 91 days ago" in page
    assert sources.stale_or_dead().keys() == {fact.source_url}


def test_a_review_citing_an_unreachable_source_is_marked(starter_catalog):
    from toolverdict.panel.dossier import build_dossier

    tool = Tool.objects.get(slug="claude-4-sonnet")
    fact = tool.facts.first()
    evidence = next(e for e in build_dossier(tool).evidence if e.source_url == fact.source_url)
    review = Review.objects.create(
        tool=tool,
        persona="builder",
        persona_name="Builder",
        status=Review.Status.PUBLISHED,
        verdict="ship",
        reason="Long context",
        model_id="test:hand",
        prompt_version="v1",
        dossier_hash="h",
    )
    Claim.objects.create(
        review=review,
        kind="fact",
        text="It reads a whole repository",
        evidence_ids=[evidence.id],
        support="supported",
    )
    client = Client()
    assert (
        "cites a source that needs checking"
        not in client.get(tool.get_absolute_url()).content.decode()
    )
    Source.objects.create(
        url=fact.source_url,
        checked_at=timezone.now(),
        outcome=Source.Outcome.HTTP_ERROR,
        http_status=410,
        failures=1,
    )
    page = client.get(tool.get_absolute_url()).content.decode()
    assert "cites a source that needs checking" in page
    assert f'href="#evidence-{evidence.id}"' in page
    assert "source unreachable (HTTP 410" in page


@pytest.mark.page_cache
def test_a_status_change_retires_the_cached_tool_page(
    starter_catalog, settings, django_capture_on_commit_callbacks, source_server, source_settings
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    Fact.objects.filter(tool__slug="claude-4-sonnet").update(source_url=source_server.base + "/p")
    Fact.objects.exclude(tool__slug="claude-4-sonnet").delete()
    client = Client()
    first = client.get("/tools/claude-4-sonnet/")
    assert "source cited, not yet checked" in first.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        changed = sources.record(source_checks.check_urls([source_server.base + "/p"]))
    assert changed == [source_server.base + "/p"]
    again = client.get("/tools/claude-4-sonnet/")
    assert again["ETag"] != first["ETag"]
    assert "source unreachable (HTTP 404" in again.content.decode()


# --- the periodic job and the command ---------------------------------------------------


def test_the_periodic_job_queues_one_batch_and_the_task_claims_and_checks_it(
    db_queue, source_server, source_settings
):
    from toolverdict.ingest.tasks import check_due_sources

    urls = [source_server.add("/a"), source_server.add("/b")]
    make_tool(urls)
    assert check_sources_tick() == "sources: batch queued"
    assert check_sources_tick() == "sources: a batch is queued or running"
    # Run outside any worker: its claims are untracked, and recording releases each one.
    assert check_due_sources.call() == "checked 2 source(s): 2 reachable, 2 changed status"
    assert set(Source.objects.values_list("outcome", flat=True)) == {"ok"}
    assert not Source.objects.exclude(claimed_at=None).exists()
    assert set(Source.objects.values_list("claimed_by", flat=True)) == {""}
    # Checked now: not due again until the re-check period has passed.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    assert check_sources_tick() == "sources: nothing due"
    later = timezone.now() + timedelta(days=source_settings.TOOLVERDICT_SOURCES_RECHECK_DAYS + 1)
    assert check_sources_tick(later) == "sources: batch queued"


def test_sources_no_longer_cited_are_forgotten(source_server, source_settings):
    tool = make_tool([source_server.add("/kept"), source_server.add("/dropped")])
    assert sources.sync_sources() == (2, 0)
    tool.facts.filter(source_url__endswith="/dropped").delete()
    assert sources.sync_sources() == (0, 1)
    assert list(Source.objects.values_list("url", flat=True)) == [source_server.base + "/kept"]


def test_the_command_checks_every_cited_source_and_lists_the_dead(
    source_server, source_settings, capsys
):
    live = source_server.add("/live")
    dead = source_server.base + "/dead"
    make_tool([live, dead])
    call_command("check_sources")
    out = capsys.readouterr().out
    assert "2 source(s) checked: 1 reachable, 1 not" in out
    assert f"source unreachable (HTTP 404, checked today): {dead}" in out
    assert Source.objects.get(url=live).outcome == "ok"


def test_the_command_refuses_a_url_nobody_cites(source_settings):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not cited by any published tool"):
        call_command("check_sources", "https://nowhere.example/")
