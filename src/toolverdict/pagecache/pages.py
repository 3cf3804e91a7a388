"""Which pages are cached, and the scopes each one shows (see versions.py).

Keyed by URL name; the function gets the URL's keyword arguments and names the scopes
without touching the database, so a cached answer (or a 304) costs one version lookup.
"""

from __future__ import annotations

from collections.abc import Callable


def _tool(slug: str) -> list[str]:
    return ["catalog", f"tool:{slug}"]


def _pair(a: str, b: str) -> list[str]:
    return ["catalog", f"tool:{a}", f"tool:{b}", f"pair:{a}:{b}"]


def _category(slug: str) -> list[str]:
    return ["catalog", f"category:{slug}"]


PAGES: dict[str, Callable[..., list[str]]] = {
    # The home page lists the latest verdicts with their community figures and the panel's
    # progress: any review, any tool vote, any catalog edit changes it.
    "catalog:home": lambda: ["catalog", "reviews", "votes:tools"],
    "catalog:tool": _tool,
    "catalog:category": _category,
    "catalog:search": lambda: ["catalog"],
    # Browse lists every tool with its panel and community figures.
    "catalog:tools": lambda: ["catalog", "reviews", "votes:tools"],
    # The open-data page links the newest dumps: the export job bumps "data".
    "opendata:data": lambda: ["data"],
    "compare:pair": _pair,
    # Rankings also list where the panel and the readers disagree: reviews change them too.
    "community:rankings": lambda: ["catalog", "votes", "reviews"],
    "community:how_votes_count": lambda: ["catalog", "votes"],
    "community:rankings_category": _category,
    "digest:archive": lambda: ["digest"],
    "digest:issue": lambda year, week: ["digest"],
    "digest:feed": lambda: ["digest"],
    # The JSON API shows the same figures as the pages.
    "api:list_categories": lambda: ["catalog"],
    "api:list_tools": lambda: ["catalog", "reviews", "votes:tools"],
    "api:get_tool": _tool,
    "api:get_comparison": lambda a, b: ["catalog", f"tool:{a}", f"tool:{b}"],
    # Any vote (a pair vote, or an account's votes starting or stopping to count) bumps
    # "votes"; the category filter is a query parameter, part of the stored page's key.
    "api:list_rankings": lambda: ["catalog", "votes"],
    "api:openapi-json": lambda: [],
    # Discovery and sharing (share/): a share image or badge shows what its page shows.
    "share:robots": lambda: [],
    "share:sitemap": lambda: ["catalog", "digest"],
    "share:sitemap_section": lambda section: ["digest"] if section == "digest" else ["catalog"],
    "share:site_image": lambda: [],
    "share:tool_image": _tool,
    "share:badge": _tool,
    "share:pair_image": _pair,
}


# The query parameters each cached page reads; every other page reads none. A request
# with any other parameter is redirected to the same URL without it (middleware.py), so
# made-up parameters cannot store new entries and push real pages out of the cache.
# tests/core/test_page_cache_hardening.py checks these against the views' own lists.
PARAMS: dict[str, tuple[str, ...]] = {
    "catalog:tools": ("category", "pricing", "license", "open_weights", "verdict", "sort", "page"),
    "catalog:search": ("q", "page"),
    "api:list_tools": ("category", "q", "pricing", "license", "open_weights", "verdict", "sort"),
    "api:list_rankings": ("category",),
    # Django's sitemap view pages long sections with ?p= (the index links them).
    "share:sitemap_section": ("p",),
}
