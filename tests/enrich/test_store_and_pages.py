"""From a feed entry to a tool page: "Unknown" pricing before enrichment, the extracted,
unreviewed values (citing their page and fetch time) after it; the editor's queue; a
re-fetch that finds a changed price; the periodic job; the command."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.loopback import QuietHandler, loopback_http
from toolverdict.catalog.models import Category, Fact, PricePoint, Pricing, Tool
from toolverdict.enrich import periodic, review
from toolverdict.enrich.extract import Extracted, Extraction, PriceValue
from toolverdict.enrich.models import Enrichment, PriceChange, Rejection
from toolverdict.enrich.services import enrich_tool
from toolverdict.enrich.store import store
from toolverdict.ingest.models import Feed
from toolverdict.ingest.pipeline import run_pipeline


@pytest.fixture
def category(db):
    return Category.objects.create(slug="writing", name="Writing")


def make_tool(category, homepage: str, **fields) -> Tool:
    defaults = {
        "slug": "quillpad",
        "name": "Quillpad",
        "vendor": "Quillpad Inc.",
        "tagline": "AI writing desk",
        "homepage": homepage,
    }
    return Tool.objects.create(category=category, **{**defaults, **fields})


@pytest.fixture
def feed_of(settings):
    """A loopback RSS feed announcing the given (title, link) entries."""
    release = threading.Event()
    servers = []

    def serve(entries: list[tuple[str, str]]) -> str:
        items = "".join(
            f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
            f"<description>{title} helps teams write.</description></item>"
            for title, link in entries
        )
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>'
            f"{items}</channel></rss>"
        )

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        context = loopback_http(Handler, release)
        servers.append(context)
        return context.__enter__() + "/feed.xml"

    yield serve
    for context in servers:
        context.__exit__(None, None, None)


@pytest.mark.django_db
def test_an_ingested_tool_shows_unknown_pricing_then_its_extracted_values(
    category, web, feed_of, settings, monkeypatch, client, dummy_tasks
):
    settings.TOOLVERDICT_INGEST_EMBEDDER = "ngram"
    monkeypatch.setattr("toolverdict.ingest.publishing.panel_reviewer", lambda: None)
    url = feed_of([("Quillpad: the AI writing desk", web["quillpad"])])
    Feed.objects.create(name="Launches", url=url, category=category, pricing="freemium")

    settings.TOOLVERDICT_ENRICH_ON_ARRIVAL = False
    run = run_pipeline(dt.date(2026, 12, 1))
    assert run.status == "done", run.error
    tool = Tool.objects.get()
    assert tool.pricing == Pricing.UNKNOWN and tool.entry_price == "Unknown"
    page = client.get(tool.get_absolute_url()).content.decode()
    assert "Unknown" in page and "Freemium" not in page
    assert "Pricing unknown" in page

    settings.TOOLVERDICT_ENRICH_ON_ARRIVAL = True
    report = enrich_tool(tool)
    assert report.pages_read == 3
    tool.refresh_from_db()
    assert tool.pricing == "freemium" and tool.pricing_unreviewed
    assert tool.entry_price == "Freemium (unreviewed)"
    pro = PricePoint.objects.get(tool=tool, amount=Decimal("12"))
    assert pro.is_unreviewed_extraction
    assert pro.source_url == web["quillpad"] + "en/pricing"  # the page after the redirect
    assert pro.fetched_at is not None and "$12 /user/month" in pro.snippet
    assert (pro.unit, pro.billing_period) == ("seat/month", "monthly")
    page = client.get(tool.get_absolute_url()).content.decode()
    assert "Freemium (unreviewed)" in page
    assert "extracted, not reviewed by an editor" in page
    # The editor's announcement fact is untouched, and stays the editor's.
    assert Fact.objects.get(tool=tool, key="announcement").origin == "editor"


@pytest.mark.django_db
def test_the_pipeline_enriches_new_tools_before_the_panel(
    category, web, feed_of, settings, monkeypatch, dummy_tasks
):
    settings.TOOLVERDICT_INGEST_EMBEDDER = "ngram"
    seen: list[list[str]] = []

    def reviewer(tool_ids, model=None):
        seen.append(list(Fact.objects.filter(tool_id__in=tool_ids).values_list("key", flat=True)))
        return []

    monkeypatch.setattr("toolverdict.ingest.publishing.panel_reviewer", lambda: reviewer)
    url = feed_of([("Lumen-7B: an open code model", web["lumen"])])
    Feed.objects.create(name="Models", url=url, category=category)
    run = run_pipeline(dt.date(2026, 12, 2))
    assert run.status == "done", run.error
    assert "license" in seen[0] and "open_weights" in seen[0]
    assert "enriched 1 tool(s)" in run.panel_note


@pytest.mark.django_db
def test_the_review_queue_accepts_corrects_and_rejects(category, web, admin_client):
    tool = make_tool(category, web["lumen"], slug="lumen-7b", name="Lumen-7B")
    enrich_tool(tool)
    page = admin_client.get("/enrich/queue/").content.decode()
    assert "Lumen-7B" in page and "Apache License, Version 2.0" in page
    licence = Fact.objects.get(tool=tool, key="license")
    response = admin_client.post(f"/enrich/queue/fact/{licence.pk}/accept/")
    assert response.status_code == 302
    licence.refresh_from_db()
    tool.refresh_from_db()
    assert licence.reviewed_at and licence.as_of == timezone.now().date()
    assert not licence.is_unreviewed_extraction and tool.license == "Apache-2.0"

    window = Fact.objects.get(tool=tool, key="context_window")
    admin_client.post(f"/enrich/queue/fact/{window.pk}/correct/", {"value": "32000"})
    window.refresh_from_db()
    assert window.value == "32000" and window.reviewed_at

    weights = Fact.objects.get(tool=tool, key="open_weights")
    admin_client.post(f"/enrich/queue/fact/{weights.pk}/reject/")
    assert not Fact.objects.filter(pk=weights.pk).exists()
    assert Rejection.objects.filter(tool=tool, key="open_weights").exists()
    enrich_tool(tool)  # read again: the rejected value stays out, the accepted one stays
    assert not Fact.objects.filter(tool=tool, key="open_weights").exists()
    assert Fact.objects.filter(tool=tool, key="license", reviewed_at__isnull=False).count() == 1


@pytest.mark.django_db
def test_the_queue_is_for_editors_only(client, db):
    assert client.get("/enrich/queue/").status_code == 302  # to the sign-in page


def _extraction(url: str, amount: str) -> Extraction:
    price = PriceValue("Pro", Decimal(amount), "USD", "month", "")
    item = Extracted("price", amount, url, (f"${amount} per month",), "card", price)
    return Extraction(prices=[item])


@pytest.mark.django_db
def test_a_changed_price_is_recorded_and_supersedes_the_accepted_one(
    category, django_capture_on_commit_callbacks
):
    tool = make_tool(category, "https://quill.example/")
    url = "https://quill.example/pricing"
    now = timezone.now()
    store(tool.pk, _extraction(url, "12"), {url: now}, [], "extracted")
    old = PricePoint.objects.get(tool=tool)
    review.accept("price", old.pk, None)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = store(tool.pk, _extraction(url, "15"), {url: now}, [], "extracted")
    assert report.changed and callbacks  # announced: the panel re-reads the dossier
    change = PriceChange.objects.get(tool=tool)
    assert (change.old_amount, change.new_amount) == (Decimal("12"), Decimal("15"))
    assert list(PricePoint.objects.filter(tool=tool).values_list("amount", flat=True)) == [
        Decimal("15")
    ]


@pytest.mark.django_db
def test_storing_is_all_or_nothing(category, monkeypatch):
    tool = make_tool(category, "https://quill.example/")
    url = "https://quill.example/pricing"
    store(tool.pk, _extraction(url, "12"), {url: timezone.now()}, [], "extracted")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Fact.objects, "bulk_create", broken)
    extraction = _extraction(url, "20")
    extraction.facts = [Extracted("api", "yes", url, ("REST API",), "text")]
    with pytest.raises(RuntimeError):
        store(tool.pk, extraction, {url: timezone.now()}, [], "extracted")
    assert list(PricePoint.objects.filter(tool=tool).values_list("amount", flat=True)) == [
        Decimal("12")
    ]


@pytest.mark.django_db
def test_the_editors_pricing_is_never_replaced(category):
    tool = make_tool(category, "https://quill.example/", pricing="paid")
    url = "https://quill.example/"
    extraction = Extraction(
        facts=[Extracted("pricing_model", "free", url, ("completely free",), "text")]
    )
    store(tool.pk, extraction, {url: timezone.now()}, [], "extracted")
    tool.refresh_from_db()
    assert (tool.pricing, tool.pricing_unreviewed) == ("paid", False)
    assert Fact.objects.get(tool=tool, key="pricing_model").is_unreviewed_extraction


@pytest.mark.django_db
def test_the_periodic_job_queues_one_batch_and_the_task_claims_the_due_tools(
    category, db_queue, monkeypatch
):
    from toolverdict.enrich import services, tasks

    fresh = make_tool(category, "https://a.example/", slug="a")
    stale = make_tool(category, "https://b.example/", slug="b")
    make_tool(category, "https://c.example/", slug="c", is_published=False)
    now = timezone.now()
    Enrichment.objects.create(tool=fresh, ran_at=now)
    Enrichment.objects.create(tool=stale, ran_at=now - dt.timedelta(days=30))
    assert periodic.tick(now) == "enrich: batch queued"
    assert periodic.tick(now) == "enrich: a batch is queued or running"
    enriched: list[list[int]] = []
    monkeypatch.setattr(services, "enrich_ids", lambda ids: enriched.append(ids) or [])
    assert tasks.enrich_due.call().startswith("enriched 0 tool(s)")
    assert enriched == [[stale.pk]]  # only the due, published tool
    claim = Enrichment.objects.get(tool=stale)
    assert claim.claimed_by.startswith("untracked:")  # called outside a worker


@pytest.mark.django_db
def test_the_enrich_command_prints_what_each_tool_gave(category, web, capsys):
    make_tool(category, web["gridmind"], slug="gridmind", name="GridMind")
    call_command("enrich", "gridmind")
    out = capsys.readouterr().out
    assert "gridmind: 2 page(s) read, 1 price(s) and 3 fact(s) extracted" in out
    with pytest.raises(Exception, match="no such tool: nope"):
        call_command("enrich", "nope")
