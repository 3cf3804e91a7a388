"""Open data's settings that change the /data/ page (found by the page cache).

The page itself is declared next to its view; a new dump bumps ``data`` (the export).
"""

from __future__ import annotations

from toolverdict.pagecache.registry import rendering_settings, settings_not_rendering

# The page states the dumps' licence and links it.
rendering_settings("TOOLVERDICT_EXPORT_LICENSE", "TOOLVERDICT_EXPORT_LICENSE_URL")
settings_not_rendering(
    "TOOLVERDICT_EXPORT_DIR",
    reason="where this machine keeps the dumps; a new dump bumps the 'data' scope",
)
