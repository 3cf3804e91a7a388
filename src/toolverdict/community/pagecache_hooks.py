"""The community's registrations with the page cache (found by its autodiscovery).

Its cached pages (the rankings and the vote rules), the writes that change pages (votes,
and an account's votes starting or stopping to count), its personal parts (the account
menu and the vote boxes, community/personal_parts.py) and the settings that change its
figures.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from toolverdict.catalog.scopes import CATALOG, category_page, pair_scope_for_ids
from toolverdict.pagecache.registry import (
    personal_part,
    register_page,
    register_uncached,
    rendering_settings,
    set_fragment_view,
    settings_not_rendering,
    watch,
)
from toolverdict.pagecache.versions import invalidate

from . import personal_parts
from .models import Member, PairVote, ToolVote

# Rankings also list where the panel and the readers disagree: reviews change them too.
register_page("community:rankings", [CATALOG, "votes", "reviews"])
register_page("community:rankings_category", category_page)
register_page("community:how_votes_count", [CATALOG, "votes"])
for name, reason in {
    "community:login": "a form with the reader's CSRF token",
    "community:login_sent": "answers one reader's sign-in request",
    "community:login_link": "spends or shows one reader's sign-in link",
    "community:logout": "signs one reader out",
    "community:profile": "one reader's votes",
    "community:page_bits": "one reader's own parts of a cached page (private, no-store)",
    "community:vote_tool": "a vote: answers POST, per reader",
    "community:vote_pair": "a vote: answers POST, per reader",
    "community:bursts": "editors only",
}.items():
    register_uncached(name, reason)


def _tool_vote(instance: ToolVote) -> None:
    invalidate("votes", "votes:tools", tools=[instance.tool_id])


def _pair_vote(instance: PairVote) -> None:
    invalidate("votes", categories_of=[instance.tool_a_id, instance.tool_b_id])
    invalidate(pair_scope_for_ids(instance.tool_a_id, instance.tool_b_id))


def _member(instance: Member) -> None:
    # Confirming an address, or an editor excluding an account, changes whether its votes
    # count: retire the pages showing the tools and pairs it voted on.
    _account_votes(instance.user_id)


def _user_saved(sender: type, instance: object, update_fields=None, **kwargs: object) -> None:
    # Deactivating (or reactivating) an account stops (or starts) its votes counting. A
    # save naming its fields without is_active (a sign-in's last_login) changes no page.
    if update_fields is not None and "is_active" not in update_fields:
        return
    _account_votes(instance.pk)


def _account_votes(user_id: int) -> None:
    tool_ids = list(ToolVote.objects.filter(user_id=user_id).values_list("tool_id", flat=True))
    pairs = list(PairVote.objects.filter(user_id=user_id).values_list("tool_a_id", "tool_b_id"))
    if tool_ids or pairs:
        invalidate(
            "votes",
            "votes:tools",
            *(pair_scope_for_ids(a, b) for a, b in pairs),
            tools=tool_ids,
            categories_of=[pk for pair in pairs for pk in pair],
        )


watch(ToolVote, change=_tool_vote)
watch(PairVote, change=_pair_vote)
watch(Member, change=_member)
post_save.connect(
    _user_saved, sender=get_user_model(), weak=False, dispatch_uid="community:user-active"
)

personal_part("nav", personal_parts.account_menu)
personal_part("tool", personal_parts.tool_boxes, family=True, query=personal_parts.tools_query)
personal_part("pair", personal_parts.pair_box, needs_record=True, query=personal_parts.pair_query)
set_fragment_view("community:page_bits")

# Thresholds, intervals and limits: the figures every page shows follow them.
rendering_settings("TOOLVERDICT_COMMUNITY_*")
settings_not_rendering(
    "TOOLVERDICT_RATE_LIMITS",
    "TOOLVERDICT_IP_HEADER",
    reason="vote and sign-in limits and where the client address comes from: no page shows them",
)
