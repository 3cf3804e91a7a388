"""The digest's sitemap section: every sent issue, registered with ``core/sitemaps.py``."""

from __future__ import annotations

from datetime import datetime

from toolverdict.core.sitemaps import SiteSitemap, register_section

from .models import Issue


class DigestSitemap(SiteSitemap):
    changefreq = "never"

    def items(self):
        return Issue.objects.filter(status=Issue.Status.SENT).order_by("-iso_year", "-iso_week")

    def lastmod(self, issue: Issue) -> datetime | None:
        return issue.sent_at


def register() -> None:
    register_section("digest", DigestSitemap, scopes=["digest"], order=50)
