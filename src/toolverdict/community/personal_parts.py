"""The community's personal parts of cached pages: the account menu and the vote boxes.

A cached page is the same for every reader; these parts are filled in for a signed-in
reader by the page cache (registered in ``community/pagecache_hooks.py``). While a page
renders for the cache the vote tags record which boxes it holds (``record_tool``,
``record_pair``), so only the templates, never catalog text, say where a reader's bits go.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from toolverdict.catalog.models import Tool
from toolverdict.pagecache.registry import record

from .blind import button_order
from .models import PairVote


def _brief(tool: Tool) -> dict[str, Any]:
    return {"pk": tool.pk, "slug": tool.slug, "name": tool.name}


def record_tool(request: HttpRequest | None, tool: Tool) -> None:
    """Note a tool vote box on a page being rendered for the cache."""
    record(request, "tool", _brief(tool), key=tool.slug)


def record_pair(request: HttpRequest | None, left: Tool, right: Tool) -> None:
    """Note the head-to-head box on a page being rendered for the cache."""
    record(request, "pair", (_brief(left), _brief(right)))


def account_menu(request: HttpRequest, recorded: Any, next_url: str) -> dict[str, str]:
    html = render_to_string("includes/account_nav.html", {"next_url": next_url}, request=request)
    return {"nav": html}


def tool_boxes(
    request: HttpRequest, recorded: dict[str, dict[str, Any]], next_url: str
) -> dict[str, str]:
    """Every tool vote box of the page with the reader's vote: one query for all."""
    from .services import user_tool_votes

    user = request.user
    votes = user_tool_votes(user) if recorded and user.is_authenticated else {}
    return {
        f"tool:{slug}": render_to_string(
            "community/_tool_vote_action.html",
            {"next_url": next_url, "tool": tool, "mine": votes.get(tool["pk"])},
            request=request,
        )
        for slug, tool in recorded.items()
    }


def pair_box(request: HttpRequest, recorded: Any, next_url: str) -> dict[str, str]:
    """The head-to-head buttons in the reader's order, with their choice."""
    left, right = recorded
    user = request.user
    mine = None
    if user.is_authenticated:
        mine = (
            PairVote.objects.filter(user=user, tool_a_id=left["pk"], tool_b_id=right["pk"])
            .values_list("winner_id", flat=True)
            .first()
        )
    box = {"mine": mine, "order": button_order(user, left, right)}
    html = render_to_string(
        "community/_pair_vote_action.html",
        {"next_url": next_url, "left": left, "right": right, "box": box},
        request=request,
    )
    return {"pair": html}


def tools_query(recorded: dict[str, Any]) -> dict[str, str]:
    """What the fragment request (``community:page_bits``) needs to know of the boxes."""
    return {"tools": ",".join(recorded)}


def pair_query(recorded: Any) -> dict[str, str]:
    return {"pair": ",".join(t["slug"] for t in recorded)}
