"""The community's figures: which votes count, and what pages show from them.

Pages call ``community_figures`` (one query for any number of tools) and ``pair_split``;
the open-data dump calls ``pair_tallies`` for every pair at once. Every figure counts only
*counted* votes, see ``counted_votes``, and hides its split under ``conf.min_votes()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.utils import timezone

from toolverdict.catalog.models import Tool

from . import conf
from .models import Ballot, PairVote, ToolVote


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


def canonical_tools(x: Tool, y: Tool) -> tuple[Tool, Tool]:
    """The pair in canonical order (slugs sorted), as catalog.services.canonical_pair."""
    return (x, y) if x.slug <= y.slug else (y, x)


@dataclass
class PairTally:
    """Counted head-to-head votes on one pair, in canonical order (``tool_a`` < ``tool_b``
    by slug); the split is hidden under the minimum, as ``PairSplit`` hides it."""

    tool_a_id: int
    tool_b_id: int
    votes: int
    tool_a_votes: int
    minimum: int = field(default_factory=conf.min_votes)

    @property
    def shown(self) -> bool:
        return self.votes > 0 and self.votes >= self.minimum

    @property
    def tool_b_votes(self) -> int:
        return self.votes - self.tool_a_votes


def pair_tallies(tool_ids: Iterable[int]) -> list[PairTally]:
    """Every pair among ``tool_ids`` that has counted votes, in one query."""
    ids = list(tool_ids)
    rows = (
        PairVote.objects.filter(counted_votes(), tool_a_id__in=ids, tool_b_id__in=ids)
        .values("tool_a_id", "tool_b_id")
        .annotate(votes=Count("pk"), a_votes=Count("pk", filter=Q(winner_id=F("tool_a_id"))))
    )
    return [
        PairTally(row["tool_a_id"], row["tool_b_id"], row["votes"], row["a_votes"]) for row in rows
    ]
