"""Every page renders for the starter catalog; unknown things are 404s, never 500s."""

from __future__ import annotations

import pytest
from django.urls import reverse

from toolverdict.catalog.models import Category, Tool

pytestmark = pytest.mark.django_db


def test_home_shows_latest_tools_and_suggested_comparisons(client, starter_catalog):
    body = client.get("/").content.decode()
    newest = Tool.objects.order_by("-created_at", "-pk").first()
    assert newest.name in body
    assert "Suggested comparisons" in body
    assert "/compare/" in body
    assert "Weekly AI Tool Verdicts" in body


def test_every_tool_page_renders(client, starter_catalog):
    for tool in Tool.objects.all():
        response = client.get(tool.get_absolute_url())
        assert response.status_code == 200, tool.slug
        body = response.content.decode()
        assert tool.vendor in body.replace("&amp;", "&")
        for fact in tool.facts.all():
            assert fact.source_url in body


def test_every_category_page_renders(client, starter_catalog):
    for category in Category.objects.all():
        response = client.get(category.get_absolute_url())
        assert response.status_code == 200
        for tool in category.tools.all():
            assert tool.get_absolute_url() in response.content.decode()


def test_every_same_category_comparison_renders(client, starter_catalog):
    for category in Category.objects.all():
        tools = sorted(category.tools.values_list("slug", flat=True))
        for a, b in zip(tools, tools[1:], strict=False):
            response = client.get(reverse("compare:pair", args=[a, b]))
            assert response.status_code == 200, (a, b)


def test_seed_comparison_page_has_cards_pricing_scorecard_and_signup(client, starter_catalog):
    response = client.get("/compare/claude-4-sonnet-vs-smolvlm-2-5/")
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        'Claude 4 Sonnet <span class="vs">vs</span> SmolVLM 2.5 — Which one should you ship with?'
        in body
    )
    for text in ("Developer Tools", "Panel ship", "Community", "Entry price", "Paid", "Free"):
        assert text in body
    assert "The pricing read" in body and "$3" in body and "1M input tokens" in body
    assert "The reviewer scorecard" in body
    for persona in ("Builder", "Skeptic", "Futurist", "Buyer"):
        assert persona in body
    assert "Get the next comparison in your inbox" in body


def test_comparison_other_order_redirects_permanently_to_canonical(client, starter_catalog):
    response = client.get("/compare/smolvlm-2-5-vs-claude-4-sonnet/")
    assert response.status_code == 301
    assert response["Location"] == "/compare/claude-4-sonnet-vs-smolvlm-2-5/"


@pytest.mark.parametrize(
    "url",
    [
        "/tools/no-such-tool/",
        "/categories/no-such-category/",
        "/compare/claude-4-sonnet-vs-no-such-tool/",
        "/compare/no-such-tool-vs-claude-4-sonnet/",
        "/compare/claude-4-sonnet-vs-claude-4-sonnet/",
        "/compare/garbage/",
        "/tools/UPPER-Case/",
    ],
)
def test_unknown_things_are_404_pages(client, starter_catalog, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_search_matches_name_vendor_and_tagline(client, starter_catalog):
    claude = Tool.objects.get(slug="claude-4-sonnet")
    by_name = client.get("/search/", {"q": "sonnet"}).content.decode()
    by_vendor = client.get("/search/", {"q": "anthropic"}).content.decode()
    by_tagline = client.get("/search/", {"q": claude.tagline.split()[1]}).content.decode()
    for body in (by_name, by_vendor, by_tagline):
        assert claude.get_absolute_url() in body
    assert "smolvlm" not in by_vendor


def test_search_with_no_hits_and_empty_query(client, starter_catalog):
    assert "0 results" in client.get("/search/", {"q": "zzzz-nothing"}).content.decode()
    response = client.get("/search/")
    assert response.status_code == 200
    assert "result" not in response.content.decode().split("<h1>Search</h1>")[1]


def test_tool_text_is_escaped(client, starter_catalog):
    Tool.objects.filter(slug="claude-4-sonnet").update(
        tagline="<script>alert(1)</script>", description="<img src=x onerror=alert(2)>"
    )
    for url in ("/tools/claude-4-sonnet/", "/compare/claude-4-sonnet-vs-smolvlm-2-5/"):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<img src=x" not in body


def test_unpublished_tools_are_hidden(client, starter_catalog):
    Tool.objects.filter(slug="smolvlm-2-5").update(is_published=False)
    assert client.get("/tools/smolvlm-2-5/").status_code == 404
    assert client.get("/compare/claude-4-sonnet-vs-smolvlm-2-5/").status_code == 404


def test_home_puts_the_latest_reviewed_tools_first(client, starter_catalog):
    from tests.panel.fakes import ScriptedModel
    from toolverdict.panel.services import review_tools

    claude = Tool.objects.get(slug="claude-4-sonnet")  # the oldest tool in the catalog
    review_tools([claude.pk], ScriptedModel())
    body = client.get("/").content.decode()
    latest = body.split('id="latest-h"')[1]
    first_card = latest.split('data-tool="')[1].split('"')[0]
    assert first_card == "claude-4-sonnet"
    # Its panel ship % on the card: three of the four rubrics say ship.
    assert "75%" in latest.split("</article>")[0]


def test_every_page_links_browse_rankings_vote_rules_open_data_and_the_digest(
    client, starter_catalog
):
    for url in ("/", "/tools/claude-4-sonnet/", "/no/such/page/"):
        body = client.get(url).content.decode()
        footer = body[body.index('<footer class="site-footer') :]
        for target in ("/tools/", "/rankings/", "/how-votes-count/", "/data/", "/digest/"):
            assert f'href="{target}"' in footer, (url, target)
    assert client.get("/data/").status_code == 200
