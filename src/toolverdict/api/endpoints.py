"""The read-only JSON API (django-ninja): tools, categories and comparisons.

The OpenAPI schema is served at /api/openapi.json. Pydantic schemas here are the public
contract; they expose the same figures as the pages, computed by the same services.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Literal

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja import errors as ninja_errors

from toolverdict import __version__
from toolverdict.catalog.models import Category, Pricing, Tool
from toolverdict.catalog.services import canonical_pair, tools_with_details
from toolverdict.catalog.sources import statuses_for
from toolverdict.community import conf as community_conf
from toolverdict.community.figures import community_figures
from toolverdict.community.rankings import head_to_head_leaderboard
from toolverdict.core.errors import api_error
from toolverdict.pages import browse
from toolverdict.pages.comparison import comparison
from toolverdict.panel.services import panel_summaries

api = NinjaAPI(
    title="toolverdict API",
    version=__version__,
    description="Read-only access to the catalog, panel verdicts and comparisons.",
    docs_url=None,  # the interactive docs page loads assets from a CDN; the schema is enough
    urls_namespace="api",
)
log = logging.getLogger(__name__)


class CategoryOut(Schema):
    slug: str
    name: str
    description: str


class PricePointOut(Schema):
    tier: str
    amount: Decimal
    currency: str
    unit: str
    source: str


class SourceCheckOut(Schema):
    state: str = Field(description="unchecked | ok | unreachable | stale")
    label: str = Field(description='What the page says, e.g. "checked 3 days ago"')
    checked_at: dt.datetime | None = Field(
        description="The last check that reached the page (unreachable: the failed check)"
    )


class FactOut(Schema):
    key: str
    value: str
    source: str
    as_of: dt.date | None = Field(
        description="The editor's own date for the fact, if the catalog gives one; not a check"
    )
    check: SourceCheckOut = Field(description="What the last check of the source found")
    origin: str = Field(
        description="editor, or extracted (read from the vendor's page by a program)"
    )
    fetched_at: dt.datetime | None = Field(description="When an extracted value's page was fetched")
    reviewed: bool = Field(description="False for an extracted value no editor has reviewed yet")


class ToolOut(Schema):
    slug: str
    name: str
    vendor: str
    category: str
    tagline: str
    pricing: str
    entry_price: str
    homepage: str
    url: str
    panel_ship_pct: int | None = Field(
        description="Share of confident verdicts saying ship; null with fewer than 3"
    )
    panel_reviews: int = Field(
        description="Confident verdicts (ship or skip) behind panel_ship_pct"
    )
    panel_not_enough_evidence: int = Field(
        description="Published reviews that found too little evidence to judge (not counted)"
    )
    panel_reviewers: int = Field(description="Current reviews in all, published or not")
    community_pct: int | None
    community_votes: int


class ToolDetailOut(ToolOut):
    description: str
    license: str
    release_date: dt.date | None
    context_window: int | None
    price_points: list[PricePointOut]
    facts: list[FactOut]


class PersonaTake(Schema):
    persona: str
    verdict: str | None
    reason: str | None


class ComparisonOut(Schema):
    title: str
    url: str
    tools: list[ToolDetailOut]
    pricing_read: list[str]
    scorecard: dict[str, list[PersonaTake]]


class ErrorOut(Schema):
    """Every error the API answers, whatever its status (core/errors.py)."""

    detail: str


# django-ninja's own errors in the same shape: a 422 lists its problems in one sentence,
# and an unexpected exception is logged and answered as JSON instead of an HTML page.
@api.exception_handler(ninja_errors.ValidationError)
def _invalid_request(request: HttpRequest, exc: ninja_errors.ValidationError):
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
        for e in exc.errors
    )
    return api_error(422, problems or "invalid request")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return api_error(404, "Not found")


@api.exception_handler(ninja_errors.HttpError)
def _http_error(request: HttpRequest, exc: ninja_errors.HttpError):
    return api_error(exc.status_code, str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception):
    log.exception("API request %s failed", request.path)
    return api_error(500, "Internal server error")


class RankingOut(Schema):
    slug: str
    name: str
    strength: float = Field(
        description="Bradley–Terry strength; the geometric mean of all ranked tools is 1, "
        "so strength / (strength + 1) is the chance of being preferred to a typical tool"
    )
    ci_low: float = Field(description="Lower end of the strength's 95% interval")
    ci_high: float = Field(description="Upper end of the strength's 95% interval")
    rank_low: int = Field(description="Best place the intervals allow (1 = top)")
    rank_high: int = Field(description="Worst place the intervals allow")
    votes: int = Field(description="Counted head-to-head votes this tool took part in")
    wins: int
    too_close: bool = Field(
        description="The interval overlaps the one of the tool ranked just above or below: "
        "too close to call between them"
    )
    interval_method: str = Field(
        description="sandwich or bootstrap (TOOLVERDICT_COMMUNITY_INTERVAL_METHOD)"
    )


def _tool_out(tool: Tool, panel, community, detail: bool = False) -> dict:
    data = {
        "slug": tool.slug,
        "name": tool.name,
        "vendor": tool.vendor,
        "category": tool.category.slug,
        "tagline": tool.tagline,
        "pricing": tool.pricing,
        "entry_price": tool.entry_price,
        "homepage": tool.homepage,
        "url": tool.get_absolute_url(),
        "panel_ship_pct": panel.ship_pct,
        "panel_reviews": panel.valid,
        "panel_not_enough_evidence": panel.insufficient,
        "panel_reviewers": len(panel.reviews),
        "community_pct": community.pct,
        "community_votes": community.votes,
    }
    if detail:
        checks = statuses_for(f.source_url for f in tool.facts.all())
        data.update(
            {
                "description": tool.description,
                "license": tool.license,
                "release_date": tool.release_date,
                "context_window": tool.context_window,
                "price_points": [
                    {
                        "tier": p.tier,
                        "amount": p.amount,
                        "currency": p.currency,
                        "unit": p.unit,
                        "source": p.source_url,
                    }
                    for p in tool.price_points.all()
                ],
                "facts": [
                    {
                        "key": f.key,
                        "value": f.value,
                        "source": f.source_url,
                        "as_of": f.as_of,
                        "check": {
                            "state": checks[f.source_url].state,
                            "label": checks[f.source_url].label,
                            "checked_at": checks[f.source_url].checked_at,
                        },
                        "origin": f.origin,
                        "fetched_at": f.fetched_at,
                        "reviewed": not f.is_unreviewed_extraction,
                    }
                    for f in tool.facts.all()
                ],
            }
        )
    return data


@api.get("/categories", response=list[CategoryOut], tags=["catalog"])
def list_categories(request: HttpRequest):
    return list(Category.objects.order_by("name"))


PricingParam = Literal[tuple(Pricing.values)]  # type: ignore[valid-type]
VerdictParam = Literal[tuple(browse.VERDICTS)]  # type: ignore[valid-type]
SortParam = Literal[tuple(browse.SORTS)]  # type: ignore[valid-type]


class ToolFilters(Schema):
    """The same filters and sorts as the /tools/ page (pages/browse.py)."""

    category: str | None = Field(None, description="Category slug (see /api/categories)")
    q: str | None = Field(None, description="Search name, vendor and tagline")
    pricing: PricingParam | None = Field(None, description="Pricing model")
    license: str | None = Field(None, description="Exact license text, as in the tool entries")
    open_weights: bool | None = Field(
        None, description='true: the "open-weights" pricing model; false: every other'
    )
    verdict: VerdictParam | None = Field(
        None,
        description="The panel's majority: ship, split, skip (from 3 published reviews), "
        "or none (no panel percentage yet)",
    )
    sort: SortParam = Field(
        browse.DEFAULT_SORT,
        description="name; panel (panel ship %, highest first); community (community %, "
        "highest first); newest (most recently published first)",
    )


# A filter value outside its schema (pricing, open_weights, verdict, sort) is refused with
# 422 by _invalid_request, in the one error shape; the schema says so.
@api.get("/tools", response={200: list[ToolOut], 422: ErrorOut}, tags=["catalog"])
def list_tools(request: HttpRequest, filters: Query[ToolFilters]):
    """Published tools, filtered and sorted like the /tools/ page (at most 500).

    An unknown category or license matches no tool (an empty list); an unknown pricing
    model, verdict or sort is refused with 422 by the schema.
    """
    category, license_ = filters.category or "", filters.license or ""
    if "\x00" in category + license_:
        # No slug or license holds a NUL character, and PostgreSQL refuses one in a query.
        return []
    chosen = browse.Filters(
        category=category,
        pricing=filters.pricing or "",
        license=license_,
        open_weights={True: "yes", False: "no", None: ""}[filters.open_weights],
        verdict=filters.verdict or "",
        sort=filters.sort,
    )
    tools = browse.browse(chosen)
    if filters.q:
        tools = tools.search(filters.q[:100])
    tools = list(tools[:500])
    panels, community = panel_summaries(tools), community_figures(tools)
    return [_tool_out(t, panels[t.pk], community[t.pk]) for t in tools]


@api.get("/rankings", response={200: list[RankingOut], 404: ErrorOut}, tags=["community"])
def list_rankings(request: HttpRequest, category: str | None = None):
    """The head-to-head leaderboard in rank order, with 95% intervals and rank ranges.

    ``category`` (a slug) limits it to votes between two tools of that category.
    """
    chosen = None
    if category:
        chosen = Category.objects.filter(slug=category).first() if "\x00" not in category else None
        if chosen is None:
            return Status(404, {"detail": f"no category '{category}'"})
    method = community_conf.interval_method()
    return [
        {
            "slug": row.tool.slug,
            "name": row.tool.name,
            "strength": row.strength,
            "ci_low": row.ci_low,
            "ci_high": row.ci_high,
            "rank_low": row.rank_best,
            "rank_high": row.rank_worst,
            "votes": row.votes,
            "wins": row.wins,
            "too_close": row.too_close,
            "interval_method": method,
        }
        for row in head_to_head_leaderboard(chosen)
    ]


@api.get("/tools/{slug}", response={200: ToolDetailOut, 404: ErrorOut}, tags=["catalog"])
def get_tool(request: HttpRequest, slug: str):
    tool = tools_with_details().filter(slug=slug).first()
    if tool is None:
        return Status(404, {"detail": f"no tool '{slug}'"})
    panel, community = panel_summaries([tool])[tool.pk], community_figures([tool])[tool.pk]
    return _tool_out(tool, panel, community, detail=True)


@api.get("/compare/{a}/{b}", response={200: ComparisonOut, 404: ErrorOut}, tags=["compare"])
def get_comparison(request: HttpRequest, a: str, b: str):
    """Two tools side by side, in canonical (alphabetical) order whatever order is asked."""
    if a == b:
        return Status(404, {"detail": "a comparison needs two different tools"})
    first, second = canonical_pair(a, b)
    page = comparison(first, second)
    if page is None:
        return Status(404, {"detail": "no such tool"})
    tools = [page.left, page.right]
    return {
        "title": f"{page.title} — Which one should you ship with?",
        "url": reverse("compare:pair", args=[first, second]),
        "tools": [_tool_out(s.tool, s.panel, s.community, detail=True) for s in tools],
        "pricing_read": page.pricing_read,
        "scorecard": {
            side.tool.slug: [
                {
                    "persona": row.persona,
                    "verdict": cell.verdict if cell else None,
                    "reason": cell.reason if cell else None,
                }
                for row, cell in ((r, r.cells[i]) for r in page.scorecard)
            ]
            for i, side in enumerate(tools)
        },
    }
