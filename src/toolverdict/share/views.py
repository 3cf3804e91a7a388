"""robots.txt, the sitemap, share images and badges. Thin: look up, draw, answer.

Every answer here is cached by the page cache with the scopes of the page it shows
(``@cached`` next to each view): a share image or badge is drawn once per version of its tool's
figures and retired by the same writes as the tool page. The views also set the page
cache's ``Cache-Control`` themselves, so browsers and CDNs may keep them when the page
cache is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse

from toolverdict.catalog.models import Tool
from toolverdict.catalog.scopes import CATALOG, pair_page, tool_page
from toolverdict.catalog.services import canonical_pair
from toolverdict.community.services import community_figures
from toolverdict.core.sitemaps import sections
from toolverdict.pagecache.middleware import cache_control
from toolverdict.pagecache.registry import cached
from toolverdict.pages.comparison import comparison
from toolverdict.panel.services import panel_summaries

from . import badges, images, seo


def _cacheable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = cache_control()
    return response


@cached("share:robots")
def robots(request: HttpRequest) -> HttpResponse:
    body = render_to_string(
        "share/robots.txt",
        {"SITE_NAME": settings.SITE_NAME, "sitemap_url": seo.absolute(reverse("share:sitemap"))},
    )
    return _cacheable(HttpResponse(body, content_type="text/plain; charset=utf-8"))


def _section_scopes(section: str) -> list[str]:
    found = sections().get(section)
    return list(found.scopes) if found else [CATALOG]


def _index_scopes() -> list[str]:
    return sorted({scope for section in sections().values() for scope in section.scopes})


@dataclass
class IndexEntry:
    location: str
    last_mod: None = None


@cached("share:sitemap", _index_scopes)
def sitemap_index(request: HttpRequest) -> HttpResponse:
    """One entry per section page, on SITE_URL (django's own index uses the request host)."""
    entries = []
    for section, registered in sections().items():
        pages = registered.sitemap().paginator.num_pages
        path = reverse("share:sitemap_section", args=[section])
        entries.extend(
            IndexEntry(seo.absolute(path if page == 1 else f"{path}?p={page}"))
            for page in range(1, pages + 1)
        )
    body = render_to_string("sitemap_index.xml", {"sitemaps": entries})
    return _cacheable(HttpResponse(body, content_type="application/xml"))


# Django's sitemap view pages long sections with ?p= (the index links them).
@cached("share:sitemap_section", _section_scopes, params=("p",))
def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    registered = sections().get(section)
    if registered is None:
        raise Http404("No such sitemap section")
    response = sitemap_views.sitemap(request, {section: registered.sitemap}, section=section)
    response.render()
    return _cacheable(response)


def _published_tool(slug: str) -> Tool:
    tool = Tool.objects.published().select_related("category").filter(slug=slug).first()
    if tool is None:
        raise Http404("No such tool")
    return tool


def _png(data: bytes) -> HttpResponse:
    return _cacheable(HttpResponse(data, content_type="image/png"))


@cached("share:tool_image", tool_page)
def tool_image(request: HttpRequest, slug: str) -> HttpResponse:
    tool = _published_tool(slug)
    panel = panel_summaries([tool])[tool.pk]
    community = community_figures([tool])[tool.pk]
    return _png(images.tool_image(tool, panel, community))


@cached("share:pair_image", pair_page)
def pair_image(request: HttpRequest, a: str, b: str) -> HttpResponse:
    if a == b:
        raise Http404("A comparison needs two different tools")
    first, second = canonical_pair(a, b)
    if (first, second) != (a, b):
        return redirect("share:pair_image", a=first, b=second, permanent=True)
    page = comparison(first, second)
    if page is None:
        raise Http404("No such tool")
    sides = [(s.tool, s.panel, s.community) for s in page.sides]
    return _png(images.pair_image(sides))


@cached("share:site_image")
def site_image(request: HttpRequest) -> HttpResponse:
    return _png(images.site_image())


@cached("share:badge", tool_page)
def badge(request: HttpRequest, slug: str) -> HttpResponse:
    tool = _published_tool(slug)
    panel = panel_summaries([tool])[tool.pk]
    community = community_figures([tool])[tool.pk]
    svg = badges.badge_svg(tool, panel, community)
    return _cacheable(HttpResponse(svg, content_type="image/svg+xml; charset=utf-8"))
