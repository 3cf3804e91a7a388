"""Work that a dead process left behind is found from the database state and run again.

Three parts (docs/operations.md, "When a process dies", has the operator's view):

- **Heartbeats.** Each ``toolverdict worker`` process has a ``WorkerHeartbeat`` row and
  moves its ``beat_at`` every ``TOOLVERDICT_WORKER_HEARTBEAT`` seconds from a background
  thread. A worker whose beat is older than ``TOOLVERDICT_WORKER_STALE_AFTER`` (at least
  three beats) is dead: killed, frozen, or cut off from the database.
- **Recovery** (:func:`recover_lost_tasks`, run by the periodic job :func:`tick` and when a
  worker starts). In one transaction, under a lock that lets one recoverer in at a time,
  it marks the stale workers ``lost`` and puts each ``RUNNING`` task of a lost or stopped
  worker back to ``READY`` in place (same task id), or fails it once its workers died
  ``TOOLVERDICT_TASK_MAX_ATTEMPTS`` times (a task that kills its worker must not kill
  workers forever). A task's own state elsewhere (the day's ingest run) is released in
  the same transaction by the hook its module registered with :func:`on_release`.
- **The fence: never twice at once.** A worker may only touch the database while its
  lease is confirmed: every query of the task's thread first checks that the last beat
  that reached the database was sent less than ``STALE_AFTER - HEARTBEAT`` seconds ago
  (by the local monotonic clock, measured from *before* the beat was sent), and a worker
  whose beat finds its row marked ``lost`` exits at once. Recovery only declares a worker
  lost once its last beat is ``STALE_AFTER`` old, so by then the worker has already
  stopped issuing queries for a whole beat interval: a frozen worker that wakes up
  exits instead of writing. What a stray write could still be (a commit in flight at
  that instant) is harmless by construction: reviews are keyed by their inputs under a
  unique constraint and written in one transaction, a digest message is claimed by a
  conditional UPDATE before it is sent, and the ingest stages are idempotent. A worker
  also only records a task's result while the task row still names it as the worker
  running it (``toolverdict.core.management.commands.worker``).

Tasks claimed by a plain ``db_worker`` (no heartbeat row) are treated as lost once they
have been running ``TOOLVERDICT_TASK_ORPHAN_AFTER`` seconds, a long bound, as nothing
tells whether their worker lives: run ``toolverdict worker``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q, Value
from django.db.models.functions import Now
from django.utils import timezone

log = logging.getLogger(__name__)

# Exit status of a worker that found itself declared lost, or could not confirm its lease.
EXIT_LOST = 75


class WorkerLost(RuntimeError):
    """Recorded as the error of a task whose workers died too often while running it."""


WORKER_LOST = f"{__name__}.WorkerLost"
# A task given up because its workers kept dying is not queued again by the periodic job
# for this long (it may be what kills them).
GIVEN_UP_HOLD = 24 * 3600


class HandedBack(BaseException):  # noqa: N818 - a control-flow signal, like SystemExit
    """Raised in a task's thread once its worker is handing the task back: unwinds it
    (rolling back any open transaction) without recording anything."""


# --- settings ---------------------------------------------------------------------------


def _setting(name: str, default: float) -> float:
    """A number from settings, else from the environment, else the default."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or None
    return float(value) if value is not None else float(default)


@dataclass(frozen=True)
class Conf:
    heartbeat: float  # seconds between beats
    stale_after: float  # a beat this old means the worker is dead
    max_attempts: int  # runs of one task whose worker died, before it is failed
    orphan_after: float  # tasks of workers without heartbeats: lost after this long
    retry_after: float  # the periodic job leaves a tool reviewed this recently alone

    @property
    def lease(self) -> float:
        """How long a worker trusts its last confirmed beat (one beat short of stale)."""
        return self.stale_after - self.heartbeat


def conf() -> Conf:
    heartbeat = max(0.05, _setting("TOOLVERDICT_WORKER_HEARTBEAT", 10))
    # At least three beats: a slow beat or two must never make a live worker look dead.
    stale = max(_setting("TOOLVERDICT_WORKER_STALE_AFTER", 60), 3 * heartbeat)
    return Conf(
        heartbeat=heartbeat,
        stale_after=stale,
        max_attempts=max(1, int(_setting("TOOLVERDICT_TASK_MAX_ATTEMPTS", 3))),
        orphan_after=max(stale, _setting("TOOLVERDICT_TASK_ORPHAN_AFTER", 3 * 3600)),
        retry_after=max(0.0, _setting("TOOLVERDICT_PANEL_RETRY_AFTER", 900)),
    )


