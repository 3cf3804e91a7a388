"""Blind-first head-to-head: the question before the answers, in an order chosen per reader.

A reader who has not voted on a pair sees "Which would you ship with?" with the two tools'
buttons in an order drawn for them, and the panel's verdict and the community split only
behind "Show results" (a ``<details>`` element, so no JavaScript is needed) or once they
have voted. The order is a keyed hash of the account and the pair: the same reader gets the
same order on every visit (a reload cannot be used to reshuffle), different readers get
either order with equal chance, and the order shown is recorded with the vote
(``PairVote.shown_first``) so position bias can be measured (``position_bias``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q

from . import intervals
from .figures import counted_votes
from .models import PairVote


def _slug(tool: Any) -> str:
    return tool["slug"] if isinstance(tool, dict) else tool.slug


def shows_second_first(user_pk: int | None, left: Any, right: Any) -> bool:
    """Whether this reader's buttons show ``right`` before ``left``."""
    if user_pk is None:
        return False
    message = f"pair-order:{user_pk}:{_slug(left)}:{_slug(right)}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return bool(digest[0] & 1)


def button_order(user: Any, left: Any, right: Any) -> tuple[Any, Any]:
    """The two tools in the order this reader's buttons show them."""
    pk = user.pk if user is not None and user.is_authenticated else None
    return (right, left) if shows_second_first(pk, left, right) else (left, right)


def position_bias(votes=None) -> tuple[int, int, float, tuple[float, float] | None]:
    """(votes for the tool shown first, votes with a recorded order, share, 95% interval).

    Over the given PairVote queryset (default: the counted votes, the same rule as every
    other public figure, so new, unconfirmed or excluded accounts cannot move it).
    """
    votes = PairVote.objects.filter(counted_votes()) if votes is None else votes
    row = votes.filter(shown_first__isnull=False).aggregate(
        total=Count("pk"), first=Count("pk", filter=Q(winner=F("shown_first")))
    )
    total, first = row["total"] or 0, row["first"] or 0
    share, interval = intervals.position_bias(first, total)
    return first, total, share, interval
