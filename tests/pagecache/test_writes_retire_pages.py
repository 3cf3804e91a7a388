"""Edits retire the cached pages that show them, whichever way they are made.

A tool page and a comparison page are first served from the cache (the second request
makes one query, the versions lookup), then the tool is changed through the admin's
change form, a plain ``save()``, or the project's own bulk update; its prices and facts
likewise, and a reader votes. The next request must show the change. A queryset
``update()`` typed by hand sends no signal and retires nothing: docs/caching.md, "Bulk
writes", and test_bulk_writes.py, which holds the project's own code to that rule.

Writes commit through django_capture_on_commit_callbacks(execute=True), as a request or a
task would, since pages are retired when a write commits.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from toolverdict.catalog.models import Fact, PricePoint, Tool
from toolverdict.catalog.scopes import CATALOG
from toolverdict.catalog.services import set_published
from toolverdict.community.models import Member
from toolverdict.pagecache.versions import invalidate

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]

SLUG, OTHER = "claude-4-sonnet", "smolvlm-2-5"
TOOL = f"/tools/{SLUG}/"
PAIR = f"/compare/{SLUG}-vs-{OTHER}/"
NEW_TEXT = "A description written after the page was cached."


@pytest.fixture(autouse=True)
def votes_count_at_once(settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0  # no time-based rollover inside a test
    settings.TOOLVERDICT_RATE_LIMITS = {
        **settings.TOOLVERDICT_RATE_LIMITS,
        "vote_user": "1000/60",
        "vote_ip": "1000/60",
    }


def cached(client: Client, *urls: str) -> dict[str, object]:
    """Each page rendered once, then confirmed served from the cache: the repeat makes
    one query (the versions lookup) and answers the same bytes."""
    first = {url: client.get(url) for url in urls}
    for url, response in first.items():
        assert response.status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            again = client.get(url)
        assert len(ctx.captured_queries) == 1, f"{url} was not served from the cache"
        assert again.content == response.content
    return first


def retired(url: str, before) -> bool:
    """The stored page is no longer current: its ETag does not revalidate."""
    return Client().get(url, headers={"If-None-Match": before["ETag"]}).status_code == 200


def page(url: str) -> str:
    return Client().get(url).content.decode()


# --- the admin's change form, posted as a browser would ---------------------------------


class _FormFields(HTMLParser):
    """The fields a browser would submit from the page's forms (no JavaScript)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def _add(self, name: str | None, value: str) -> None:
        if name and "__prefix__" not in name:  # an inline's empty template form
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a.get("name"), a.get("value") or "on")
                return
            self._add(a.get("name"), a.get("value") or "")
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected]
            for value in chosen or [v for v, _ in self._options[:1]]:
                self._add(self._select, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, self._text.removeprefix("\n"))
            self._textarea = None


def admin_change(client: Client, tool: Tool, **changes: str):
    """GET the tool's change form, change ``changes`` and POST it with "Save"."""
    url = reverse("admin:catalog_tool_change", args=[tool.pk])
    form = client.get(url)
    assert form.status_code == 200
    parser = _FormFields()
    parser.feed(form.content.decode())
    data = {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}
    for name, value in changes.items():
        assert name in data, f"the change form has no field {name}"
        data[name] = value
    data["_save"] = "Save"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


@pytest.fixture
def editor() -> Client:
    user = get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


# --- the tool itself ----------------------------------------------------------------------


def test_an_admin_edit_retires_the_tool_and_comparison_pages(
    starter_catalog, editor, django_capture_on_commit_callbacks
):
    before = cached(Client(), TOOL, PAIR)
    assert NEW_TEXT not in before[TOOL].content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_change(editor, Tool.objects.get(slug=SLUG), description=NEW_TEXT)
    assert Tool.objects.get(slug=SLUG).description == NEW_TEXT
    for url in (TOOL, PAIR):
        assert retired(url, before[url])
        assert NEW_TEXT in page(url)


def test_a_plain_save_retires_the_tool_and_comparison_pages(
    starter_catalog, django_capture_on_commit_callbacks
):
    before = cached(Client(), TOOL, PAIR)
    with django_capture_on_commit_callbacks(execute=True):
        tool = Tool.objects.get(slug=SLUG)
        tool.description = NEW_TEXT
        tool.save()
    for url in (TOOL, PAIR):
        assert retired(url, before[url])
        assert NEW_TEXT in page(url)


def test_a_queryset_update_retires_nothing_until_the_writer_invalidates(
    starter_catalog, django_capture_on_commit_callbacks
):
    """``update()`` sends no signal: the page cache cannot see it (docs/caching.md). Code
    that uses one on a registered model retires the pages itself, as here."""
    before = cached(Client(), TOOL, PAIR)
    with django_capture_on_commit_callbacks(execute=True):
        Tool.objects.filter(slug=SLUG).update(description=NEW_TEXT)
    for url in (TOOL, PAIR):
        assert not retired(url, before[url])
        assert NEW_TEXT not in page(url)  # the stored page, as documented
    with django_capture_on_commit_callbacks(execute=True):
        invalidate(CATALOG)
    for url in (TOOL, PAIR):
        assert NEW_TEXT in page(url)


