"""The periodic job: write the open-data dumps once the newest is old enough.

State-driven like every periodic job (core/scheduling.py): due-ness is read from the dump
directories themselves, so a missed or doubled tick is harmless.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from toolverdict.core.scheduling import periodic_job
from toolverdict.pagecache.versions import invalidate

from .export import FORMATS, dumps, prune, write_dump


@periodic_job
def tick(now: dt.datetime | None = None) -> str:
    """Write a JSON and a CSV dump once the newest is ``TOOLVERDICT_EXPORT_EVERY_HOURS``
    old; keep the newest ``TOOLVERDICT_EXPORT_KEEP`` of each format."""
    now = now or timezone.now()
    directory = settings.TOOLVERDICT_EXPORT_DIR
    every = dt.timedelta(hours=settings.TOOLVERDICT_EXPORT_EVERY_HOURS)
    newest: dict[str, dt.datetime] = {}
    for fmt, when, _path in dumps(directory):  # newest first
        newest.setdefault(fmt, when)
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