# --- time and locks ---------------------------------------------------------------------


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


# --- heartbeats -------------------------------------------------------------------------


def worker_identity() -> tuple[str, int]:
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


# --- recovery ---------------------------------------------------------------------------

ReleaseHook = Callable[[list, dict, bool], None]
_release_hooks: dict[str, ReleaseHook] = {}
# The task this process is running now (a worker runs one at a time), for task_alive().
current_task_id: str | None = None


def on_release(task: Any) -> Callable[[ReleaseHook], ReleaseHook]:
    """Register ``hook(args, kwargs, final)`` to release a task's own state.

    Called inside the transaction that puts the task back in the queue (``final`` False)
    or fails it for good (``final`` True), after its worker died or was stopped with the
    task unfinished.
    """

    def register(hook: ReleaseHook) -> ReleaseHook:
        _release_hooks[task.module_path] = hook
        return hook

    return register


@dataclass
class Recovered:
    lost_workers: int = 0
    requeued: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.lost_workers} lost worker(s), {self.requeued} task(s) requeued, "
            f"{self.failed} failed"
        )


def _last_worker(row: Any) -> str:
    ids = row.worker_ids or []
    return str(ids[-1]) if ids else ""


def _run_hook(row: Any, final: bool) -> None:
    from django.utils.module_loading import import_string

    try:
        import_string(row.task_path)  # registers the module's hooks
    except ImportError:
        return
    hook = _release_hooks.get(row.task_path)
    if hook is None:
        return
    args = row.args_kwargs or {}
    try:
        with transaction.atomic():
            hook(list(args.get("args") or []), dict(args.get("kwargs") or {}), final)
    except Exception:  # noqa: BLE001 - the task is requeued whatever its hook did
        log.exception("release hook for %s failed", row.task_path)


def _put_back(row: Any, worker_id: str, action: str) -> bool:
    """READY again, or FAILED after too many lost runs; True if requeued. In a transaction."""
    from django_tasks.base import TaskResultStatus

    from .models import TaskRecovery

    final = False
    if action == TaskRecovery.Action.REQUEUED:
        losses = TaskRecovery.objects.filter(
            task_id=row.pk,
            action__in=[TaskRecovery.Action.REQUEUED, TaskRecovery.Action.FAILED],
        ).count()
        final = losses + 1 >= conf().max_attempts
    if final:
        action = TaskRecovery.Action.FAILED
        row.status = TaskResultStatus.FAILED
        row.finished_at = timezone.now()
        row.exception_class_path = WORKER_LOST
        row.traceback = (
            f"WorkerLost: the worker running this task died {conf().max_attempts} times "
            "(killed, out of memory, or cut off from the database); given up. The recovery "
            "job queues the work again after a day at the earliest.\n"
        )
        row.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
    else:
        row.status = TaskResultStatus.READY
        row.save(update_fields=["status"])
    TaskRecovery.objects.create(
        task_id=row.pk, task_path=row.task_path, worker_id=worker_id, action=action
    )
    _run_hook(row, final)
    log.warning("task %s (%s) of worker %s %s", row.pk, row.task_path, worker_id or "?", action)
    return not final


def recover_lost_tasks() -> Recovered:
    """Requeue (or fail) every RUNNING task whose worker is dead. Safe to run anywhere,
    any number of times at once: one recoverer at a time holds the lock, and each
    re-reads the state under it."""
    from django.apps import apps

    recovered = Recovered()
    if not apps.is_installed("django_tasks_db"):
        return recovered
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .models import TaskRecovery, WorkerHeartbeat

    c = conf()
    with exclusive("toolverdict.recovery"):
        stale = WorkerHeartbeat.objects.select_for_update().filter(
            stopped_at__isnull=True, lost_at__isnull=True, beat_at__lt=db_before(c.stale_after)
        )
        lost = list(stale.values_list("worker_id", flat=True))
        if lost:
            WorkerHeartbeat.objects.filter(worker_id__in=lost).update(lost_at=db_now())
            log.warning("workers declared lost (no heartbeat for %.0f s): %s", c.stale_after, lost)
        recovered.lost_workers = len(lost)
        running = list(
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(status=TaskResultStatus.RUNNING)
            .order_by("started_at")
        )
        if not running:
            return recovered
        workers = {_last_worker(row) for row in running}
        dead = set(
            WorkerHeartbeat.objects.filter(worker_id__in=workers)
            .filter(Q(stopped_at__isnull=False) | Q(lost_at__isnull=False))
            .values_list("worker_id", flat=True)
        )
        known = set(
            WorkerHeartbeat.objects.filter(worker_id__in=workers).values_list(
                "worker_id", flat=True
            )
        )
        orphaned_before = timezone.now() - timedelta(seconds=c.orphan_after)
        for row in running:
            worker_id = _last_worker(row)
            if worker_id in known:
                gone = worker_id in dead
            else:  # a plain db_worker's task, or one claimed before this existed
                gone = row.started_at is None or row.started_at < orphaned_before
            if not gone:
                continue
            if _put_back(row, worker_id, TaskRecovery.Action.REQUEUED):
                recovered.requeued += 1
            else:
                recovered.failed += 1
    return recovered


