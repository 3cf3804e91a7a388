"""What search engines and link previews read: absolute URLs and schema.org data.

Every absolute URL is built on ``SITE_URL`` (never the request's Host header), so a page
reached through another allowed host name still names the one public address, and a
cached page is the same whoever asked first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from toolverdict.catalog.models import Tool
from toolverdict.community.services import CommunityFigure
from toolverdict.panel.services import PanelSummary

from .text import plain


def absolute(path: str) -> str:
    """``SITE_URL`` + a path that starts with "/"."""
    return f"{settings.SITE_URL}{path}"


def tool_image_path(slug: str) -> str:
    return reverse("share:tool_image", args=[slug])


def pair_image_path(a: str, b: str) -> str:
    return reverse("share:pair_image", args=[a, b])


def ratings(panel: PanelSummary, community: CommunityFigure) -> list[dict[str, Any]]:
    """schema.org AggregateRatings on a 0-100 scale, only for the figures that exist.

    The panel's percentage follows the pages' rule (none below three published reviews),
    the readers' the community minimum; a tool without either gets no rating at all.
    """
    found: list[dict[str, Any]] = []
    if panel.ship_pct is not None:
        found.append(
            {
                "@type": "AggregateRating",
                "name": "Panel ship",
                "description": "Share of the reviewer panel's published reviews saying ship",
                "ratingValue": panel.ship_pct,
                "bestRating": 100,
                "worstRating": 0,
                "reviewCount": panel.valid,
            }
        )
    if community.pct is not None:
        found.append(
            {
                "@type": "AggregateRating",
                "name": "Readers ship",
                "description": "Share of readers' counted votes saying ship",
                "ratingValue": community.pct,
                "bestRating": 100,
                "worstRating": 0,
                "ratingCount": community.votes,
            }
        )
    return found


def software_application(
    tool: Tool, panel: PanelSummary, community: CommunityFigure
) -> dict[str, Any]:
    """One tool as a schema.org SoftwareApplication, with its ratings where they exist."""
    data: dict[str, Any] = {
        "@type": "SoftwareApplication",
        "name": plain(tool.name),
        "description": plain(tool.tagline),
        "url": absolute(tool.get_absolute_url()),
        "applicationCategory": plain(tool.category.name),
        "image": absolute(tool_image_path(tool.slug)),
        "author": {"@type": "Organization", "name": plain(tool.vendor)},
        "sameAs": tool.homepage,
    }
    if tool.release_date:
        data["datePublished"] = tool.release_date.isoformat()
    found = ratings(panel, community)
    if found:
        # A property may repeat in schema.org: one rating per source of verdicts.
        data["aggregateRating"] = found[0] if len(found) == 1 else found
    return data


def tool_json_ld(tool: Tool, panel: PanelSummary, community: CommunityFigure) -> dict[str, Any]:
    return {"@context": "https://schema.org", **software_application(tool, panel, community)}


def pair_json_ld(sides: list[tuple[Tool, PanelSummary, CommunityFigure]]) -> dict[str, Any]:
    """Both tools of a comparison, each a SoftwareApplication."""
    return {
        "@context": "https://schema.org",
        "@graph": [software_application(*side) for side in sides],
    }
