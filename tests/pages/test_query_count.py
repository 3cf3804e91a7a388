"""The comparison page issues a fixed number of queries, whatever the catalog holds."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from toolverdict.catalog.models import Fact, PricePoint, Tool

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def add_facts(tool: Tool, n: int) -> None:
    Fact.objects.bulk_create(
        Fact(
            tool=tool,
            key=f"extra_{i}",
            value=str(i),
            source_url="https://example.com/f",
            as_of=date(2026, 11, 1),
            position=10 + i,
        )
        for i in range(n)
    )


def test_comparison_page_queries_do_not_grow_with_price_points_or_facts(client, starter_catalog):
    url = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
    count_queries(client, url)  # warm caches (content types, sessions)
    before = count_queries(client, url)
    for slug in ("claude-4-sonnet", "smolvlm-2-5"):
        tool = Tool.objects.get(slug=slug)
        PricePoint.objects.bulk_create(
            PricePoint(
                tool=tool,
                tier=f"Tier {i}",
                amount=i,
                unit="seat/month",
                source_url="https://example.com/p",
                position=10 + i,
            )
            for i in range(15)
        )
        add_facts(tool, 15)
    after = count_queries(client, url)
    assert after == before, f"{before} queries before, {after} after adding 60 rows"
    assert before <= 20


def test_tool_page_queries_do_not_grow_with_facts(client, starter_catalog):
    url = "/tools/claude-4-sonnet/"
    count_queries(client, url)
    before = count_queries(client, url)
    tool = Tool.objects.get(slug="claude-4-sonnet")
    add_facts(tool, 20)
    assert count_queries(client, url) == before


def test_comparison_page_queries_do_not_grow_with_reviews_and_claims(client, starter_catalog):
    """Four reviews with claims on one tool, then on both: the same number of queries."""
    from tests.panel.fakes import ScriptedModel
    from toolverdict.panel.services import review_tools

    url = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
    claude, smol = (Tool.objects.get(slug=s) for s in ("claude-4-sonnet", "smolvlm-2-5"))
    review_tools([claude.pk], ScriptedModel())
    count_queries(client, url)
    one_panel = count_queries(client, url)
    review_tools([smol.pk], ScriptedModel())
    assert client.get(url).content.decode().count("verdict-ship") >= 6  # both panels shown
    assert count_queries(client, url) == one_panel
