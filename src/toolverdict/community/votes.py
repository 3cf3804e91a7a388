"""Casting votes: an account's ship/skip on a tool and its head-to-head choice on a pair.

Views call the ``cast_*`` functions, which write the current vote and its audit event in
one transaction; the ``user_*`` functions read one account's current votes for a page.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.catalog.scopes import pair_scope
from toolverdict.core.net import client_hash
from toolverdict.pagecache.versions import invalidate

from .figures import canonical_tools
from .models import Ballot, PairVote, ToolVote, VoteEvent


class InvalidVote(ValueError):
    """The vote names a value or tool that cannot be voted on here."""


# Vote events keep the first 16 hex characters of the client hash: enough to tell the
# addresses in a burst apart, and what the column has always held.
IP_HASH_LENGTH = 16


def cast_tool_vote(user: AbstractBaseUser, tool: Tool, value: str, *, ip: str = "") -> ToolVote:
    """Set the account's ship/skip vote on ``tool`` and log it; race-safe.

    One INSERT … ON CONFLICT DO UPDATE writes the vote, so two concurrent requests from
    the same account can neither duplicate it nor fail; the event is written after the
    upsert in the same transaction, so event order matches the order the row changed.
    """
    if value not in Ballot.values:
        raise InvalidVote(f"a vote is ship or skip, not {value!r}")
    if not tool.is_published:
        raise InvalidVote("this tool is not published")
    now = timezone.now()
    vote = ToolVote(user=user, tool=tool, value=value, created_at=now, updated_at=now)
    with transaction.atomic():
        ToolVote.objects.bulk_create(
            [vote],
            update_conflicts=True,
            unique_fields=["user", "tool"],
            update_fields=["value", "updated_at"],
        )
        VoteEvent.objects.create(
            kind=VoteEvent.Kind.TOOL,
            user=user,
            tool=tool,
            value=value,
            ip_hash=client_hash(ip, length=IP_HASH_LENGTH),
            created_at=now,
        )
        # The upsert sends no post_save: retire the pages showing this tool on commit.
        invalidate("votes", "votes:tools", tools=[tool.pk])
    return vote


def cast_pair_vote(
    user: AbstractBaseUser,
    left: Tool,
    right: Tool,
    winner: Tool,
    *,
    ip: str = "",
    shown_first: Tool | None = None,
) -> PairVote:
    """Set the account's head-to-head choice for the pair and log it; race-safe.

    ``shown_first`` is the tool the reader's buttons showed first (blind.py), kept with
    the vote and its event so position bias can be measured.
    """
    if left.pk == right.pk:
        raise InvalidVote("a head-to-head vote needs two different tools")
    if winner.pk not in (left.pk, right.pk):
        raise InvalidVote("the winner must be one of the pair")
    if shown_first is not None and shown_first.pk not in (left.pk, right.pk):
        raise InvalidVote("the tool shown first must be one of the pair")
    if not (left.is_published and right.is_published):
        raise InvalidVote("both tools must be published")
    a, b = canonical_tools(left, right)
    now = timezone.now()
    vote = PairVote(
        user=user,
        tool_a=a,
        tool_b=b,
        winner=winner,
        shown_first=shown_first,
        created_at=now,
        updated_at=now,
    )
    with transaction.atomic():
        PairVote.objects.bulk_create(
            [vote],
            update_conflicts=True,
            unique_fields=["user", "tool_a", "tool_b"],
            update_fields=["winner", "shown_first", "updated_at"],
        )
        VoteEvent.objects.create(
            kind=VoteEvent.Kind.PAIR,
            user=user,
            tool=a,
            tool_b=b,
            value=winner.slug,
            shown_first=shown_first,
            ip_hash=client_hash(ip, length=IP_HASH_LENGTH),
            created_at=now,
        )
        invalidate("votes", pair_scope(a.slug, b.slug), categories_of=[a.pk, b.pk])
    return vote


def user_tool_votes(user: AbstractBaseUser) -> dict[int, str]:
    """{tool pk: "ship"|"skip"} for one account, in one query."""
    if not user.is_authenticated:
        return {}
    return dict(ToolVote.objects.filter(user=user).values_list("tool_id", "value"))


def user_pair_choice(user: AbstractBaseUser, left: Tool, right: Tool) -> int | None:
    """The pk of the tool this account chose for the pair, or None."""
    if not user.is_authenticated:
        return None
    a, b = canonical_tools(left, right)
    return (
        PairVote.objects.filter(user=user, tool_a=a, tool_b=b)
        .values_list("winner_id", flat=True)
        .first()
    )
