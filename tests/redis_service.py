"""The Redis server tests use: 127.0.0.1:6379 (database 15), when one is listening."""

from __future__ import annotations

import socket

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True
