"""Fixed-window rate limits on Django's cache framework.

Counters live in the default cache. The default local-memory cache is per process, so a
deployment running several web processes must point ``CACHE_URL`` at a shared cache
(Redis, Memcached or the database cache) for a limit to hold across processes.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from . import conf


def allow(name: str, ident: str) -> bool:
    """Count one action for ``ident`` under limit ``name``; False once over the limit."""
    limit, window = conf.rate_limit(name)
    slot = int(time.time() // window)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
    key = f"tv:rl:{name}:{digest}:{slot}"
    # add() is a no-op when the key exists, so concurrent first hits do not reset it;
    # incr() is atomic in every cache backend Django ships.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add() and incr()
        cache.add(key, 1, timeout=window + 1)
        count = 1
    return count <= limit
