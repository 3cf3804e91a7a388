"""Sitemap sections by registration: each app adds the sections of the pages it owns, and
the sitemap views (share/) serve whatever is registered, so the sitemap names no app.

Every location is absolute on ``SITE_URL``, whichever host the request came to.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap


class SiteSitemap(Sitemap):
    """Locations on SITE_URL's scheme and host, whichever host the request came to."""

    @property
    def protocol(self) -> str:  # type: ignore[override]
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None) -> str:
        parts = urlsplit(settings.SITE_URL)
        return f"{parts.netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Section:
    sitemap: type[Sitemap]
    scopes: tuple[str, ...]  # the page-cache scopes whose change changes this section
    order: int


_sections: dict[str, Section] = {}


def register_section(name: str, sitemap: type[Sitemap], *, scopes: list[str], order: int) -> None:
    """Serve ``sitemap`` as ``/sitemap-<name>.xml``, listed in the index by ``order``."""
    _sections[name] = Section(sitemap, tuple(scopes), order)


def sections() -> dict[str, Section]:
    """The registered sections, in index order."""
    return dict(sorted(_sections.items(), key=lambda item: (item[1].order, item[0])))
