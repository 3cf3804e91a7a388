"""The page cache's scope names for what the catalog holds: one place builds each string.

A page showing a tool, a head-to-head or a category names these scopes (the views'
``@cached`` declarations), and the writes that change them bump the same names
(pagecache/versions.py versions any string; docs/caching.md lists the scopes).
"""

from __future__ import annotations

CATALOG = "catalog"


def tool_scope(slug: str) -> str:
    return f"tool:{slug}"


def pair_scope(a: str, b: str) -> str:
    """The head-to-head of slugs ``a`` and ``b``, in the order given (canonical on pages)."""
    return f"pair:{a}:{b}"


def category_scope(slug: str) -> str:
    return f"category:{slug}"


def tool_page(slug: str) -> list[str]:
    """What a page about one tool shows: the catalog and the tool's reviews and votes."""
    return [CATALOG, tool_scope(slug)]


def pair_page(a: str, b: str) -> list[str]:
    """What a comparison shows: both tools and the pair's head-to-head votes."""
    return [CATALOG, tool_scope(a), tool_scope(b), pair_scope(a, b)]


def category_page(slug: str) -> list[str]:
    return [CATALOG, category_scope(slug)]


def pair_scope_for_ids(a_id: int, b_id: int) -> str:
    """``pair_scope`` of two tools named by primary key (one query)."""
    from .models import Tool

    slugs = dict(Tool.objects.filter(pk__in=[a_id, b_id]).values_list("pk", "slug"))
    return pair_scope(str(slugs.get(a_id, a_id)), str(slugs.get(b_id, b_id)))
