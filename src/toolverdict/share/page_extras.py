"""Share's parts of the tool and comparison pages: JSON-LD, share images, the badge.

Registered with ``pages.extras`` (imported by ``ShareConfig.ready``): the pages app is
below share and names none of this.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from toolverdict.catalog.models import Tool
from toolverdict.community.services import CommunityFigure
from toolverdict.pages.comparison import ComparisonPage
from toolverdict.pages.extras import contributes
from toolverdict.panel.services import PanelSummary

from . import badges, seo


@contributes("tool")
def tool_page(tool: Tool, summary: PanelSummary, community: CommunityFigure) -> dict[str, Any]:
    badge_path = reverse("share:badge", args=[tool.slug])
    return {
        "json_ld": seo.tool_json_ld(tool, summary, community),
        "share_image": seo.tool_image_path(tool.slug),
        "share_image_alt": f"{tool.name}: panel ship, community and entry price",
        "badge_path": badge_path,
        "badge_width": badges.badge_size(summary, community)[0],
        "badge_snippets": badges.embed_snippets(
            tool, seo.absolute(tool.get_absolute_url()), seo.absolute(badge_path)
        ),
    }


@contributes("pair")
def pair_page(page: ComparisonPage, first: str, second: str) -> dict[str, Any]:
    sides = [(s.tool, s.panel, s.community) for s in page.sides]
    return {
        "json_ld": seo.pair_json_ld(sides),
        "share_image": seo.pair_image_path(first, second),
        "share_image_alt": f"{page.title}: both cards with the panel's verdicts",
    }
