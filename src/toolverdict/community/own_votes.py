"""An account's own votes, for its profile page, and when they start to count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from . import conf
from .models import Member, PairVote, ToolVote


@dataclass
class MyVotes:
    tool_votes: list[ToolVote]
    pair_votes: list[PairVote]
    counts_from: datetime | None  # when this account's votes start to count; None: never

    @property
    def counting(self) -> bool:
        return self.counts_from is not None and self.counts_from <= timezone.now()


def counts_from(user: AbstractBaseUser) -> datetime | None:
    """When the account's votes start counting in figures (see ``counted_votes``)."""
    member = Member.objects.filter(user=user).first()
    if member is None or member.email_confirmed_at is None or member.votes_excluded:
        return None
    if not user.is_active:
        return None
    return user.date_joined + conf.new_account_delay()


def my_votes(user: AbstractBaseUser) -> MyVotes:
    return MyVotes(
        tool_votes=list(
            ToolVote.objects.filter(user=user)
            .select_related("tool", "tool__category")
            .order_by("-updated_at", "-pk")
        ),
        pair_votes=list(
            PairVote.objects.filter(user=user)
            .select_related("tool_a", "tool_b", "winner")
            .order_by("-updated_at", "-pk")
        ),
        counts_from=counts_from(user),
    )
