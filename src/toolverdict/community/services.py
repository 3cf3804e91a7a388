"""Community read side used by pages: the Community % figure per tool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from toolverdict.catalog.models import Tool


@dataclass
class CommunityFigure:
    ship: int = 0
    votes: int = 0

    @property
    def pct(self) -> int | None:
        return round(100 * self.ship / self.votes) if self.votes else None


def community_figures(tools: Sequence[Tool]) -> dict[int, CommunityFigure]:
    return {tool.pk: CommunityFigure() for tool in tools}
