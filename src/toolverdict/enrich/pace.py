"""One request at a time per host, paced, across every process that enriches.

A ``Fetcher`` (fetch.py) used to remember each host's last request in its own memory, so
two workers enriching tools of one vendor could each ask that vendor's site at full pace.
The pace now lives in the database (``HostSlot``, one row per origin): before a request, a
process *reserves* the host's next slot in a short transaction that one process at a time
holds for that host (``core.dbclock.exclusive``: an advisory lock on PostgreSQL, the write
lock on SQLite), moves the row on by the delay, and then sleeps until its slot outside any
transaction. Slots are read on the database's clock on PostgreSQL, so machines whose clocks
drift still keep the pace.

Requests to one host start at least ``delay`` seconds apart, whichever process makes them.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from toolverdict.core.dbclock import exclusive

from .models import HostSlot


def _now() -> dt.datetime:
    """The database's clock on PostgreSQL, this machine's on SQLite (one machine)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")  # now() is the transaction's start
            return cursor.fetchone()[0]
    return timezone.now()


def reserve(origin: str, delay: float) -> float:
    """Reserve ``origin``'s next request slot; the seconds to wait before making it.

    The slot is the later of now and the end of the last reservation; the host's row then
    moves on to ``slot + delay``. A ``delay`` of zero (tests, benchmarks) touches nothing.
    """
    if delay <= 0:
        return 0.0
    origin = origin[:300]
    for _attempt in range(3):
        try:
            with exclusive(f"enrich-host:{origin}"):
                now = _now()
                row = HostSlot.objects.filter(origin=origin).first()
                slot = max(now, row.next_at) if row else now
                next_at = slot + dt.timedelta(seconds=delay)
                if row:
                    HostSlot.objects.filter(pk=row.pk).update(next_at=next_at)
                else:
                    with transaction.atomic():  # a savepoint: a racing insert is retried
                        HostSlot.objects.create(origin=origin, next_at=next_at)
                return max(0.0, (slot - now).total_seconds())
        except IntegrityError:
            continue  # another process created the row first: read it again
    return delay
