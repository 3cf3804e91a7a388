"""The panel's registrations with the page cache (found by its autodiscovery).

A review landing or changing retires the pages showing the tool, its category and the
lists of reviews; ``panel/history.py`` bumps ``reviews`` itself for a new snapshot.
"""

from __future__ import annotations

from toolverdict.pagecache.registry import rendering_settings, settings_not_rendering, watch
from toolverdict.pagecache.versions import invalidate

from .models import Review


def _review(instance: Review) -> None:
    invalidate("reviews", tools=[instance.tool_id])


watch(Review, change=_review)
# The home page's panel progress names the tools reviewed first.
rendering_settings("TOOLVERDICT_PANEL_FIRST")
settings_not_rendering(
    "TOOLVERDICT_PANEL_JUDGE",
    reason="who judges a review when it is written; the page shows the stored review",
)
settings_not_rendering(
    "TOOLVERDICT_PERSONAS_DIR",
    reason="a path on this machine; a persona file's text is not in the page key either "
    "(change TOOLVERDICT_PAGE_CACHE_SALT after editing one)",
)
settings_not_rendering(
    "TOOLVERDICT_WORKER_HEARTBEAT",
    "TOOLVERDICT_WORKER_STALE_AFTER",
    reason="how a worker is judged alive; the home page's progress line says whether one is, "
    "not these values",
)
