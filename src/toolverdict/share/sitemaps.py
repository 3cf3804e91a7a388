"""The sitemap's catalog sections (django.contrib.sitemaps): pages, tools, categories and
comparisons, registered with ``core/sitemaps.py`` beside the sections other apps register
(the digest its issues).

Every location is absolute on ``SITE_URL``. ``/sitemap.xml`` is an index of one sitemap
per section (each paginated at 50,000 URLs, the protocol's limit), so a catalog whose
comparisons outgrow one file still lists every page.

Comparisons listed: every pair of published tools in the same category (the pairs the tool
pages link to) and every pair the daily ingest chose, in canonical order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from django.urls import reverse

from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.scopes import CATALOG
from toolverdict.catalog.services import canonical_pair
from toolverdict.core.sitemaps import SiteSitemap, register_section


class PagesSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["catalog:home", "catalog:tools", "community:rankings", "digest:archive"]

    def location(self, item: str) -> str:
        return reverse(item)


class ToolSitemap(SiteSitemap):
    changefreq = "weekly"

    def items(self):
        return Tool.objects.published().only("slug", "updated_at").order_by("slug")

    def lastmod(self, tool: Tool) -> datetime:
        return tool.updated_at


class CategorySitemap(SiteSitemap):
    changefreq = "weekly"

    def items(self):
        return Category.objects.filter(tools__is_published=True).distinct().order_by("slug")


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    updated: datetime

    def get_absolute_url(self) -> str:
        return reverse("compare:pair", args=[self.a, self.b])


def comparison_pairs() -> list[Pair]:
    """Same-category pairs of published tools, and the ingest's chosen pairs."""
    from toolverdict.ingest.models import DailyComparison

    tools = list(
        Tool.objects.published().values_list("slug", "category_id", "updated_at").order_by("slug")
    )
    updated = {slug: when for slug, _, when in tools}
    by_category: dict[int, list[str]] = {}
    for slug, category_id, _ in tools:
        by_category.setdefault(category_id, []).append(slug)
    pairs: set[tuple[str, str]] = set()
    for slugs in by_category.values():
        pairs.update(combinations(slugs, 2))  # slugs sorted: already canonical
    chosen = DailyComparison.objects.values_list("left_slug", "right_slug").distinct()
    for a, b in chosen:
        if a in updated and b in updated and a != b:
            pairs.add(canonical_pair(a, b))
    return [Pair(a, b, max(updated[a], updated[b])) for a, b in sorted(pairs)]


class ComparisonSitemap(SiteSitemap):
    changefreq = "weekly"

    def items(self) -> list[Pair]:
        return comparison_pairs()

    def lastmod(self, pair: Pair) -> datetime:
        return pair.updated


def register() -> None:
    for order, (name, sitemap) in enumerate(
        [
            ("pages", PagesSitemap),
            ("tools", ToolSitemap),
            ("categories", CategorySitemap),
            ("comparisons", ComparisonSitemap),
        ]
    ):
        register_section(name, sitemap, scopes=[CATALOG], order=10 * (order + 1))
