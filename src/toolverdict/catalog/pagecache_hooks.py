"""The catalog's registrations with the page cache (found by its autodiscovery).

Any catalog write retires every catalog page (tool pages list their category's other
tools); ``invalidate(tools=[pk…])`` and ``invalidate(categories_of=[pk…])`` from any app
become the tools' and categories' scopes here, in one query at commit.
"""

from __future__ import annotations

from toolverdict.pagecache.registry import rendering_settings, settings_not_rendering, watch
from toolverdict.pagecache.versions import invalidate, register_ids

from .models import Category, Fact, PricePoint, Tool
from .scopes import CATALOG, category_scope, tool_scope
from .signals import sources_changed, tools_changed


def _scopes_of_tools(ids: dict[str, set[int]]) -> set[str]:
    tools = ids.get("tools", set())
    categories_of = ids.get("categories_of", set())
    rows = Tool.objects.filter(pk__in=tools | categories_of).values_list(
        "pk", "slug", "category__slug"
    )
    scopes: set[str] = set()
    for pk, slug, category in rows:
        if pk in tools:
            scopes.add(tool_scope(slug))
        scopes.add(category_scope(category))
    return scopes


def _tools_changed(sender: object, **kwargs: object) -> None:
    invalidate(CATALOG)


def _sources_changed(sender: object, tool_ids: list[int], **kwargs: object) -> None:
    # A source check changed what the pages of the tools citing it say about the source.
    invalidate(tools=tool_ids)


register_ids("tools", "categories_of", expand=_scopes_of_tools)
watch(Category, Tool, PricePoint, Fact, scopes=[CATALOG])
tools_changed.connect(_tools_changed, dispatch_uid="pagecache-tools-changed")
sources_changed.connect(_sources_changed, dispatch_uid="pagecache-sources-changed")
# How old a source check may be before pages call it stale (catalog/sources.py).
rendering_settings("TOOLVERDICT_SOURCES_STALE_DAYS")
settings_not_rendering(
    "TOOLVERDICT_SOURCES_PER_RUN",
    "TOOLVERDICT_SOURCES_RECHECK_DAYS",
    reason="the pace of source checks; a check that changes a source bumps its tools",
)
