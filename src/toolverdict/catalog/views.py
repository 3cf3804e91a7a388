"""Catalog pages: home, tool, category, search. Thin: parse, call services, render."""

from __future__ import annotations

import json
import mimetypes

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from toolverdict.community.services import community_figures
from toolverdict.panel.dossier import build_dossier
from toolverdict.panel.progress import panel_progress
from toolverdict.panel.services import latest_reviewed_tool_ids, panel_summaries

from . import services
from .export import DUMP_NAME, FILE_NAME, SCHEMA_VERSION, TABLES, latest_dumps
from .models import Category
from .sources import statuses_for


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
    facts = list(tool.facts.all())
    prices = list(tool.price_points.all())
    statuses = statuses_for([f.source_url for f in facts] + [p.source_url for p in prices])
    if summary.reviews:
        _mark_reviews(tool, summary, statuses)
    return render(
        request,
        "catalog/tool.html",
        {
            "tool": tool,
            "summary": summary,
            "community": community,
            "rivals": rivals,
            "facts": [(f, statuses[f.source_url]) for f in facts],
        },
    )


def _mark_reviews(tool, summary, statuses) -> None:
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


def data(request: HttpRequest) -> HttpResponse:
    """The open-data page: the newest dumps and their format."""
    latest = []
    for fmt, path in sorted(latest_dumps(settings.TOOLVERDICT_EXPORT_DIR).items()):
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = sorted(manifest.get("files", {}))
        latest.append(
            {
                "format": fmt,
                "name": path.name,
                "generated_at": manifest.get("generated_at", ""),
                "files": [n for n in ["manifest.json", *files] if FILE_NAME.match(n)],
            }
        )
    return render(
        request,
        "catalog/data.html",
        {
            "latest": latest,
            "tables": TABLES,
            "schema_version": SCHEMA_VERSION,
            "license": settings.TOOLVERDICT_EXPORT_LICENSE,
            "license_url": settings.TOOLVERDICT_EXPORT_LICENSE_URL,
            "stale_days": settings.TOOLVERDICT_SOURCES_STALE_DAYS,
        },
    )


def data_file(request: HttpRequest, dump: str, name: str) -> FileResponse:
    """One file of a dump, from the export directory: only names a dump can hold."""
    if not DUMP_NAME.match(dump) or not FILE_NAME.match(name):
        raise Http404("No such file")
    root = settings.TOOLVERDICT_EXPORT_DIR.resolve()
    path = (root / dump / name).resolve()
    if path.parent.parent != root or not path.is_file():
        raise Http404("No such file")
    content_type = {
        ".json": "application/json",
        ".csv": "text/csv; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }.get(path.suffix, mimetypes.guess_type(name)[0] or "application/octet-stream")
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    if path.suffix == ".csv":
        response["Content-Disposition"] = f'attachment; filename="{dump}-{name}"'
    # A dump never changes under its name.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
