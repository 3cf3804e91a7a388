"""Rankings: tools by the Wilson lower bound of their ship votes, and the head-to-head
leaderboard (Bradley–Terry strengths with 95% intervals, "too close to call")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max, Sum

from toolverdict.catalog.models import Category, Tool

from . import bradley_terry, conf, intervals
from .figures import CommunityFigure, community_figures, counted_votes
from .models import PairVote


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
    ci_low: float = 0.0  # 95% interval of the strength, same scale
    ci_high: float = math.inf
    rank_best: int = 1  # the best place the intervals allow (1 = top)
    rank_worst: int = 1
    too_close: bool = False  # its interval overlaps a neighbour's: no call between them

    @property
    def beats_typical_pct(self) -> int:
        """Chance, per the fit, that this tool is preferred to a typical one."""
        return round(100 * bradley_terry.win_probability(self.strength, 1.0))

    @property
    def beats_typical_low_pct(self) -> int:
        return round(100 * bradley_terry.win_probability(self.ci_low, 1.0))

    @property
    def beats_typical_high_pct(self) -> int:
        return round(100 * bradley_terry.win_probability(self.ci_high, 1.0))

    @property
    def interval(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)

    @property
    def rank_label(self) -> str:
        """ "3", or "2–5" when the intervals allow several places."""
        if self.rank_best == self.rank_worst:
            return str(self.rank_best)
        return f"{self.rank_best}–{self.rank_worst}"


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
    rows = [LeaderRow(tools[pk], *figures) for pk, *figures in fit if pk in tools]
    rows.sort(key=lambda r: (-r.strength, -r.votes, r.tool.name))
    for above, below in zip(rows, rows[1:], strict=False):
        if intervals.overlaps(above.interval, below.interval):
            above.too_close = below.too_close = True
    return rows


LEADERBOARD_CACHE_SECONDS = 24 * 3600


LeaderFit = tuple[int, float, int, int, float, float, int, int]


def leaderboard_fit(category: Category | None = None) -> list[LeaderFit]:
    """Per tool: (pk, strength, votes, wins, ci_low, ci_high, rank_best, rank_worst).

    Refitted only when the counted votes change; the intervals (``intervals.py``, method
    TOOLVERDICT_COMMUNITY_INTERVAL_METHOD) are computed with the fit and cached with it.

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
    method, resamples = conf.interval_method(), conf.bootstrap_resamples()
    key = "tv:community:bt:{}:{}:{}:{}:{}:{}:{}".format(
        category.pk if category is not None else "all",
        stamp["n"],
        stamp["ids"],
        stamp["newest"].timestamp(),
        LEADERBOARD_PRIOR,
        method,
        resamples if method == "bootstrap" else 0,
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    triples = list(votes.values_list("tool_a_id", "tool_b_id", "winner_id"))
    if not triples:
        return []
    ids = sorted({pk for a, b, _ in triples for pk in (a, b)})
    index = {pk: i for i, pk in enumerate(ids)}
    winners = np.array([index[w] for _, _, w in triples], dtype=np.int64)
    losers = np.array([index[b if w == a else a] for a, b, w in triples], dtype=np.int64)
    wins = intervals.wins_matrix(winners, losers, len(ids))
    strengths = bradley_terry.fit(wins, prior=LEADERBOARD_PRIOR)
    bounds = intervals.strength_intervals(
        winners,
        losers,
        len(ids),
        prior=LEADERBOARD_PRIOR,
        method=method,
        resamples=resamples,
        theta=np.log(strengths),
    )
    played = wins.sum(axis=1) + wins.sum(axis=0)
    result = [
        (
            pk,
            float(strengths[i]),
            int(played[i]),
            int(wins[i].sum()),
            float(np.exp(bounds.low[i])),
            float(np.exp(bounds.high[i])),
            int(bounds.rank_best[i]),
            int(bounds.rank_worst[i]),
        )
        for pk, i in index.items()
    ]
    cache.set(key, result, LEADERBOARD_CACHE_SECONDS)
    return result
