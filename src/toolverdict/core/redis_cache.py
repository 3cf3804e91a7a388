"""Django's Redis cache backend, with one Redis client per server kept for the process.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache
operation; each one copies redis-py's table of response callbacks (about 170 entries).
That cost about 220 µs of CPU per call here, more than the round trip to Redis and as much
as a whole minimal request, and the page cache makes one such call on every page view
(the scope versions). A ``redis.Redis`` is safe to share between threads (it takes a
connection from its pool per command) and its pool reconnects after a fork, so one per
server is kept instead. ``settings.py`` swaps this class in for Django's when CACHE_URL
names Redis; nothing else changes.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # kept per server by Django
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads racing here build one each; the first one stored is kept.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
