"""The database's clock and its locks: what processes on several machines agree on.

Heartbeats, leases and "is this stale" questions are measured with the database's clock
on PostgreSQL, so machines whose own clocks drift apart never make a live worker look
dead; ``exclusive`` lets one process at a time through a named critical section.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Value
from django.db.models.functions import Now
from django.utils import timezone


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def db_now() -> Any:
    """The database's clock on PostgreSQL (no skew between machines), else this one's."""
    return Now() if _is_postgres() else timezone.now()


def db_before(seconds: float) -> Any:
    """``db_now()`` minus ``seconds``, usable in a filter."""
    if _is_postgres():
        return ExpressionWrapper(
            Now() - Value(timedelta(seconds=seconds)), output_field=DateTimeField()
        )
    return timezone.now() - timedelta(seconds=seconds)


@contextmanager
def exclusive(name: str) -> Iterator[None]:
    """A transaction that one process at a time holds for ``name``.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the site's transactions begin
    IMMEDIATE (settings), which takes the database's write lock at BEGIN.
    """
    with transaction.atomic():
        if _is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
        yield
