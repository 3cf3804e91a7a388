"""Catalog pages: home, tool, category, search. Thin: parse, call services, render."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from toolverdict.community.services import community_figures
from toolverdict.panel.progress import panel_progress
from toolverdict.panel.services import latest_reviewed_tool_ids, panel_summaries

from . import services
from .models import Category


def home(request: HttpRequest) -> HttpResponse:
    # Latest verdicts first; a fresh install without reviews shows its newest tools.
    latest = services.latest_tools(12, first_ids=latest_reviewed_tool_ids(12))
    pairs = services.suggested_pairs(6)
    pair_tools = [t for pair in pairs for t in pair]
    summaries = panel_summaries(latest + pair_tools)
    community = community_figures(latest)
    progress = panel_progress(brief=True)
    return render(
        request,
        "catalog/home.html",
        {
            "latest": [(t, summaries[t.pk], community[t.pk]) for t in latest],
            "pairs": [(a, b, summaries[a.pk], summaries[b.pk]) for a, b in pairs],
            "categories": services.categories_with_counts(),
            "panel_progress": None if progress.done else progress,
        },
    )


def tool_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tool = services.get_tool(slug)
    if tool is None:
        raise Http404("No such tool")
    summary = panel_summaries([tool])[tool.pk]
    community = community_figures([tool])[tool.pk]
    rivals = list(
        tool.category.tools.filter(is_published=True).exclude(pk=tool.pk).order_by("name")[:6]
    )
    return render(
        request,
        "catalog/tool.html",
        {"tool": tool, "summary": summary, "community": community, "rivals": rivals},
    )


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    tools = list(category.tools.filter(is_published=True).order_by("name"))
    summaries = panel_summaries(tools)
    community = community_figures(tools)
    return render(
        request,
        "catalog/category.html",
        {
            "category": category,
            "rows": [(t, summaries[t.pk], community[t.pk]) for t in tools],
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").replace("\x00", "")[:100]
    results = services.tools_with_details().search(query).order_by("name")
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    return render(request, "catalog/search.html", {"query": query, "page": page})
