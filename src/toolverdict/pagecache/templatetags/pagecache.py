"""Template tags of the page cache.

``{% page_bits %}``: where a cached page asks for its reader's own bits. Rendered only
into pages the page cache stores. It names what the page's personal parts recorded while
it rendered (each part's registered ``query``: the community's vote boxes name their
tools and pair), so the one fragment request (the view an app registered with
``registry.set_fragment_view``) answers exactly what the page needs.
static/site.js turns it into an htmx request when the reader is signed in.

``{% page_scripts %}``: the page's scripts, for the readers who use them. Reading needs no
JavaScript and every form works without it; scripts only let a signed-in reader's votes
answer in place. So by default (``TOOLVERDICT_PAGE_SCRIPTS = "members"``) an anonymous
page carries none, and a signed-in reader's copy gets them filled in with their other own
bits (pagecache/personal.py). Even an empty script costs the first load a long task
(the browser sets up JavaScript for the page), which showed in Lighthouse's blocking time
on a busy machine. ``"all"`` puts them on every page: for a CDN that serves the
anonymous copy to signed-in readers too, whose bits then arrive by the fragment request.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .. import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def page_bits(context: template.Context) -> str:
    """Where the fragment request goes: it names what the page's parts recorded."""
    request = context.get("request")
    if request is None or not getattr(request, "_page_cache_render", False):
        return ""
    if not scripts_for_everyone():
        return ""  # no script on the page to ask; signed-in readers get theirs filled in
    view = registry.fragment_view()
    if view is None:
        return ""
    query: dict[str, str] = {}
    recorded = registry.recorded(request)
    for name, part in registry.personal_parts_registered().items():
        if part.query is not None and recorded.get(name):
            query.update(part.query(recorded[name]))
    url = reverse(view)
    if query:
        url = f"{url}?{urlencode(query)}"
    return format_html(
        '<!--pb:bits--><div id="page-bits" data-src="{}" hidden></div><!--/pb:bits-->', url
    )


SCRIPTS_PART = "<!--pb:scripts-->{}<!--/pb:scripts-->"


def scripts_for_everyone() -> bool:
    return settings.TOOLVERDICT_PAGE_SCRIPTS == "all"


def script_tags(extra: list[str] | tuple[str, ...]) -> SafeString:
    """site.js (which loads htmx when wanted) and the page's own ``extra`` scripts."""
    site = format_html(
        '<script src="{}" data-htmx="{}" defer></script>',
        static("site.js"),
        static("htmx.min.js"),
    )
    others = format_html_join("", '<script src="{}" defer></script>', ((static(n),) for n in extra))
    return site + others


@register.simple_tag(takes_context=True)
def page_scripts(context: template.Context, *extra: str) -> str:
    """The scripts, for a signed-in reader or with ``TOOLVERDICT_PAGE_SCRIPTS = "all"``.

    Marked as a personal part, so a stored anonymous page gets them filled in for a
    signed-in reader; the names of ``extra`` go with the stored page for that.
    """
    request = context.get("request")
    anonymous_copy = request is not None and getattr(request, "_page_cache_render", False)
    if anonymous_copy:
        registry.record(request, "scripts", list(extra))
    user = None if request is None or anonymous_copy else getattr(request, "user", None)
    wanted = scripts_for_everyone() or bool(user is not None and user.is_authenticated)
    return mark_safe(SCRIPTS_PART.format(script_tags(extra) if wanted else ""))  # noqa: S308 - built by format_html
