"""Community services: casting votes, the figures pages show, rankings and abuse checks.

Pages call ``community_figures`` (one query for any number of tools); views call the
``cast_*`` functions, which write the current vote and its audit event in one
transaction. Every figure counts only *counted* votes, see ``counted_votes``.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from toolverdict.catalog.models import Category, Tool
from toolverdict.core.net import client_hash
from toolverdict.pagecache.versions import invalidate

from . import bradley_terry, conf
from .models import Ballot, Member, PairVote, ToolVote, VoteEvent


class InvalidVote(ValueError):
    """The vote names a value or tool that cannot be voted on here."""


# --- figures --------------------------------------------------------------------------


@dataclass
class CommunityFigure:
    """Counted ship/skip votes on one tool; ``pct`` is None under the minimum."""

    ship: int = 0
    votes: int = 0
    minimum: int = field(default_factory=conf.min_votes)

    @property
    def skip(self) -> int:
        return self.votes - self.ship

    @property
    def pct(self) -> int | None:
        if self.votes == 0 or self.votes < self.minimum:
            return None
        return round(100 * self.ship / self.votes)

    @property
    def wilson(self) -> float:
        return wilson_lower_bound(self.ship, self.votes)


def counted_votes(prefix: str = "") -> Q:
    """Which votes count in figures: the voter confirmed their email, is not excluded by
    an editor, and the account is older than TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS.

    Votes outside this rule are still stored (and change nothing once they start to
    count), so the rule can be tightened or loosened without losing anything.
    """
    cutoff = timezone.now() - conf.new_account_delay()
    return Q(
        **{
            f"{prefix}user__is_active": True,
            f"{prefix}user__date_joined__lte": cutoff,
            f"{prefix}user__member__email_confirmed_at__isnull": False,
            f"{prefix}user__member__votes_excluded": False,
        }
    )


def community_figures(tools: Sequence[Tool]) -> dict[int, CommunityFigure]:
    """The Community figure of each tool, keyed by tool pk, in one query."""
    figures = {tool.pk: CommunityFigure() for tool in tools}
    if not figures:
        return figures
    rows = (
        ToolVote.objects.filter(counted_votes(), tool_id__in=list(figures))
        .values("tool_id")
        .annotate(votes=Count("pk"), ship=Count("pk", filter=Q(value=Ballot.SHIP)))
    )
    for row in rows:
        figures[row["tool_id"]] = CommunityFigure(ship=row["ship"], votes=row["votes"])
    return figures


def wilson_lower_bound(positive: int, total: int, z: float = 1.96) -> float:
    """Lower end of the Wilson score interval (95% by default) for positive/total.

    Ranking by it instead of the raw share keeps 2 of 2 votes below 90 of 100.
    """
    if total <= 0:
        return 0.0
    phat = positive / total
    z2 = z * z
    centre = phat + z2 / (2 * total)
    margin = z * math.sqrt((phat * (1 - phat) + z2 / (4 * total)) / total)
    return (centre - margin) / (1 + z2 / total)


@dataclass
class PairSplit:
    left: Tool
    right: Tool
    left_votes: int
    right_votes: int
    minimum: int = field(default_factory=conf.min_votes)

    @property
    def total(self) -> int:
        return self.left_votes + self.right_votes

    @property
    def shown(self) -> bool:
        return self.total > 0 and self.total >= self.minimum

    @property
    def left_pct(self) -> int | None:
        return round(100 * self.left_votes / self.total) if self.shown else None

    @property
    def right_pct(self) -> int | None:
        return 100 - self.left_pct if self.left_pct is not None else None


def pair_split(left: Tool, right: Tool) -> PairSplit:
    """Counted head-to-head votes for a pair (either order), in one query."""
    a, b = canonical_tools(left, right)
    row = PairVote.objects.filter(counted_votes(), tool_a=a, tool_b=b).aggregate(
        a_votes=Count("pk", filter=Q(winner=a)), b_votes=Count("pk", filter=Q(winner=b))
    )
    by_tool = {a.pk: row["a_votes"] or 0, b.pk: row["b_votes"] or 0}
    return PairSplit(left, right, by_tool[left.pk], by_tool[right.pk])


# --- casting votes --------------------------------------------------------------------


# Vote events keep the first 16 hex characters of the client hash: enough to tell the
# addresses in a burst apart, and what the column has always held.
IP_HASH_LENGTH = 16


def canonical_tools(x: Tool, y: Tool) -> tuple[Tool, Tool]:
    """The pair in canonical order (slugs sorted), as catalog.services.canonical_pair."""
    return (x, y) if x.slug <= y.slug else (y, x)


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
    user: AbstractBaseUser, left: Tool, right: Tool, winner: Tool, *, ip: str = ""
) -> PairVote:
    """Set the account's head-to-head choice for the pair and log it; race-safe."""
    if left.pk == right.pk:
        raise InvalidVote("a head-to-head vote needs two different tools")
    if winner.pk not in (left.pk, right.pk):
        raise InvalidVote("the winner must be one of the pair")
    if not (left.is_published and right.is_published):
        raise InvalidVote("both tools must be published")
    a, b = canonical_tools(left, right)
    now = timezone.now()
    vote = PairVote(user=user, tool_a=a, tool_b=b, winner=winner, created_at=now, updated_at=now)
    with transaction.atomic():
        PairVote.objects.bulk_create(
            [vote],
            update_conflicts=True,
            unique_fields=["user", "tool_a", "tool_b"],
            update_fields=["winner", "updated_at"],
        )
        VoteEvent.objects.create(
            kind=VoteEvent.Kind.PAIR,
            user=user,
            tool=a,
            tool_b=b,
            value=winner.slug,
            ip_hash=client_hash(ip, length=IP_HASH_LENGTH),
            created_at=now,
        )
        invalidate("votes", f"pair:{a.slug}:{b.slug}", categories_of=[a.pk, b.pk])
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


