"""The embeddable SVG badge: the pages' rules for each figure, XML-safe, cacheable."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from tests.share.conftest import HOSTILE, add_reviews, add_votes, hostile_tool
from toolverdict.catalog.models import Tool
from toolverdict.share.badges import embed_snippets

pytestmark = pytest.mark.django_db

BADGE = "/badge/claude-4-sonnet.svg"
SVG = "{http://www.w3.org/2000/svg}"


def badge(client, url: str = BADGE) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 - our own badge; raises if malformed


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")][1::2]  # each text has a shadow copy


def test_an_unreviewed_tool_says_not_yet_reviewed(client, starter_catalog):
    root = badge(client)
    assert texts(root) == ["toolverdict", "not yet reviewed"]
    assert root.find(f"{SVG}title").text == "Claude 4 Sonnet on toolverdict: not yet reviewed"
    assert root.get("role") == "img"


def test_the_panel_figure_needs_three_published_reviews(client, starter_catalog):
    tool = Tool.objects.get(slug="claude-4-sonnet")
    add_reviews(tool, ["ship", "ship", "failed", "failed"])
    assert texts(badge(client))[1] == "too few reviews yet"
    tool.panel_reviews.all().delete()
    add_reviews(tool, ["ship", "ship", "ship", "skip"])
    assert texts(badge(client))[1] == "panel ship 75%"


def test_readers_figure_follows_the_community_minimum(client, starter_catalog, settings):
    tool = Tool.objects.get(slug="claude-4-sonnet")
    add_reviews(tool, ["ship", "ship", "ship", "skip"])
    add_votes(tool, ship=5, skip=3)
    assert texts(badge(client))[1] == "panel ship 75% · readers 62%"
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 9
    assert texts(badge(client))[1] == "panel ship 75%"


def test_a_hostile_name_is_escaped_for_xml(client, starter_catalog):
    tool = hostile_tool()
    response = client.get(f"/badge/{tool.slug}.svg")
    body = response.content.decode()
    assert "<script>" not in body and "<!--" not in body
    root = ET.fromstring(response.content)  # noqa: S314 - our own badge
    title = root.find(f"{SVG}title").text
    assert title == f"{HOSTILE.replace(chr(0x202E), '')} on toolverdict: not yet reviewed"
    assert root.get("aria-label") == title
    assert not list(root.iter(f"{SVG}script"))


def test_unknown_and_hidden_tools_are_404(client, starter_catalog):
    assert client.get("/badge/no-such-tool.svg").status_code == 404
    Tool.objects.filter(slug="claude-4-sonnet").update(is_published=False)
    assert client.get(BADGE).status_code == 404


def test_the_badge_is_cacheable_even_with_the_page_cache_off(client, starter_catalog):
    response = client.get(BADGE)
    assert response["Cache-Control"].startswith("public, max-age=")


@pytest.mark.page_cache
def test_the_badge_is_stored_and_retired_by_a_review(
    starter_catalog, django_capture_on_commit_callbacks, settings
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    client = Client()
    first = client.get(BADGE, headers={"Accept-Encoding": "gzip"})
    assert first["Content-Encoding"] == "gzip"
    assert client.get(BADGE, headers={"If-None-Match": first["ETag"]}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        add_reviews(Tool.objects.get(slug="claude-4-sonnet"), ["ship", "ship", "ship"])
    assert texts(badge(client))[1] == "panel ship 100%"


def test_the_tool_page_offers_an_escaped_embed_snippet(client, starter_catalog):
    tool = hostile_tool()
    body = client.get(tool.get_absolute_url()).content.decode()
    assert f'<img src="/badge/{tool.slug}.svg"' in body
    html_snippet = body.split('id="badge-html"', 1)[1].split("</textarea>", 1)[0]
    # Shown as text, the snippet is HTML whose alt attribute holds the name escaped.
    assert "&amp;quot;&amp;gt;&amp;lt;script&amp;gt;" in html_snippet
    assert "<script>" not in html_snippet
    markdown = body.split('id="badge-md"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert markdown.startswith("[![&quot;scriptalert")  # angle brackets dropped
    assert f"/badge/{tool.slug}.svg)]" in markdown


def test_a_name_cannot_redirect_the_markdown_link():
    tool = Tool(slug="t", name="x](https://evil.example)[![y")
    snippets = embed_snippets(tool, "https://site/tools/t/", "https://site/badge/t.svg")
    markdown = snippets["markdown"]
    assert len(re.findall(r"(?<!\\)\]\(", markdown)) == 2  # only the two real links
    assert markdown.endswith("](https://site/tools/t/)")
    assert 'alt="x](https://evil.example)[![y on toolverdict"' in snippets["html"]
