"""Where stored pages live: the ``pages`` cache alias, with this process's front copies.

A stored page (``Entry``) is keyed by a hash naming the versions of everything it shows
(middleware.page_state), so no entry is ever stale: a write gives the page a new key.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed

from . import versions

PAGE_PREFIX = "tv:page:"


def timeout() -> int:
    """Seconds a stored page lives at most; 0: until its scopes change."""
    return int(settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT)


@dataclass
class Entry:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    gzipped: bytes | None = None
    # "recorded": the personal parts the render recorded (registry.record); "parts":
    # where they are in the body (personal.personal_parts), found once when stored.
    extra: dict = field(default_factory=dict)


class _FrontCopies:
    """The most recently served stored pages of this process, in front of a shared cache.

    A key names the versions of everything the page shows, so a copy can never be stale:
    a write gives the page a new key. Keeping one here saves a shared cache round trip per
    hit (the version lookup is still made every time). Bounded by entry count.
    """

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            expires, entry = found
            if expires < time.monotonic():
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry, seconds: int) -> None:
        size = int(settings.TOOLVERDICT_PAGE_CACHE_FRONT_ENTRIES)
        if size <= 0:
            return
        with self.lock:
            self.entries[key] = (time.monotonic() + seconds, entry)
            self.entries.move_to_end(key)
            while len(self.entries) > size:
                self.entries.popitem(last=False)

    def clear(self, **kwargs: object) -> None:
        with self.lock:
            self.entries.clear()


front = _FrontCopies()
setting_changed.connect(front.clear)


def stored_page(key: str) -> Entry | None:
    """The stored page under ``key``: this process's copy, else the cache's."""
    shared = not versions.per_process_cache()
    if shared:
        entry = front.get(key)
        if entry is not None:
            return entry
    entry = caches[versions.ALIAS].get(key)
    if entry is not None and shared:
        front.put(key, entry, timeout() or 86400)
    return entry


def store_page(key: str, entry: Entry) -> None:
    seconds = timeout() or 86400  # unvisited pages leave in a day at most
    caches[versions.ALIAS].set(key, entry, seconds)
    if not versions.per_process_cache():
        front.put(key, entry, seconds)
