"""``{% page_bits %}``: where a cached page asks for its reader's own bits.

Rendered only into pages the page cache stores. It names the tools whose vote boxes the
page shows (recorded by the community vote tags while the page rendered) and the pair,
so the one fragment request (``community:page_bits``) answers exactly what the page needs.
static/site.js turns it into an htmx request when the reader is signed in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


def record_tool(request, tool) -> None:
    """Note a tool vote box on a page being rendered for the cache."""
    if request is not None and getattr(request, "_page_cache_render", False):
        seen = request.__dict__.setdefault("_page_vote_tools", {})
        seen.setdefault(tool.slug, {"pk": tool.pk, "slug": tool.slug, "name": tool.name})


def record_pair(request, left, right) -> None:
    if request is not None and getattr(request, "_page_cache_render", False):
        request._page_vote_pair = tuple(
            {"pk": t.pk, "slug": t.slug, "name": t.name} for t in (left, right)
        )


@register.simple_tag(takes_context=True)
def page_bits(context: template.Context) -> str:
    request = context.get("request")
    if request is None or not getattr(request, "_page_cache_render", False):
        return ""
    query = {}
    tools = getattr(request, "_page_vote_tools", {})
    if tools:
        query["tools"] = ",".join(tools)
    pair = getattr(request, "_page_vote_pair", None)
    if pair:
        query["pair"] = ",".join(t["slug"] for t in pair)
    url = reverse("community:page_bits")
    if query:
        url = f"{url}?{urlencode(query)}"
    return format_html(
        '<!--pb:bits--><div id="page-bits" data-src="{}" hidden></div><!--/pb:bits-->', url
    )
