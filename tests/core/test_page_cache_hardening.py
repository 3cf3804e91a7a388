"""The page cache against hostile input: forged personal-part markers in catalog text,
query strings that would fill the cache, NUL in path parameters, Accept-Encoding q=0.

These commit through django_capture_on_commit_callbacks(execute=True) where a write must
retire pages, as a real request would.
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.community.models import Member
from toolverdict.community.services import cast_pair_vote
from toolverdict.pagecache.middleware import PageCacheMiddleware

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]

TOOL = "/tools/claude-4-sonnet/"
EMAIL = "reader@example.com"
# A catalog name that carries the page cache's marker for the account menu.
FORGED = "<!--pb:nav-->N<!--/pb:nav-->"


@pytest.fixture(autouse=True)
def counted_at_once(settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0


def make_member(email: str = EMAIL):
    user = get_user_model().objects.create_user(username=email, email=email)
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now())
    return user


def stored_pages() -> int:
    """How many pages the embedded per-process cache holds now."""
    return len(caches["pagecache"]._cache)


@pytest.fixture
def forged_tool(starter_catalog, django_capture_on_commit_callbacks) -> Tool:
    claude = Tool.objects.get(slug="claude-4-sonnet")
    with django_capture_on_commit_callbacks(execute=True):
        return Tool.objects.create(
            slug="marker",
            name=FORGED,
            vendor=FORGED,
            category=claude.category,
            tagline=FORGED,
            homepage="https://marker.example/",
            pricing=claude.pricing,
        )


# --- 1. personal parts only where the page's template put them ---------------------------


def test_catalog_text_cannot_fill_a_readers_bits_into_the_json_api(
    forged_tool, django_capture_on_commit_callbacks
):
    reader = make_member()
    claude = Tool.objects.get(slug="claude-4-sonnet")
    with django_capture_on_commit_callbacks(execute=True):
        cast_pair_vote(reader, claude, forged_tool, forged_tool)  # puts it in the rankings
    client = Client()
    client.force_login(reader)
    urls = [
        "/api/tools",
        "/api/tools/marker",
        "/api/compare/claude-4-sonnet/marker",
        "/api/rankings",
    ]
    for url in urls:
        for who in (Client(), client):  # stored by the anonymous request, then the reader's
            response = who.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            data = json.loads(body)  # still JSON
            assert FORGED in json.dumps(data, ensure_ascii=False), url
            assert EMAIL not in body and "csrfmiddlewaretoken" not in body, url


def test_catalog_text_on_an_html_page_stays_text_and_the_readers_bits_fill_only_the_menu(
    forged_tool,
):
    reader = make_member()
    anonymous = Client().get("/tools/marker/").content.decode()  # stored
    assert FORGED not in anonymous  # escaped: "<" never reaches the page from catalog text
    assert "&lt;!--pb:nav--&gt;N&lt;!--/pb:nav--&gt;" in anonymous
    client = Client()
    client.force_login(reader)
    body = client.get("/tools/marker/").content.decode()
    assert body.count(EMAIL) == 1  # the account menu, once
    assert body.count("<!--pb:nav-->") == 1
    assert "&lt;!--pb:nav--&gt;N&lt;!--/pb:nav--&gt;" in body


def test_a_stored_html_page_with_a_marker_the_template_did_not_put_is_not_filled(
    starter_catalog,
):
    from django.http import HttpResponse

    from toolverdict.pagecache.personal import personal_parts

    page = (
        "<nav><!--pb:nav-->x<!--/pb:nav--></nav><main><!--pb:messages--><!--/pb:messages-->"
        "<h1><!--pb:nav-->N<!--/pb:nav--></h1><p>" + "text " * 60 + "</p></main>"
    )
    entry = PageCacheMiddleware._entry(HttpResponse(page, content_type="text/html"))
    # Two account menus: one is not the template's, so none is filled for a reader.
    assert personal_parts(entry) is None
    single = page.replace("<h1><!--pb:nav-->N<!--/pb:nav--></h1>", "<h1>N</h1>")
    entry = PageCacheMiddleware._entry(HttpResponse(single, content_type="text/html"))
    assert [name for name, _, _ in personal_parts(entry)] == ["nav", "messages"]
    as_json = PageCacheMiddleware._entry(
        HttpResponse(json.dumps({"name": single}), content_type="application/json")
    )
    assert personal_parts(as_json) == ()


def test_a_page_whose_markers_are_not_the_templates_is_rendered_for_each_reader(
    starter_catalog, monkeypatch
):
    from toolverdict.pagecache import middleware

    # As personal_parts answers for a page with a marker its templates did not put.
    monkeypatch.setattr(middleware, "personal_parts", lambda entry: None)
    anonymous = Client().get(TOOL)  # stored
    assert "Sign in to vote" in anonymous.content.decode()
    client = Client()
    client.force_login(make_member())
    page = client.get(TOOL)
    body = page.content.decode()
    assert EMAIL in body and "csrfmiddlewaretoken" in body  # their page, rendered for them
    assert "ETag" not in page and page["Cache-Control"] == "private, no-cache"
    assert EMAIL not in Client().get(TOOL).content.decode()  # the stored copy is untouched


# --- 4. query strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        TOOL,
        "/compare/claude-4-sonnet-vs-smolvlm-2-5/",
        "/badge/claude-4-sonnet.svg",
        "/api/tools/claude-4-sonnet",
        "/",
    ],
)
def test_an_unknown_query_parameter_is_sent_to_the_bare_url_and_stores_nothing(
    starter_catalog, url
):
    assert Client().get(url).status_code == 200
    stored = stored_pages()
    for n in range(5):
        response = Client().get(f"{url}?junk={n}")
        assert response.status_code == 301
        assert response["Location"] == url
    assert stored_pages() == stored


def test_pages_that_take_parameters_keep_them_and_lose_only_the_unknown_ones(starter_catalog):
    response = Client().get("/tools/?sort=newest&utm_source=x&page=1")
    assert response.status_code == 301
    assert response["Location"] == "/tools/?sort=newest&page=1"
    browse = Client().get("/tools/?sort=newest&page=1")
    assert browse.status_code == 200 and browse["ETag"] != Client().get("/tools/")["ETag"]
    assert Client().get("/search/?q=claude").status_code == 200
    assert "Claude 4 Sonnet" in Client().get("/search/?q=claude").content.decode()
    assert Client().get("/search/?q=claude&x=1")["Location"] == "/search/?q=claude"
    api = Client().get("/api/tools?pricing=paid&sort=name")
    assert api.status_code == 200
    assert all(t["pricing"] == "paid" for t in api.json())
    assert Client().get("/api/rankings?category=developer-tools").status_code in (200, 404)
    assert (
        Client().get("/api/rankings?category=x&debug=1")["Location"] == "/api/rankings?category=x"
    )
    assert Client().get("/sitemap-tools.xml?p=1").status_code == 200


def test_the_known_parameters_are_those_the_views_read():
    from toolverdict.api.endpoints import ToolFilters
    from toolverdict.pagecache.registry import page
    from toolverdict.pages import browse

    assert set(page("catalog:tools").params) == {*browse.FIELDS, "page"}
    assert set(page("api:list_tools").params) == set(ToolFilters.model_fields)


def test_an_htmx_request_is_served_from_the_cache(starter_catalog):
    first = Client().get(TOOL)
    again = Client().get(TOOL, headers={"HX-Request": "true"})
    assert again["ETag"] == first["ETag"]
    assert (
        Client().get(TOOL, headers={"HX-Request": "true", "If-None-Match": first["ETag"]})
    ).status_code == 304


# --- 6. NUL in path parameters ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/api/tools/%00", "/api/compare/%00/aider", "/tools/%00/", "/badge/%00.svg"],
)
def test_nul_in_a_cached_pages_path_is_404(starter_catalog, url):
    assert Client().get(url).status_code == 404
    client = Client()
    client.force_login(make_member())
    assert client.get(url).status_code == 404


def test_nul_in_the_fragments_tools_is_ignored(starter_catalog):
    client = Client()
    client.force_login(make_member())
    for query in ("tools=%00", "tools=claude-4-sonnet,%00", "pair=%00,claude-4-sonnet"):
        response = client.get(reverse("community:page_bits") + "?" + query)
        assert response.status_code == 200, query


# --- Accept-Encoding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("gzip, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000, identity", False),
        ("*;q=0, identity", False),
        ("br, *;q=0", False),
        ("gzip;q=0, *", False),
        ("identity", False),
        ("x-gzip2", False),
    ],
)
def test_gzip_is_sent_only_where_accepted(starter_catalog, accept, gzipped):
    plain = Client().get(TOOL)
    response = Client().get(TOOL, headers={"Accept-Encoding": accept})
    assert (response.get("Content-Encoding") == "gzip") is gzipped
    body = gzip.decompress(response.content) if gzipped else response.content
    assert body == plain.content
