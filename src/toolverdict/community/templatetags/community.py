"""Template tags for the vote boxes included in other apps' pages.

The account's votes are read once per request and kept on the request, so a page of
thirty tool cards costs one query for the vote state, not thirty.
"""

from __future__ import annotations

from django import template

from toolverdict.catalog.models import Tool
from toolverdict.pagecache.templatetags.pagecache import record_pair, record_tool

from .. import services

register = template.Library()


@register.simple_tag(takes_context=True)
def my_tool_vote(context: template.Context, tool: Tool) -> str | None:
    """ "ship", "skip" or None: the current account's vote on ``tool``."""
    request = context.get("request")
    record_tool(request, tool)  # a cached page asks for this box's personal part
    user = context.get("user")
    if request is None or user is None or not user.is_authenticated:
        return None
    votes = getattr(request, "_community_tool_votes", None)
    if votes is None:
        votes = services.user_tool_votes(user)
        request._community_tool_votes = votes
    return votes.get(tool.pk)


@register.simple_tag(takes_context=True)
def pair_box(context: template.Context, left: Tool, right: Tool) -> dict:
    """The split and the account's own choice for the pair on a comparison page."""
    record_pair(context.get("request"), left, right)
    user = context.get("user")
    return {
        "split": services.pair_split(left, right),
        "mine": services.user_pair_choice(user, left, right) if user is not None else None,
    }
