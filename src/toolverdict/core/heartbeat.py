"""A task worker's heartbeat and the fence that keeps a frozen worker from writing.

Each ``toolverdict worker`` process has a ``WorkerHeartbeat`` row and moves its
``beat_at`` every ``TOOLVERDICT_WORKER_HEARTBEAT`` seconds from a background thread. A
worker whose beat is older than ``TOOLVERDICT_WORKER_STALE_AFTER`` (at least three beats)
is dead: killed, frozen, or cut off from the database (core/recovery.py acts on that).

**The fence: never twice at once.** A worker may only touch the database while its lease
is confirmed: every query of the task's thread first checks that the last beat that
reached the database was sent less than ``STALE_AFTER - HEARTBEAT`` seconds ago (by the
local monotonic clock, measured from *before* the beat was sent), and a worker whose beat
finds its row marked ``lost`` exits at once. Recovery only declares a worker lost once its
last beat is ``STALE_AFTER`` old, so by then the worker has already stopped issuing
queries for a whole beat interval: a frozen worker that wakes up exits instead of writing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, close_old_connections, connection

from .dbclock import db_before, db_now
from .workerconf import Conf, conf

log = logging.getLogger(__name__)

# Exit status of a worker that found itself declared lost, or could not confirm its lease.
EXIT_LOST = 75


class HandedBack(BaseException):  # noqa: N818 - a control-flow signal, like SystemExit
    """Raised in a task's thread once its worker is handing the task back: unwinds it
    (rolling back any open transaction) without recording anything."""


def worker_identity() -> tuple[str, int]:
    """This process's host name and pid, as its heartbeat row records them."""
    return socket.gethostname()[:255], os.getpid()


class Heartbeat:
    """A worker's beat, from a daemon thread, and the fence its task thread checks.

    ``fence`` is a database execute wrapper: installed on the task thread's connection,
    it lets a query through only while the lease is confirmed, and ends the process
    otherwise (the task is then recovered elsewhere). ``die`` is replaceable for tests.
    """

    def __init__(self, worker_id: str, queues: str = "", config: Conf | None = None) -> None:
        self.worker_id = worker_id
        self.queues = queues[:200]
        self.conf = config or conf()
        self.confirmed = time.monotonic()
        self.fenced = False  # set when this worker must not touch the database any more
        self.handing_back = False  # set while a stopping worker hands its task back
        self.stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # The row ----------------------------------------------------------------------------

    def register(self) -> None:
        from .models import WorkerHeartbeat

        host, pid = worker_identity()
        sent = time.monotonic()
        now = db_now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "host": host,
                "pid": pid,
                "queues": self.queues,
                "started_at": now,
                "beat_at": now,
                "stopped_at": None,
                "lost_at": None,
            },
        )
        self.confirmed = sent

    def beat(self) -> bool:
        """Move ``beat_at``; False (and the process ends) when declared lost."""
        from .models import WorkerHeartbeat

        sent = time.monotonic()
        moved = WorkerHeartbeat.objects.filter(
            worker_id=self.worker_id, lost_at__isnull=True, stopped_at__isnull=True
        ).update(beat_at=db_now())
        if not moved:
            if self.stopped.is_set():  # this worker is stopping: its own row says so
                return False
            self.die("declared lost by the recovery step (its beat was stale)")
            return False
        self.confirmed = sent
        return True

    def stop(self) -> None:
        """Mark the row stopped (its remaining tasks are recovered without waiting)."""
        from .models import WorkerHeartbeat

        self.stopped.set()
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(stopped_at=db_now())
        except DatabaseError:
            log.warning("could not mark worker %s stopped", self.worker_id, exc_info=True)

    # The thread -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.conf.heartbeat):
            try:
                close_old_connections()
                self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease decides
                log.warning("worker %s: heartbeat failed", self.worker_id, exc_info=True)
            if self.expired():
                self.die(f"no heartbeat reached the database for {self.conf.lease:.0f} s")
        connection.close()

    # The fence --------------------------------------------------------------------------

    def expired(self) -> bool:
        return time.monotonic() - self.confirmed > self.conf.lease

    def fence(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.handing_back:
            raise HandedBack
        if self.fenced or self.expired():
            self.die("lease not confirmed: refusing to write for a task another may run")
        return execute(sql, params, many, context)

    def die(self, reason: str) -> None:
        self.fenced = True
        log.critical("worker %s exits: %s", self.worker_id, reason)
        logging.shutdown()
        os._exit(EXIT_LOST)


def live_workers() -> list[Any]:
    """Heartbeat rows of the workers alive now that take tasks from the queue (a command
    running one job in the foreground, core/foreground.py, takes none)."""
    from .models import WorkerHeartbeat

    return list(
        WorkerHeartbeat.objects.filter(
            stopped_at__isnull=True,
            lost_at__isnull=True,
            beat_at__gte=db_before(conf().stale_after),
        ).exclude(queues__startswith="foreground:")
    )
