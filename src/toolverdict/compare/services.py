"""Compose a comparison page from two tools' catalog data, panels and community votes.

A pair page costs no model calls: it composes two tools' existing panels, so the number
of reviews grows with tools, not with pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from toolverdict.catalog.models import PricePoint, Tool
from toolverdict.catalog.services import tools_with_details
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

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.left, self.right)

    @property
    def title(self) -> str:
        return f"{self.left.tool.name} vs {self.right.tool.name}"


def pricing_read(a: Tool, b: Tool) -> list[str]:
    """Plain sentences comparing the two pricing models and any like-for-like unit prices."""
    lines = []
    if a.pricing == b.pricing:
        lines.append(f"Both are {a.get_pricing_display().lower()}.")
    else:
        lines.append(
            f"{a.name} is {a.get_pricing_display().lower()}; "
            f"{b.name} is {b.get_pricing_display().lower()}."
        )
    a_prices = {(p.unit, p.currency): p for p in a.price_points.all()}
    for p in b.price_points.all():
        other = a_prices.get((p.unit, p.currency))
        if other is None:
            continue
        if other.amount == p.amount:
            lines.append(f"Same price per {p.unit}: {p.display_amount}.")
        elif min(other.amount, p.amount) > Decimal(0):
            cheap, dear = (other, p) if other.amount < p.amount else (p, other)
            ratio = dear.amount / cheap.amount
            lines.append(
                f"Per {p.unit}, {cheap.tool.name} ({cheap.display_amount}) costs "
                f"{ratio:.1f}× less than {dear.tool.name} ({dear.display_amount})."
            )
    if not a_prices and not b.price_points.all():
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
    return ComparisonPage(
        left=Side(a, summaries[a.pk], community[a.pk], list(a.price_points.all())),
        right=Side(b, summaries[b.pk], community[b.pk], list(b.price_points.all())),
        scorecard=scorecard_rows([a, b], summaries),
        pricing_read=pricing_read(a, b),
    )
