"""Template tags for the vote boxes included in other apps' pages.

The account's votes are read once per request and kept on the request, so a page of
thirty tool cards costs one query for the vote state, not thirty.
"""

from __future__ import annotations

from django import template

from toolverdict.catalog.models import Tool
from toolverdict.community.personal_parts import record_pair, record_tool

from .. import blind, trust
from ..figures import pair_split
from ..votes import user_pair_choice, user_tool_votes

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
        votes = user_tool_votes(user)
        request._community_tool_votes = votes
    return votes.get(tool.pk)


@register.simple_tag(takes_context=True)
def pair_box(context: template.Context, left: Tool, right: Tool) -> dict:
    """The split, its call, the account's own choice and its button order for the pair.

    Read once per request and pair (the comparison page asks from two places).
    """
    request = context.get("request")
    record_pair(request, left, right)
    memo = getattr(request, "_community_pair_boxes", None) if request is not None else None
    if memo is not None and (left.pk, right.pk) in memo:
        return memo[(left.pk, right.pk)]
    user = context.get("user")
    split = pair_split(left, right)
    box = {
        "split": split,
        "call": trust.pair_call(split),
        "mine": user_pair_choice(user, left, right) if user is not None else None,
        "order": blind.button_order(user, left, right),
    }
    if request is not None:
        request.__dict__.setdefault("_community_pair_boxes", {})[(left.pk, right.pk)] = box
    return box


@register.simple_tag
def share_interval(positive: int, total: int):
    """The 95% Wilson interval of positive/total (``.label``: "40–80%"), or None."""
    return trust.share_interval(positive, total)


@register.simple_tag
def tool_trust(tool: Tool, panel, community) -> dict:
    """A tool page's vote rules (raw, counted, excluded by reason) and panel-vs-readers note."""
    return {
        "rules": trust.vote_rules([tool])[tool.pk],
        "disagreement": trust.disagreement(tool, panel, community),
    }
