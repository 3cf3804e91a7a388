"""Catalog read services used by pages, the API and other apps."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from toolverdict.pagecache.versions import invalidate

from .models import Category, Fact, PricePoint, Tool
from .scopes import CATALOG


def tools_with_details() -> QuerySet[Tool]:
    """Published tools with category, price points and facts loaded in three queries."""
    return (
        Tool.objects.published()
        .select_related("category")
        .prefetch_related(
            Prefetch("price_points", queryset=PricePoint.objects.order_by("position", "id")),
            Prefetch("facts", queryset=Fact.objects.order_by("position", "id")),
        )
    )


def get_tool(slug: str) -> Tool | None:
    return tools_with_details().filter(slug=slug).first()


def set_published(tool_ids: list[int], published: bool) -> int:
    """Show or hide tools (pages, comparisons, API); returns how many changed.

    Publishing stamps ``published_at`` with now, so "new this week" means new to readers.
    A queryset update sends no ``post_save``, so this retires the catalog pages itself
    (docs/caching.md, "Bulk writes").
    """
    changed = (
        Tool.objects.filter(pk__in=tool_ids)
        .exclude(is_published=published)
        .update(is_published=published, published_at=timezone.now() if published else None)
    )
    if changed:
        invalidate(CATALOG)
    return changed


def latest_tools(limit: int = 12, first_ids: list[int] | None = None) -> list[Tool]:
    """Newest published tools; ``first_ids`` (e.g. the latest reviewed) lead, in that order."""
    first_ids = list(first_ids or [])[:limit]
    leading = Tool.objects.published().select_related("category").in_bulk(first_ids)
    tools = [leading[pk] for pk in first_ids if pk in leading]
    rest = (
        Tool.objects.published()
        .select_related("category")
        .exclude(pk__in=[t.pk for t in tools])
        .order_by("-created_at", "-pk")[: max(0, limit - len(tools))]
    )
    return tools + list(rest)


def categories_with_counts() -> list[Category]:
    from django.db.models import Count, Q

    return list(
        Category.objects.annotate(
            tool_count=Count("tools", filter=Q(tools__is_published=True))
        ).order_by("name")
    )


def canonical_pair(a: str, b: str) -> tuple[str, str]:
    """The canonical order of a comparison: slugs sorted, so each pair has one URL."""
    return (a, b) if a <= b else (b, a)


def suggested_pairs(limit: int = 6) -> list[tuple[Tool, Tool]]:
    """Pairs of published tools in the same category, newest tools first."""
    pairs: list[tuple[Tool, Tool]] = []
    by_category: dict[int, list[Tool]] = {}
    for tool in Tool.objects.published().select_related("category").order_by("-created_at", "pk"):
        by_category.setdefault(tool.category_id, []).append(tool)
    # Round-robin over categories so the home page is not one category's list.
    depth = 0
    while len(pairs) < limit:
        added = False
        for tools in by_category.values():
            if depth + 1 < len(tools):
                a, b = tools[depth], tools[depth + 1]
                pairs.append((a, b) if a.slug <= b.slug else (b, a))
                added = True
                if len(pairs) >= limit:
                    break
        if not added:
            break
        depth += 2
    return pairs