def release_task(task_id: Any, worker_id: str) -> bool:
    """A stopping worker hands its unfinished task back (only while the task is still its)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .models import TaskRecovery

    with transaction.atomic():
        row = (
            DBTaskResult.objects.select_for_update()
            .filter(pk=task_id, status=TaskResultStatus.RUNNING)
            .first()
        )
        if row is None or _last_worker(row) != worker_id:
            return False
        _put_back(row, worker_id, TaskRecovery.Action.RELEASED)
    return True


def task_alive(task: Any, *args: Any) -> bool:
    """True while another process runs ``task(*args)`` on a live worker (or, for a task
    without a heartbeat, while it is younger than ``TOOLVERDICT_TASK_ORPHAN_AFTER``)."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .models import WorkerHeartbeat

    c = conf()
    rows = DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.RUNNING)
    if current_task_id:
        rows = rows.exclude(pk=current_task_id)
    wanted = list(args)
    matching = [r for r in rows if list((r.args_kwargs or {}).get("args") or []) == wanted]
    if not matching:
        return False
    workers = {_last_worker(r) for r in matching}
    beats = WorkerHeartbeat.objects.filter(worker_id__in=workers)
    known = set(beats.values_list("worker_id", flat=True))
    live = set(
        beats.filter(
            stopped_at__isnull=True, lost_at__isnull=True, beat_at__gte=db_before(c.stale_after)
        ).values_list("worker_id", flat=True)
    )
    orphaned_before = timezone.now() - timedelta(seconds=c.orphan_after)
    for row in matching:
        worker_id = _last_worker(row)
        if worker_id in live:
            return True
        if worker_id not in known and row.started_at and row.started_at >= orphaned_before:
            return True
    return False


def live_workers() -> list[Any]:
    """Heartbeat rows of the workers alive now."""
    from .models import WorkerHeartbeat

    return list(
        WorkerHeartbeat.objects.filter(
            stopped_at__isnull=True,
            lost_at__isnull=True,
            beat_at__gte=db_before(conf().stale_after),
        )
    )


def prune(days: int = 7) -> int:
    """Forget heartbeat rows of workers stopped or lost more than ``days`` ago."""
    from .models import WorkerHeartbeat

    before = timezone.now() - timedelta(days=days)
    deleted, _ = WorkerHeartbeat.objects.filter(
        Q(stopped_at__lt=before) | Q(lost_at__lt=before)
    ).delete()
    return deleted


# --- the periodic job -------------------------------------------------------------------

# Complete panels checked for outdated inputs per run: a large catalog is covered over
# several minutes instead of building every dossier every minute.
OUTDATED_BATCH = 500


def recover(*, retry_after: float | None = None) -> str:
    """Recover lost tasks, then queue every tool whose current reviews are missing,
    failed or outdated and that has no live task. Returns a line for the logs."""
    recovered = recover_lost_tasks()
    parts = [str(recovered)]
    try:
        from toolverdict.panel.tasks import queue_backlog

        backlog = queue_backlog(
            outdated=True,
            retry_after=conf().retry_after if retry_after is None else retry_after,
            outdated_batch=OUTDATED_BATCH,
        )
        parts.append(f"{backlog.queued} tool(s) queued for the panel")
    except Exception:  # noqa: BLE001 - recovery of tasks stands on its own
        log.exception("could not queue the panel's backlog")
        parts.append("panel backlog: error")
    prune()
    return "recovery: " + "; ".join(parts)


def tick() -> str:
    """The periodic job (``TOOLVERDICT_PERIODIC_JOBS``)."""
    return recover()