def test_the_projects_own_bulk_update_hiding_a_tool_retires_its_pages(
    starter_catalog, django_capture_on_commit_callbacks
):
    """``set_published`` (the daily ingest's publish stage) is a queryset update."""
    before = cached(Client(), "/", "/tools/", PAIR)
    assert "Claude 4 Sonnet" in before["/tools/"].content.decode()
    tool = Tool.objects.get(slug=SLUG)
    with django_capture_on_commit_callbacks(execute=True):
        assert set_published([tool.pk], False) == 1
    assert "Claude 4 Sonnet" not in page("/tools/")
    assert Client().get(PAIR).status_code == 404
    assert retired("/", before["/"])
    after = cached(Client(), "/tools/")
    with django_capture_on_commit_callbacks(execute=True):
        assert set_published([tool.pk], True) == 1
    assert retired("/tools/", after["/tools/"])
    assert "Claude 4 Sonnet" in page("/tools/")


# --- its prices and facts -----------------------------------------------------------------


def test_a_price_changed_in_the_admin_retires_the_comparison_page(
    starter_catalog, editor, django_capture_on_commit_callbacks
):
    tool = Tool.objects.get(slug=SLUG)
    first = tool.price_points.order_by("position", "id").first()
    before = cached(Client(), TOOL, PAIR)
    assert "$123.45" not in before[PAIR].content.decode()
    # The price's row in the inline formset: the form whose hidden id is this price's.
    form = _FormFields()
    form.feed(editor.get(reverse("admin:catalog_tool_change", args=[tool.pk])).content.decode())
    (row,) = (
        name.removesuffix("-id")
        for name, value in form.data.items()
        if name.startswith("price_points-") and name.endswith("-id") and value == [str(first.pk)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_change(editor, tool, **{f"{row}-amount": "123.45"})
    assert str(PricePoint.objects.get(pk=first.pk).amount.normalize()) == "123.45"
    for url in (TOOL, PAIR):
        assert retired(url, before[url])
        assert "$123.45" in page(url)


def test_a_price_saved_in_code_retires_the_comparison_page(
    starter_catalog, django_capture_on_commit_callbacks
):
    before = cached(Client(), PAIR)
    with django_capture_on_commit_callbacks(execute=True):
        price = PricePoint.objects.filter(tool__slug=SLUG).order_by("position", "id").first()
        price.amount = 123.45
        price.save()
    assert retired(PAIR, before[PAIR])
    assert "$123.45" in page(PAIR)


def test_a_fact_saved_in_code_retires_the_tool_and_comparison_pages(
    starter_catalog, django_capture_on_commit_callbacks
):
    before = cached(Client(), TOOL, PAIR)
    with django_capture_on_commit_callbacks(execute=True):
        fact = Fact.objects.filter(tool__slug=SLUG).first()
        fact.value = "A fact edited after the page was cached"
        fact.save()
    assert "A fact edited after the page was cached" in page(TOOL)
    assert retired(PAIR, before[PAIR])  # it shows the tool's card, from the catalog


# --- the community ------------------------------------------------------------------------


@pytest.fixture
def reader() -> Client:
    user = get_user_model().objects.create_user("reader@example.com", "reader@example.com")
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now())
    client = Client()
    client.force_login(user)
    return client


def test_a_readers_ship_vote_retires_the_tool_and_comparison_pages(
    starter_catalog, reader, django_capture_on_commit_callbacks
):
    before = cached(Client(), TOOL, PAIR)
    assert "1 community vote" not in before[PAIR].content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        voted = reader.post(reverse("community:vote_tool", args=[SLUG]), {"value": "ship"})
    assert voted["X-Vote-Accepted"] == "1"
    for url in (TOOL, PAIR):
        assert retired(url, before[url])
        assert "1 community vote" in page(url)


def test_a_readers_head_to_head_vote_retires_the_comparison_page(
    starter_catalog, reader, django_capture_on_commit_callbacks
):
    before = cached(Client(), TOOL, PAIR)
    assert "No head-to-head votes yet." in before[PAIR].content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        voted = reader.post(reverse("community:vote_pair", args=[SLUG, OTHER]), {"winner": OTHER})
    assert voted["X-Vote-Accepted"] == "1"
    assert retired(PAIR, before[PAIR])
    assert "<strong>100%</strong> SmolVLM 2.5" in page(PAIR)
    assert not retired(TOOL, before[TOOL])  # a head-to-head vote leaves the tool page be


def test_deactivating_a_voter_retires_the_pages_their_vote_counted_on(
    starter_catalog, reader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reader.post(reverse("community:vote_tool", args=[SLUG]), {"value": "ship"})
    before = cached(Client(), TOOL)
    assert "1 community vote" in before[TOOL].content.decode()
    user = get_user_model().objects.get(username="reader@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        user.save(update_fields=["last_login"])  # a sign-in: no page changes
    assert not retired(TOOL, before[TOOL])
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    assert retired(TOOL, before[TOOL])
    assert "1 community vote" not in page(TOOL)
