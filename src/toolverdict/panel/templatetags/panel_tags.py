"""Template helpers for panel partials."""

from __future__ import annotations

from django import template

from toolverdict.catalog.models import Tool
from toolverdict.panel.dossier import Evidence, build_dossier
from toolverdict.panel.history import HistoryEntry, verdict_history

register = template.Library()


@register.simple_tag
def panel_evidence(tool: Tool) -> list[Evidence]:
    """The numbered evidence (E1..En) claims cite; uses the page's prefetched rows."""
    return list(build_dossier(tool).evidence)


@register.simple_tag
def panel_history(tool: Tool) -> list[HistoryEntry]:
    """When the panel's verdict or ship % changed, newest first, with the dossier changes."""
    return verdict_history(tool)
