"""The pricing read compares like with like: the cheapest tier of each shared unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from toolverdict.catalog.models import Category, PricePoint, Tool
from toolverdict.pages.comparison import pricing_read

pytestmark = pytest.mark.django_db


def make_tool(slug: str, pricing: str, prices: list[tuple[str, str, str]]) -> Tool:
    category, _ = Category.objects.get_or_create(slug="c", defaults={"name": "C"})
    tool = Tool.objects.create(
        slug=slug,
        name=slug.title(),
        vendor="V",
        category=category,
        tagline="t",
        homepage="https://example.com/",
        pricing=pricing,
    )
    for i, (tier, amount, unit) in enumerate(prices):
        PricePoint.objects.create(
            tool=tool,
            tier=tier,
            amount=Decimal(amount),
            unit=unit,
            source_url="https://example.com/p",
            position=i,
        )
    return tool


def test_cheapest_tier_per_shared_unit_is_compared_once():
    a = make_tool("alpha", "paid", [("Team", "40", "seat/month"), ("Pro", "20", "seat/month")])
    b = make_tool("beta", "freemium", [("Pro", "10", "seat/month"), ("Biz", "30", "seat/month")])
    lines = pricing_read(a, b)
    assert lines[0] == "Alpha is paid; Beta is freemium."
    assert lines[1:] == ["Per seat/month, Beta ($10) costs 2.0× less than Alpha ($20)."]


def test_units_that_differ_are_not_compared_and_equal_prices_say_so():
    a = make_tool("alpha", "paid", [("In", "3", "1M input tokens"), ("Img", "1", "image")])
    b = make_tool("beta", "paid", [("In", "3", "1M input tokens"), ("Min", "1", "minute")])
    assert pricing_read(a, b) == ["Both are paid.", "Same entry price per 1M input tokens: $3."]


def test_no_prices_at_all():
    a, b = make_tool("alpha", "free", []), make_tool("beta", "open-weights", [])
    assert pricing_read(a, b) == [
        "Alpha is free; Beta is open weights.",
        "Neither lists unit prices in the catalog.",
    ]
