"""What the pages say about how far a figure can be trusted.

* ``ShareInterval``: a ship share with its 95% Wilson interval, for panel and community.
* ``call_between``: "too close to call" when two shares' intervals overlap, else the
  side that is ahead (comparison pages, for the panel and the community).
* ``pair_call``: the same for a pair's head-to-head split (is 50% inside the interval?).
* ``disagreement``/``disagreements``: where the panel's ship share and the community's
  lie apart beyond both intervals (tool, comparison and rankings pages). The community
  never imports the panel (docs/decisions.md, layers): the rankings' list reads the
  panel's shares through ``provide_panel_shares``, which the pages app registers.
* ``vote_rules``: raw and counted ship/skip votes per tool, and the excluded ones by
  reason (the public "How votes count" page and each tool page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from toolverdict.catalog.models import Category, Tool

from . import conf, intervals
from .models import Member, ToolVote

# --- shares -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareInterval:
    """``positive`` of ``total`` with the 95% Wilson interval of the share."""

    positive: int
    total: int
    low: float
    high: float

    @property
    def pct(self) -> int:
        return round(100 * self.positive / self.total)

    @property
    def low_pct(self) -> int:
        return round(100 * self.low)

    @property
    def high_pct(self) -> int:
        return round(100 * self.high)

    @property
    def label(self) -> str:
        """ "40–80%": the 95% interval as a reader sees it."""
        return f"{self.low_pct}–{self.high_pct}%"

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)


def share_interval(positive: int, total: int) -> ShareInterval | None:
    bounds = intervals.wilson_interval(positive, total)
    if bounds is None:
        return None
    return ShareInterval(positive, total, *bounds)


def panel_share(panel) -> ShareInterval | None:
    """The panel's ship share (published reviews only), when the panel shows a %."""
    if panel is None or panel.ship_pct is None:
        return None
    return share_interval(panel.ship, panel.valid)


def community_share(figure) -> ShareInterval | None:
    """The community's ship share (counted votes), when the figure is shown."""
    if figure is None or figure.pct is None:
        return None
    return share_interval(figure.ship, figure.votes)


@dataclass(frozen=True)
class Call:
    """Who is ahead on one figure: ``leader`` is None when it is too close to call."""

    figure: str  # "panel" | "community" | "head-to-head"
    leader: Tool | None
    shown: bool = True  # False: not enough data on one side to compare at all

    @property
    def too_close(self) -> bool:
        return self.shown and self.leader is None


def call_between(
    figure: str,
    left: Tool,
    left_share: ShareInterval | None,
    right: Tool,
    right_share: ShareInterval | None,
) -> Call:
    """Overlapping intervals: too close to call; apart: the higher one leads."""
    if left_share is None or right_share is None:
        return Call(figure, None, shown=False)
    if intervals.overlaps(left_share.bounds, right_share.bounds):
        return Call(figure, None)
    return Call(figure, left if left_share.low > right_share.high else right)


def pair_call(split) -> Call:
    """A head-to-head split is called only when 50% lies outside its Wilson interval."""
    if not split.shown:
        return Call("head-to-head", None, shown=False)
    share = share_interval(split.left_votes, split.total)
    if share.low <= 0.5 <= share.high:
        return Call("head-to-head", None)
    return Call("head-to-head", split.left if share.low > 0.5 else split.right)


# --- panel vs readers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    tool: Tool
    panel: ShareInterval
    community: ShareInterval

    @property
    def panel_higher(self) -> bool:
        return self.panel.low > self.community.high

    @property
    def sentence(self) -> str:
        if self.panel_higher:
            return (
                f"The panel rates {self.tool.name} higher than readers do: "
                f"{self.panel.pct}% of reviewers say ship ({self.panel.label}), "
                f"{self.community.pct}% of readers ({self.community.label})."
            )
        return (
            f"Readers rate {self.tool.name} higher than the panel does: "
            f"{self.community.pct}% of readers say ship ({self.community.label}), "
            f"{self.panel.pct}% of reviewers ({self.panel.label})."
        )


def disagreement(tool: Tool, panel, figure) -> Disagreement | None:
    """The panel and the readers disagree when their 95% intervals do not overlap."""
    p, c = panel_share(panel), community_share(figure)
    if p is None or c is None or intervals.overlaps(p.bounds, c.bounds):
        return None
    return Disagreement(tool, p, c)


