"""schema.org JSON-LD: a SoftwareApplication with ratings only where they exist."""

from __future__ import annotations

import json
import re

import pytest

from tests.share.conftest import HOSTILE, add_reviews, add_votes, hostile_tool
from toolverdict.catalog.models import Tool
from toolverdict.share.text import json_for_script

pytestmark = pytest.mark.django_db

LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(client, url: str) -> list[dict]:
    body = client.get(url).content.decode()
    return [json.loads(block) for block in LD.findall(body)]


def test_an_unrated_tool_has_no_aggregate_rating(client, starter_catalog):
    (data,) = json_ld(client, "/tools/claude-4-sonnet/")
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "SoftwareApplication"
    assert data["name"] == "Claude 4 Sonnet"
    assert data["url"].endswith("/tools/claude-4-sonnet/")
    assert "aggregateRating" not in data


def test_two_published_reviews_give_no_panel_rating(client, starter_catalog):
    add_reviews(Tool.objects.get(slug="claude-4-sonnet"), ["ship", "ship", "failed"])
    (data,) = json_ld(client, "/tools/claude-4-sonnet/")
    assert "aggregateRating" not in data


def test_panel_and_readers_ratings_appear_with_their_counts(client, starter_catalog):
    tool = Tool.objects.get(slug="claude-4-sonnet")
    add_reviews(tool, ["ship", "ship", "ship", "skip"])
    add_votes(tool, ship=2, skip=1)
    (data,) = json_ld(client, "/tools/claude-4-sonnet/")
    panel, readers = data["aggregateRating"]
    assert panel["name"] == "Panel ship"
    assert (panel["ratingValue"], panel["reviewCount"]) == (75, 4)
    assert (panel["bestRating"], panel["worstRating"]) == (100, 0)
    assert readers["name"] == "Readers ship"
    assert (readers["ratingValue"], readers["ratingCount"]) == (67, 3)


def test_only_the_readers_rating_is_one_object(client, starter_catalog):
    add_votes(Tool.objects.get(slug="claude-4-sonnet"), ship=1)
    (data,) = json_ld(client, "/tools/claude-4-sonnet/")
    assert data["aggregateRating"]["name"] == "Readers ship"
    assert data["aggregateRating"]["ratingValue"] == 100


def test_comparison_page_describes_both_tools(client, starter_catalog):
    (data,) = json_ld(client, "/compare/claude-4-sonnet-vs-smolvlm-2-5/")
    assert [app["name"] for app in data["@graph"]] == ["Claude 4 Sonnet", "SmolVLM 2.5"]


def test_a_hostile_tool_cannot_break_out_of_the_script_element(client, starter_catalog):
    tool = hostile_tool()
    body = client.get(tool.get_absolute_url()).content.decode()
    block = LD.search(body).group(1)
    assert "<" not in block and ">" not in block
    data = json.loads(block)
    assert data["name"] == HOSTILE.replace("\u202e", "")
    assert data["description"].startswith("</script><script>alert('tagline')")


def test_json_for_script_escapes_markup_and_line_separators():
    text = json_for_script({"a": "</script><!--&\u2028"})
    assert text == '{"a": "\\u003C/script\\u003E\\u003C!--\\u0026\\u2028"}'
    assert json.loads(text) == {"a": "</script><!--&\u2028"}
