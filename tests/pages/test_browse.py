"""Browse (/tools/ and GET /api/tools): filters, sorts, clear errors, shareable links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.share.conftest import add_reviews, add_votes
from toolverdict.catalog.models import Tool

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def votes_count_at_once(settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0


def slugs(client, query: str = "") -> list[str]:
    response = client.get(f"/tools/?{query}")
    assert response.status_code == 200, response.content.decode()[:500]
    body = response.content.decode()
    table = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    return re.findall(r'<th scope="row"><a href="/tools/([a-z0-9-]+)/">', table)


def api_slugs(client, **params) -> list[str]:
    response = client.get("/api/tools", params)
    assert response.status_code == 200, response.content
    return [t["slug"] for t in response.json()]


def published(**filters) -> list[str]:
    return list(
        Tool.objects.published().filter(**filters).order_by("name").values_list("slug", flat=True)
    )


@pytest.fixture
def reviewed(starter_catalog):
    """claude: 3 of 4 ship; cursor: 1 of 3 ship; aider: 1 of 2 published (no %);
    ollama: 2 ship 2 skip (split). Votes: cursor 2 of 2, claude 1 of 2."""
    get = lambda slug: Tool.objects.get(slug=slug)  # noqa: E731
    add_reviews(get("claude-4-sonnet"), ["ship", "ship", "ship", "skip"])
    add_reviews(get("cursor"), ["ship", "skip", "skip"])
    add_reviews(get("aider"), ["ship", "skip", "failed"])
    add_reviews(get("ollama"), ["ship", "ship", "skip", "skip"])
    add_votes(get("cursor"), ship=2)
    add_votes(get("claude-4-sonnet"), ship=1, skip=1)


def test_without_filters_every_published_tool_is_listed_by_name(client, starter_catalog):
    Tool.objects.filter(slug="cursor").update(is_published=False)
    assert slugs(client) == published()
    assert "cursor" not in slugs(client)


@pytest.mark.parametrize(
    "query, filters",
    [
        ("category=developer-tools", {"category__slug": "developer-tools"}),
        ("pricing=freemium", {"pricing": "freemium"}),
        ("license=MIT", {"license": "MIT"}),
        ("open_weights=yes", {"pricing": "open-weights"}),
        (
            "category=foundation-models&open_weights=yes",
            {"category__slug": "foundation-models", "pricing": "open-weights"},
        ),
    ],
)
def test_catalog_filters_match_the_catalog(client, starter_catalog, query, filters):
    expected = published(**filters)
    assert expected  # the starter catalog has tools for each
    assert slugs(client, query) == expected
    params = dict(pair.split("=") for pair in query.split("&"))
    if params.get("open_weights") == "yes":
        params["open_weights"] = "true"
    assert api_slugs(client, **params) == expected


def test_open_weights_no_excludes_them(client, starter_catalog):
    assert set(slugs(client, "open_weights=no")) == set(published()) - set(
        published(pricing="open-weights")
    )


def test_panel_verdict_filters_follow_the_pages_rule(client, reviewed):
    assert slugs(client, "verdict=ship") == ["claude-4-sonnet"]
    assert slugs(client, "verdict=skip") == ["cursor"]
    assert slugs(client, "verdict=split") == ["ollama"]
    none = slugs(client, "verdict=none")
    assert "aider" in none  # two published reviews: no percentage, so no verdict
    assert not {"claude-4-sonnet", "cursor", "ollama"} & set(none)
    assert api_slugs(client, verdict="ship") == ["claude-4-sonnet"]
    assert api_slugs(client, verdict="split") == ["ollama"]


def test_sorting_by_panel_and_community_puts_missing_figures_last(client, reviewed):
    by_panel = slugs(client, "sort=panel")
    assert by_panel[:3] == ["claude-4-sonnet", "ollama", "cursor"]  # 75%, 50%, 33%
    by_community = slugs(client, "sort=community")
    assert by_community[:2] == ["cursor", "claude-4-sonnet"]  # 100%, 50%
    assert len(by_panel) == len(by_community) == len(published())
    assert api_slugs(client, sort="panel")[:3] == by_panel[:3]


def test_the_listed_figures_are_the_pages_figures(client, reviewed):
    body = Client().get("/tools/?category=developer-tools").content.decode()
    row = body.split('href="/tools/claude-4-sonnet/"', 1)[1].split("</tr>", 1)[0]
    assert "75%" in row and "4 reviews" in row and "50%" in row and "2 votes" in row
    aider = body.split('href="/tools/aider/"', 1)[1].split("</tr>", 1)[0]
    assert "%" not in aider


def test_newest_sort_uses_publication_time(client, starter_catalog):
    Tool.objects.filter(slug="pgvector").update(published_at=timezone.now() + timedelta(days=1))
    assert slugs(client, "sort=newest")[0] == "pgvector"


def test_invalid_values_get_a_clear_message_not_an_error(client, starter_catalog):
    response = client.get("/tools/?category=nope&verdict=%3Cb%3E&sort=random&pricing=free")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Unknown category “nope”" in body
    assert "Unknown panel verdict “&lt;b&gt;”" in body
    assert "Unknown sort “random”" in body
    # The valid filter still applies.
    rows = re.findall(r'<th scope="row"><a href="/tools/([a-z0-9-]+)/">', body)
    assert rows == published(pricing="free")
    # The API: an unknown category matches nothing; an unknown enumerated value is refused.
    assert client.get("/api/tools", {"category": "nope"}).json() == []
    refused = client.get("/api/tools", {"verdict": "maybe"})
    assert refused.status_code == 422
    assert "ship" in str(refused.json()["detail"])


def test_filter_controls_are_labelled_and_work_without_javascript(client, starter_catalog):
    body = client.get("/tools/?category=developer-tools&sort=panel").content.decode()
    form = body.split('<form class="browse-filters"', 1)[1].split("</form>", 1)[0]
    assert 'method="get"' in form
    for name in ("category", "pricing", "license", "open_weights", "verdict", "sort"):
        control = re.search(rf'<select id="([a-z-]+)" name="{name}">', form)
        assert control, name
        assert f'<label for="{control.group(1)}">' in form
    assert '<option value="developer-tools" selected>' in form
    assert '<option value="panel" selected>' in form
    # Sort links keep the filters: a shareable URL for each view.
    assert 'href="/tools/?category=developer-tools&amp;sort=community"' in body
    assert 'href="/tools/?category=developer-tools"' in body  # name: the default


def test_canonical_link_names_the_filters_in_a_fixed_order(client, starter_catalog, settings):
    settings.SITE_URL = "https://v.example"
    body = client.get("/tools/?sort=panel&utm=x&category=developer-tools").content.decode()
    assert (
        '<link rel="canonical" href="https://v.example/tools/?category=developer-tools&amp;sort=panel">'
        in body
    )


def test_pages_of_results_keep_the_filters(client, starter_catalog, monkeypatch):
    from toolverdict.pages import views

    monkeypatch.setattr(views, "BROWSE_PAGE_SIZE", 5)
    body = client.get("/tools/?pricing=free").content.decode()
    assert 'href="/tools/?pricing=free&amp;page=2"' in body
    second = slugs(client, "pricing=free&page=2")
    assert second == published(pricing="free")[5:10]


def test_openapi_schema_documents_the_filters(client):
    schema = client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/tools"]["get"]["parameters"]}
    assert {"category", "q", "pricing", "license", "open_weights", "verdict", "sort"} <= set(params)
    assert params["verdict"]["schema"]["anyOf"][0]["enum"] == ["ship", "split", "skip", "none"]
    assert params["sort"]["schema"]["enum"] == ["name", "panel", "community", "newest"]


@pytest.mark.page_cache
def test_each_filtered_view_is_cached_apart_and_retired_by_a_vote(
    starter_catalog, django_capture_on_commit_callbacks, settings
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    client = Client()
    plain = client.get("/tools/")
    filtered = client.get("/tools/?category=developer-tools")
    assert plain["ETag"] != filtered["ETag"]
    assert (
        client.get(
            "/tools/?category=developer-tools", headers={"If-None-Match": filtered["ETag"]}
        ).status_code
        == 304
    )
    with django_capture_on_commit_callbacks(execute=True):
        add_votes(Tool.objects.get(slug="cursor"), ship=1)
    again = client.get("/tools/?category=developer-tools")
    assert again["ETag"] != filtered["ETag"]
    row = again.content.decode().split('href="/tools/cursor/"', 1)[1].split("</tr>", 1)[0]
    assert "100%" in row
