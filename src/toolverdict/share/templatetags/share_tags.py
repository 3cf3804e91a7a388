"""Head tags for every page: canonical link, OpenGraph and Twitter cards, JSON-LD.

``{% capture as name %}…{% endcapture %}`` renders its content once and keeps it as plain
text, so base.html can show a page's ``title`` and ``description`` blocks both in
``<title>`` and in the share tags without each template repeating them. The captured text
is unescaped back to plain text and escaped again where it is written, so a tool name in a
title is escaped exactly once in every attribute.
"""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.http import HttpRequest
from django.template.base import Parser, Token
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString

from toolverdict.share import seo
from toolverdict.share.text import json_for_script, plain

register = template.Library()


class CaptureNode(template.Node):
    child_nodelists = ("nodelist",)  # blocks inside stay overridable by child templates

    def __init__(self, nodelist: template.NodeList, name: str) -> None:
        self.nodelist = nodelist
        self.name = name

    def render(self, context: template.Context) -> str:
        rendered = self.nodelist.render(context)
        context[self.name] = plain(html.unescape(strip_tags(rendered)))
        return ""


@register.tag
def capture(parser: Parser, token: Token) -> CaptureNode:
    """``{% capture as name %}…{% endcapture %}``: the content as plain text in ``name``."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


def _canonical_path(context: template.Context) -> str:
    explicit = context.get("canonical_path")
    if explicit:
        return str(explicit)
    request: HttpRequest | None = context.get("request")
    return request.path if request is not None else "/"


@register.simple_tag(takes_context=True)
def canonical_url(context: template.Context) -> str:
    """The page's absolute address on SITE_URL: the view's ``canonical_path`` or its path
    without the query string."""
    return seo.absolute(_canonical_path(context))


@register.inclusion_tag("share/_meta.html", takes_context=True)
def share_meta(context: template.Context) -> dict[str, Any]:
    """OpenGraph and Twitter-card tags from the captured title and description and the
    view's ``share_image`` (a path; the site's card when absent)."""
    from django.urls import reverse

    image = context.get("share_image") or reverse("share:site_image")
    return {
        "title": context.get("page_title", ""),
        "description": context.get("page_description", ""),
        "url": seo.absolute(_canonical_path(context)),
        "image": seo.absolute(str(image)),
        "image_alt": context.get("share_image_alt") or context.get("page_title", ""),
        "og_type": context.get("og_type") or "website",
        "site_name": context.get("SITE_NAME", ""),
    }


@register.simple_tag
def json_ld(data: Any) -> SafeString:
    """``<script type="application/ld+json">`` with the data escaped for a script element."""
    return format_html(
        '<script type="application/ld+json">{}</script>', SafeString(json_for_script(data))
    )