#: tools → {tool pk: the panel's ship share}, holding only the tools whose panel shows a
#: percentage (enough confident published reviews), in one query whatever their number.
PanelShares = Callable[[Sequence[Tool]], Mapping[int, ShareInterval]]

_panel_shares: list[PanelShares] = []


def provide_panel_shares(shares: PanelShares) -> None:
    """Where ``disagreements`` reads the panel's ship shares from (one provider; the last
    registered wins). The pages app, which composes the panel and the community,
    registers it when Django starts (pages/apps.py); without one no tool has a panel
    share here and the rankings list no disagreement."""
    _panel_shares[:] = [shares]


def disagreements(category: Category | None = None) -> list[Disagreement]:
    """Every published tool (of one category, or all) where panel and readers disagree.

    Three queries whatever the number of tools: the tools, the panel's shares (from the
    registered provider), the counted votes.
    """
    from .figures import community_figures

    tools = Tool.objects.published().select_related("category").order_by("name")
    if category is not None:
        tools = tools.filter(category=category)
    tools = list(tools)
    panels = _panel_shares[0](tools) if _panel_shares and tools else {}
    figures = community_figures(tools)
    found = []
    for tool in tools:
        p = panels.get(tool.pk)
        if p is None:
            continue
        c = community_share(figures[tool.pk])
        if c is not None and not intervals.overlaps(p.bounds, c.bounds):
            found.append(Disagreement(tool, p, c))
    return found


# --- visible vote rules -------------------------------------------------------------------

#: Why a stored vote does not count, in the order a vote is put in its category: a vote
#: with several reasons is counted once, under the first that applies.
EXCLUSION_REASONS: tuple[tuple[str, str], ...] = (
    ("burst", "part of a vote burst an editor excluded"),
    ("editor", "excluded by an editor"),
    ("inactive", "account closed"),
    ("unconfirmed", "email address not confirmed"),
    ("new_account", "account too new"),
)


def _reason_filters() -> dict[str, Q]:
    cutoff = timezone.now() - conf.new_account_delay()
    excluded = Q(user__member__votes_excluded=True)
    raw = {
        "burst": excluded & Q(user__member__excluded_kind=Member.ExclusionKind.BURST),
        "editor": excluded & ~Q(user__member__excluded_kind=Member.ExclusionKind.BURST),
        "inactive": Q(user__is_active=False),
        "unconfirmed": Q(user__member__email_confirmed_at__isnull=True),
        "new_account": Q(user__date_joined__gt=cutoff),
    }
    filters: dict[str, Q] = {}
    earlier = Q(pk__in=[])  # matches nothing
    for key, _label in EXCLUSION_REASONS:
        filters[key] = raw[key] & ~earlier
        earlier |= raw[key]
    return filters


@dataclass
class VoteRules:
    """One tool's ship/skip votes: all stored, the counted ones, and the rest by reason."""

    raw: int = 0
    counted: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """(reason label, votes) for every reason with at least one vote, in rule order."""
        return [
            (label, self.excluded.get(key, 0))
            for key, label in EXCLUSION_REASONS
            if self.excluded.get(key, 0)
        ]

    @property
    def not_counted(self) -> int:
        return self.raw - self.counted


def vote_rules(tools: Sequence[Tool] | None = None) -> dict[int | None, VoteRules]:
    """Raw, counted and excluded-by-reason ship/skip votes per tool pk, in one query.

    With ``tools`` None, one entry under the key None sums every published tool.
    """
    from .figures import counted_votes

    votes = ToolVote.objects.all()
    if tools is None:
        votes = votes.filter(tool__is_published=True)
    else:
        votes = votes.filter(tool_id__in=[t.pk for t in tools])
    aggregates = {
        "raw": Count("pk"),
        "counted": Count("pk", filter=counted_votes()),
        **{key: Count("pk", filter=q) for key, q in _reason_filters().items()},
    }
    keys = [key for key, _ in EXCLUSION_REASONS]
    if tools is None:
        row = votes.aggregate(**aggregates)
        return {None: VoteRules(row["raw"], row["counted"], {k: row[k] for k in keys})}
    found: dict[int | None, VoteRules] = {t.pk: VoteRules() for t in tools}
    for row in votes.values("tool_id").annotate(**aggregates):
        found[row["tool_id"]] = VoteRules(row["raw"], row["counted"], {k: row[k] for k in keys})
    return found