# --- the account's own votes ----------------------------------------------------------


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


# --- rankings -------------------------------------------------------------------------


@dataclass
class RankRow:
    tool: Tool
    figure: CommunityFigure

    @property
    def wilson_pct(self) -> int:
        return round(100 * self.figure.wilson)


@dataclass
class Rankings:
    ranked: list[RankRow]  # at or above the minimum, by Wilson lower bound
    unranked: list[RankRow]  # below the minimum, by votes then name


def rankings(category: Category | None = None) -> Rankings:
    """Published tools (of one category, or all) ranked by the Wilson lower bound."""
    tools = Tool.objects.published().select_related("category").order_by("name")
    if category is not None:
        tools = tools.filter(category=category)
    tools = list(tools)
    figures = community_figures(tools)
    rows = [RankRow(tool, figures[tool.pk]) for tool in tools]
    ranked = [r for r in rows if r.figure.pct is not None]
    ranked.sort(key=lambda r: (-r.figure.wilson, -r.figure.votes, r.tool.name))
    unranked = [r for r in rows if r.figure.pct is None]
    unranked.sort(key=lambda r: (-r.figure.votes, r.tool.name))
    return Rankings(ranked, unranked)


@dataclass
class LeaderRow:
    tool: Tool
    strength: float  # geometric mean of all places = 1
    votes: int  # counted head-to-head votes this tool took part in
    wins: int

    @property
    def beats_typical_pct(self) -> int:
        """Chance, per the fit, that this tool is preferred to a typical one."""
        return round(100 * bradley_terry.win_probability(self.strength, 1.0))


# One virtual game won and one lost against a typical tool: sparse votes cannot send a
# strength to 0 or infinity, and a single vote moves a place only a little.
LEADERBOARD_PRIOR = 2.0


def head_to_head_leaderboard(category: Category | None = None) -> list[LeaderRow]:
    """Bradley–Terry places from counted pair votes between published tools.

    Per category only votes where both tools belong to it count; overall, all do. The fit
    is cached (see ``leaderboard_fit``); tools are read fresh, so a rename shows at once.
    """
    fit = leaderboard_fit(category)
    if not fit:
        return []
    tools = Tool.objects.in_bulk([pk for pk, *_ in fit])
    rows = [
        LeaderRow(tools[pk], strength, played, won)
        for pk, strength, played, won in fit
        if pk in tools
    ]
    rows.sort(key=lambda r: (-r.strength, -r.votes, r.tool.name))
    return rows


LEADERBOARD_CACHE_SECONDS = 24 * 3600


def leaderboard_fit(category: Category | None = None) -> list[tuple[int, float, int, int]]:
    """(tool pk, strength, votes, wins) per tool, refitted only when the counted votes change.

    The fit iterates until it converges, too slow to repeat on every page view. The cache
    key holds a fingerprint of exactly the votes the fit reads (count, sum of ids, newest
    change), taken in one aggregate query: a new vote, a changed vote, a vote that starts
    or stops counting, or a tool hidden or published each change it (two sets of votes
    with the same count, id sum and newest change would need several swaps at once), and
    the entry expires after a day regardless.
    """
    votes = PairVote.objects.filter(
        counted_votes(), tool_a__is_published=True, tool_b__is_published=True
    )
    if category is not None:
        votes = votes.filter(tool_a__category=category, tool_b__category=category)
    stamp = votes.aggregate(n=Count("id"), ids=Sum("id"), newest=Max("updated_at"))
    if not stamp["n"]:
        return []
    key = "tv:community:bt:{}:{}:{}:{}:{}".format(
        category.pk if category is not None else "all",
        stamp["n"],
        stamp["ids"],
        stamp["newest"].timestamp(),
        LEADERBOARD_PRIOR,
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    triples = list(votes.values_list("tool_a_id", "tool_b_id", "winner_id"))
    if not triples:
        return []
    ids = sorted({pk for a, b, _ in triples for pk in (a, b)})
    index = {pk: i for i, pk in enumerate(ids)}
    wins = np.zeros((len(ids), len(ids)))
    for a, b, winner in triples:
        loser = b if winner == a else a
        wins[index[winner], index[loser]] += 1
    strengths = bradley_terry.fit(wins, prior=LEADERBOARD_PRIOR)
    played = wins.sum(axis=1) + wins.sum(axis=0)
    result = [
        (pk, float(strengths[i]), int(played[i]), int(wins[i].sum())) for pk, i in index.items()
    ]
    cache.set(key, result, LEADERBOARD_CACHE_SECONDS)
    return result


# --- abuse ----------------------------------------------------------------------------


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
