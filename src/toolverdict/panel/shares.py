"""The panel's ship % and majority: one rule, used by the pages, the history, browse and
the readers-versus-panel comparison.

Only confident verdicts count (``Review.objects.counted()``: published, ship or skip);
"not enough evidence" is shown but never part of the share. Below
``MIN_PUBLISHED_FOR_PCT`` confident reviews there is no percentage and no majority.
"""

from __future__ import annotations

#: Fewer confident published reviews than this give no panel ship percentage anywhere.
MIN_PUBLISHED_FOR_PCT = 3


def ship_pct(ship: int, valid: int) -> int | None:
    """Share of confident reviews saying ship, in percent; None below the minimum."""
    return round(100 * ship / valid) if valid >= MIN_PUBLISHED_FOR_PCT else None


def majority(ship: int, valid: int) -> str | None:
    """ "ship" or "skip" by majority, "split" on a tie, None below the minimum."""
    if valid < MIN_PUBLISHED_FOR_PCT:
        return None
    if 2 * ship == valid:
        return "split"
    return "ship" if 2 * ship > valid else "skip"
