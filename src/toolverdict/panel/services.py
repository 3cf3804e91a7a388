"""Panel read side used by pages: per-tool panel summaries and the reviewer scorecard.

Pages call these two functions with the tools they show; each does a fixed number of
queries whatever the number of tools, personas or reviews.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from toolverdict.catalog.models import Tool

DEFAULT_PERSONAS = ("Builder", "Skeptic", "Futurist", "Buyer")


@dataclass
class ReviewCard:
    verdict: str  # "ship" | "skip" | "failed"
    reason: str
    is_local_draft: bool = False


@dataclass
class PanelSummary:
    ship: int = 0
    valid: int = 0
    reviews: dict[str, ReviewCard] = field(default_factory=dict)

    @property
    def ship_pct(self) -> int | None:
        return round(100 * self.ship / self.valid) if self.valid else None


@dataclass
class ScorecardRow:
    persona: str
    cells: list[ReviewCard | None]


def panel_summaries(tools: Sequence[Tool]) -> dict[int, PanelSummary]:
    return {tool.pk: PanelSummary() for tool in tools}


def scorecard_rows(tools: Sequence[Tool], summaries: dict[int, PanelSummary]) -> list[ScorecardRow]:
    return [
        ScorecardRow(persona=name, cells=[summaries[t.pk].reviews.get(name) for t in tools])
        for name in DEFAULT_PERSONAS
    ]
