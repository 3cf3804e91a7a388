"""Abuse checks for editors: bursts of new accounts voting alike on one target."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from toolverdict.catalog.models import Tool

from . import conf
from .models import VoteEvent


@dataclass
class Burst:
    """Many new accounts casting the same vote on the same target within one window."""

    kind: str
    tool: Tool
    tool_b: Tool | None
    value: str
    start: datetime
    end: datetime
    events: list[VoteEvent]

    @property
    def accounts(self) -> list:
        seen: dict[int, object] = {}
        for event in self.events:
            seen.setdefault(event.user_id, event.user)
        return list(seen.values())

    @property
    def ip_hashes(self) -> int:
        return len({e.ip_hash for e in self.events if e.ip_hash})


def suspicious_bursts(
    *,
    since: timedelta = timedelta(days=7),
    window: timedelta | None = None,
    min_accounts: int | None = None,
    new_account_age: timedelta | None = None,
) -> list[Burst]:
    """Windows where ``min_accounts`` or more distinct new accounts voted alike on one
    target (a tool's ship or skip, or one side of a pair), newest first.

    "New" means the account was at most ``new_account_age`` old when it voted. Votes
    are read from the event log, so a burst stays visible after the votes change.
    """
    window = window or conf.burst_window()
    min_accounts = min_accounts or conf.burst_min_accounts()
    new_account_age = new_account_age or conf.burst_new_account_age()
    events = (
        VoteEvent.objects.filter(created_at__gte=timezone.now() - since, user__isnull=False)
        .select_related("user", "user__member", "tool", "tool_b")
        .order_by("created_at", "pk")
    )
    groups: dict[tuple, list[VoteEvent]] = defaultdict(list)
    for event in events:
        if event.created_at - event.user.date_joined <= new_account_age:
            groups[(event.kind, event.tool_id, event.tool_b_id, event.value)].append(event)
    bursts = [b for group in groups.values() for b in _bursts_in(group, window, min_accounts)]
    bursts.sort(key=lambda b: b.end, reverse=True)
    return bursts


def _bursts_in(events: Iterable[VoteEvent], window: timedelta, min_accounts: int) -> list[Burst]:
    """Sliding window over one target's events; overlapping hot windows merge into one."""
    found: list[Burst] = []
    recent: deque[VoteEvent] = deque()
    per_user: dict[int, int] = defaultdict(int)
    current: Burst | None = None
    in_current: set[int] = set()
    for event in events:
        recent.append(event)
        per_user[event.user_id] += 1
        while recent and event.created_at - recent[0].created_at > window:
            old = recent.popleft()
            per_user[old.user_id] -= 1
            if per_user[old.user_id] == 0:
                del per_user[old.user_id]
        if len(per_user) < min_accounts:
            current = None
            continue
        if current is None:
            current = Burst(
                event.kind, event.tool, event.tool_b, event.value,
                recent[0].created_at, event.created_at, [],
            )  # fmt: skip
            in_current = set()
            found.append(current)
        current.end = event.created_at
        for e in recent:
            if e.pk not in in_current:
                in_current.add(e.pk)
                current.events.append(e)
    return found
