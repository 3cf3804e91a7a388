"""The panel's side of "panel vs readers" on the community's rankings.

The rankings page is the community's, and the community never imports the panel, its
sibling (docs/decisions.md, layers). The pages compose both, so they hand the community
the panel's ship shares: ``PagesConfig.ready`` registers ``panel_shares`` with
``community.trust.provide_panel_shares``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q

from toolverdict.catalog.models import Tool
from toolverdict.community.trust import ShareInterval, share_interval
from toolverdict.panel.models import Review
from toolverdict.panel.services import MIN_PUBLISHED_FOR_PCT


def panel_shares(tools: Sequence[Tool]) -> dict[int, ShareInterval]:
    """Each tool's panel ship share (current published confident reviews) with its 95%
    interval, for the tools whose panel shows a percentage; one query."""
    rows = (
        Review.objects.counted()
        .filter(tool_id__in=[t.pk for t in tools], is_current=True)
        .values("tool_id")
        .annotate(valid=Count("pk"), ship=Count("pk", filter=Q(verdict=Review.Verdict.SHIP)))
    )
    return {
        row["tool_id"]: share_interval(row["ship"], row["valid"])
        for row in rows
        if row["valid"] >= MIN_PUBLISHED_FOR_PCT
    }
