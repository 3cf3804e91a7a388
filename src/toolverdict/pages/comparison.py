"""Compose a comparison page from two tools' catalog data, panels and community votes.

A pair page costs no model calls: it composes two tools' existing panels, so the number
of reviews grows with tools, not with pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from toolverdict.catalog.models import PricePoint, Tool
from toolverdict.catalog.services import tools_with_details
from toolverdict.community import trust
from toolverdict.community.services import CommunityFigure, community_figures
from toolverdict.panel.services import PanelSummary, ScorecardRow, panel_summaries, scorecard_rows


@dataclass
class Side:
    tool: Tool
    panel: PanelSummary
    community: CommunityFigure
    prices: list[PricePoint]


@dataclass
class ComparisonPage:
    left: Side
    right: Side
    scorecard: list[ScorecardRow]
    pricing_read: list[str]
    calls: list[trust.Call] = field(default_factory=list)  # panel and community ship shares
    disagreements: list[trust.Disagreement] = field(default_factory=list)

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.left, self.right)

    @property
    def title(self) -> str:
        return f"{self.left.tool.name} vs {self.right.tool.name}"


def cheapest_by_unit(tool: Tool) -> dict[tuple[str, str], PricePoint]:
    """The cheapest tier per (unit, currency): the like-for-like entry point of each unit."""
    cheapest: dict[tuple[str, str], PricePoint] = {}
    for p in tool.price_points.all():
        key = (p.unit, p.currency)
        if key not in cheapest or p.amount < cheapest[key].amount:
            cheapest[key] = p
    return cheapest


def pricing_models_line(a: Tool, b: Tool) -> str:
    """One sentence on the two pricing models ("Both are free." / "A is paid; B is free.");
    an unknown pricing model is said to be unknown, never compared."""

    def said(tool: Tool) -> str:
        if not tool.pricing_is_known:
            return f"{tool.name}'s pricing is unknown"
        return f"{tool.name} is {tool.entry_price.lower()}"

    if a.pricing == b.pricing:
        if not a.pricing_is_known:
            return "The pricing of both is unknown."
        if not (a.pricing_unreviewed or b.pricing_unreviewed):
            return f"Both are {a.get_pricing_display().lower()}."
    return f"{said(a)}; {said(b)}."


def pricing_read(a: Tool, b: Tool) -> list[str]:
    """Plain sentences comparing the two pricing models and any like-for-like unit prices."""
    lines = [pricing_models_line(a, b)]
    a_prices, b_prices = cheapest_by_unit(a), cheapest_by_unit(b)
    for key in sorted(a_prices.keys() & b_prices.keys()):
        pa, pb = a_prices[key], b_prices[key]
        unit = key[0]
        if pa.amount == pb.amount:
            lines.append(f"Same entry price per {unit}: {pa.display_amount}.")
        elif min(pa.amount, pb.amount) > Decimal(0):
            (cheap_tool, cheap), (dear_tool, dear) = sorted(
                [(a, pa), (b, pb)], key=lambda side: side[1].amount
            )
            ratio = dear.amount / cheap.amount
            lines.append(
                f"Per {unit}, {cheap_tool.name} ({cheap.display_amount}) costs "
                f"{ratio:.1f}× less than {dear_tool.name} ({dear.display_amount})."
            )
    if not a_prices and not b_prices:
        lines.append("Neither lists unit prices in the catalog.")
    return lines


def comparison(a_slug: str, b_slug: str) -> ComparisonPage | None:
    """The page for a pair in canonical order, or None when either tool is unknown."""
    tools = {t.slug: t for t in tools_with_details().filter(slug__in=[a_slug, b_slug])}
    if a_slug not in tools or b_slug not in tools:
        return None
    a, b = tools[a_slug], tools[b_slug]
    summaries = panel_summaries([a, b])
    community = community_figures([a, b])
    pa, pb = summaries[a.pk], summaries[b.pk]
    ca, cb = community[a.pk], community[b.pk]
    calls = [
        trust.call_between("panel", a, trust.panel_share(pa), b, trust.panel_share(pb)),
        trust.call_between("community", a, trust.community_share(ca), b, trust.community_share(cb)),
    ]
    disagreements = [
        d for d in (trust.disagreement(a, pa, ca), trust.disagreement(b, pb, cb)) if d is not None
    ]
    return ComparisonPage(
        left=Side(a, pa, ca, list(a.price_points.all())),
        right=Side(b, pb, cb, list(b.price_points.all())),
        scorecard=scorecard_rows([a, b], summaries),
        pricing_read=pricing_read(a, b),
        calls=calls,
        disagreements=disagreements,
    )
