"""Periodic jobs of the catalog: source checks and the open-data dump.

State-driven like every periodic job (core/scheduling.py): what is due is read from the
database and the data directory, so a missed or doubled tick is harmless.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from .export import FORMATS, dumps, prune, write_dump
from .sources import claim_due, sync_sources
from .tasks import check_claimed_sources


def check_sources_tick(now: dt.datetime | None = None) -> str:
    """Queue a check of the sources due one (never checked, or not recently)."""
    now = now or timezone.now()
    sync_sources()
    urls = claim_due(now)
    if not urls:
        return "sources: nothing due"
    check_claimed_sources.enqueue(urls)
    return f"sources: checking {len(urls)}"


def export_tick(now: dt.datetime | None = None) -> str:
    """Write a JSON and a CSV dump once the newest is ``TOOLVERDICT_EXPORT_EVERY_HOURS``
    old; keep the newest ``TOOLVERDICT_EXPORT_KEEP`` of each format."""
    from toolverdict.pagecache.versions import invalidate

    now = now or timezone.now()
    directory = settings.TOOLVERDICT_EXPORT_DIR
    every = dt.timedelta(hours=settings.TOOLVERDICT_EXPORT_EVERY_HOURS)
    newest = {fmt: when for fmt, when, _path in reversed(dumps(directory))}
    written = []
    for fmt in FORMATS:
        if fmt in newest and now - newest[fmt] < every:
            continue
        written.append(write_dump(directory, fmt, now).name)
    if not written:
        return "export: nothing due"
    prune(directory, settings.TOOLVERDICT_EXPORT_KEEP)
    invalidate("data")  # the /data/ page links the newest dumps
    return "export: wrote " + ", ".join(written)
