"""The composed reading pages: home, browse, tool, category, search and the comparison page.

Thin: parse the request, call services, render.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from toolverdict.catalog import services as catalog
from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.scopes import CATALOG, category_page, pair_page, tool_page
from toolverdict.catalog.services import canonical_pair
from toolverdict.catalog.sources import SourceStatus, statuses_for
from toolverdict.community.services import CommunityFigure, community_figures
from toolverdict.ingest.origin import tool_origin
from toolverdict.pagecache.registry import cached
from toolverdict.panel.dossier import build_dossier
from toolverdict.panel.progress import panel_progress
from toolverdict.panel.services import PanelSummary, latest_reviewed_tool_ids, panel_summaries

from . import browse, extras
from .comparison import comparison


# The home page lists the latest verdicts with their community figures and the panel's
# progress: any review, any tool vote, any catalog edit changes it.
@cached("catalog:home", [CATALOG, "reviews", "votes:tools"])
def home(request: HttpRequest) -> HttpResponse:
    # Latest verdicts first; a fresh install without reviews shows its newest tools.
    latest = catalog.latest_tools(12, first_ids=latest_reviewed_tool_ids(12))
    pairs = catalog.suggested_pairs(6)
    pair_tools = [t for pair in pairs for t in pair]
    summaries = panel_summaries(latest + pair_tools)
    community = community_figures(latest)
    progress = panel_progress(brief=True)
    return render(
        request,
        "pages/home.html",
        {
            "latest": [(t, summaries[t.pk], community[t.pk]) for t in latest],
            "pairs": [(a, b, summaries[a.pk], summaries[b.pk]) for a, b in pairs],
            "categories": catalog.categories_with_counts(),
            "panel_progress": None if progress.done else progress,
        },
    )


BROWSE_PAGE_SIZE = 50


# Browse lists every tool with its panel and community figures.
@cached("catalog:tools", [CATALOG, "reviews", "votes:tools"], params=(*browse.FIELDS, "page"))
def tool_list(request: HttpRequest) -> HttpResponse:
    """Every published tool, filtered and sorted by GET parameters (shareable links).

    An unknown filter value is named in a message, the other filters still apply, and the
    answer is 400 so that nothing stores or indexes the broken link.
    """
    known = browse.choices()
    parsed = browse.parse(request.GET, known)
    filters = parsed.filters
    page = Paginator(browse.browse(filters), BROWSE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (
            tool,
            PanelSummary(ship=tool.fig_panel_ship, valid=tool.fig_published),
            CommunityFigure(ship=tool.fig_votes_ship, votes=tool.fig_votes),
        )
        for tool in page
    ]
    path = reverse("catalog:tools")
    base = filters.query()

    def link(query: str, number: int = 1) -> str:
        query = "&".join(part for part in (query, f"page={number}" if number > 1 else "") if part)
        return f"{path}?{query}" if query else path

    return render(
        request,
        "pages/tools.html",
        {
            "rows": rows,
            "page": page,
            "filters": filters,
            "errors": parsed.errors,
            "known": known,
            "sort_links": [
                (value, label, link(filters.query(sort=value))) for value, label in known.sorts
            ],
            "previous_link": link(base, page.previous_page_number()) if page.has_previous() else "",
            "next_link": link(base, page.next_page_number()) if page.has_next() else "",
            "canonical_path": link(base, page.number),
        },
        status=400 if parsed.errors else 200,
    )


@cached("catalog:tool", tool_page)
def tool_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tool = catalog.get_tool(slug)
    if tool is None:
        raise Http404("No such tool")
    summary = panel_summaries([tool])[tool.pk]
    community = community_figures([tool])[tool.pk]
    rivals = list(
        tool.category.tools.filter(is_published=True).exclude(pk=tool.pk).order_by("name")[:6]
    )
    facts = list(tool.facts.all())
    prices = list(tool.price_points.all())
    statuses = statuses_for([f.source_url for f in facts] + [p.source_url for p in prices])
    if summary.reviews:
        _mark_reviews(tool, summary, statuses)
    return render(
        request,
        "pages/tool.html",
        {
            "tool": tool,
            "summary": summary,
            "community": community,
            "rivals": rivals,
            "origin": tool_origin(tool),
            "facts": [(f, statuses[f.source_url]) for f in facts],
            # The share tags, JSON-LD and badge: share's, registered in share/page_extras.py.
            **extras.extra_context("tool", tool=tool, summary=summary, community=community),
        },
    )


def _mark_reviews(tool: Tool, summary: PanelSummary, statuses: dict[str, SourceStatus]) -> None:
    """Mark each review that cites an evidence item whose source is unreachable or stale."""
    flagged = {
        e.id: statuses[e.source_url].label
        for e in build_dossier(tool).evidence
        if e.source_url in statuses and statuses[e.source_url].is_flagged
    }
    if not flagged:
        return
    for card in summary.reviews.values():
        cited = dict.fromkeys(i for claim in card.claims for i in claim.evidence_ids)
        card.source_marks = [(i, flagged[i]) for i in cited if i in flagged]


@cached("catalog:category", category_page)
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    tools = list(category.tools.filter(is_published=True).order_by("name"))
    summaries = panel_summaries(tools)
    community = community_figures(tools)
    return render(
        request,
        "pages/category.html",
        {
            "category": category,
            "rows": [(t, summaries[t.pk], community[t.pk]) for t in tools],
        },
    )


@cached("catalog:search", [CATALOG], params=("q", "page"))
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").replace("\x00", "")[:100]
    results = catalog.tools_with_details().search(query).order_by("name")
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    return render(request, "pages/search.html", {"query": query, "page": page})


@cached("compare:pair", pair_page)
def compare(request: HttpRequest, a: str, b: str) -> HttpResponse:
    if a == b:
        raise Http404("A comparison needs two different tools")
    first, second = canonical_pair(a, b)
    page = comparison(first, second)
    if page is None:
        raise Http404("No such tool")
    if (first, second) != (a, b):
        return redirect("compare:pair", a=first, b=second, permanent=True)
    return render(
        request,
        "pages/compare.html",
        {"page": page, **extras.extra_context("pair", page=page, first=first, second=second)},
    )
