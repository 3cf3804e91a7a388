"""Ingest's pages are never cached (declared for the page cache's registry test).

The submission form carries a CSRF token; moderation and the run records are editors'.
A published tool reaches the pages through the catalog's own writes.
"""

from __future__ import annotations

from toolverdict.pagecache.registry import register_uncached, settings_not_rendering

for name, reason in {
    "ingest:submit": "a form with the reader's CSRF token",
    "ingest:submit_thanks": "shown once, after one maker's submission",
    "ingest:moderation": "editors only",
    "ingest:moderate": "editors only: answers POST",
    "ingest:runs": "editors only",
    "ingest:run": "editors only",
}.items():
    register_uncached(name, reason)

settings_not_rendering(
    "TOOLVERDICT_SUBMISSIONS_PER_HOUR", reason="a rate limit: refuses requests, shows nothing"
)
