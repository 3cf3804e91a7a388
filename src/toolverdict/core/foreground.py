"""Run a long job in the foreground, from a command, as a one-task worker.

A command that runs a long job itself (``toolverdict ingest``, ``toolverdict digest send``)
must be as visible to everyone else as a worker running it: ``task_alive`` must see it, a
crash must be noticed after ``TOOLVERDICT_WORKER_STALE_AFTER`` and the job's own state
released by its ``on_release`` hook, and the fence must stop it if it freezes. So it runs
the job's task exactly as ``toolverdict worker`` does: a heartbeat row of its own, the task
queued and claimed in one transaction (no worker can take it in between), the fence on
every query, the outcome recorded in the task row. Ctrl-C hands the task back to the queue
(its own state released), where a worker or the next run of the command resumes it.

Without the database task backend there is no queue or heartbeat to register with, and
the task is simply called.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections

from . import recovery
from .heartbeat import worker_identity
from .workerconf import conf

log = logging.getLogger(__name__)

# Heartbeat rows of foreground runs say so in their queues column (live_workers() leaves
# them out: they take no task from the queue).
FOREGROUND = "foreground:"
# Exit status of a command whose task was handed back to the queue on Ctrl-C.
EXIT_HANDED_BACK = 130


def uses_database_queue(task: Any) -> bool:
    """True when ``task`` is queued in the database (django-tasks-db's backend)."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def run_in_foreground(
    task: Any, *args: Any, on_wait: Callable[[], None] | None = None, **kwargs: Any
) -> Any:
    """Run ``task(*args, **kwargs)`` in this process as a one-task worker; return its value
    or raise its exception.

    While another live process runs ``task(*args)``, wait for it (``on_wait`` is called
    once), recovering dead workers' tasks meanwhile so that a crashed run is released
    after ``STALE_AFTER``. A queued run of the task with the same arguments is claimed
    rather than queued a second time.
    """
    if not uses_database_queue(task):
        return task.call(*args, **kwargs)
    # A dead worker's run of it goes back to the queue first, to be claimed here in place.
    recovery.recover_lost_tasks()
    waited = False
    while recovery.task_alive(task, *args):
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(conf().heartbeat)
        close_old_connections()
        recovery.recover_lost_tasks()
    worker = _make_worker(task, list(args), kwargs)
    with _signals_handled_by(worker):
        worker.run()
    if worker.outcome is None:  # pragma: no cover - the claim always yields a row
        raise RuntimeError(f"{task.name}: the task did not run")
    name, value = worker.outcome
    if name == "set_failed":
        raise value
    return value


class _signals_handled_by:  # noqa: N801 - used as a context manager, like a function
    """The worker's SIGINT/SIGTERM handling for the run, the previous handlers after it
    (only the main thread can set them)."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.getsignal(signum)
            self.worker.configure_signals()

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _make_worker(task: Any, args: list, kwargs: dict) -> Any:
    from django_tasks.utils import normalize_json
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    from .management.commands.worker import HeartbeatWorker

    wanted = normalize_json({"args": args, "kwargs": kwargs})

    class ForegroundWorker(HeartbeatWorker):
        """The worker's heartbeat, fence and guarded results, for one task it queues itself."""

        handed_back_status = EXIT_HANDED_BACK

        def __init__(self) -> None:
            host, pid = worker_identity()
            super().__init__(
                grace=0.0,  # Ctrl-C: hand the task back at once
                recover_on_start=False,
                queue_names=[task.queue_name],
                interval=0.0,
                batch=True,
                backend_name=task.backend,
                startup_delay=False,
                max_tasks=1,
                worker_id=f"fg-{host[:30]}-{pid}-{uuid.uuid4().hex[:8]}",
                excluded_queue_names=[],
            )
            self.heartbeat.queues = f"{FOREGROUND}{task.module_path}"[:200]
            self.outcome: tuple[str, Any] | None = None

        def run(self) -> None:
            self.heartbeat.register()
            self.heartbeat.start()
            try:
                self.run_task(self.claim())
            finally:
                self.release_own_tasks()
                self.heartbeat.stop()

        def claim(self) -> Any:
            """The queued run with these arguments, or a new one, claimed in the same
            transaction."""
            ready = DBTaskResult.objects.ready().filter(
                task_path=task.module_path, backend_name=task.backend
            )
            with exclusive_transaction(ready.db):
                waiting = ready.select_for_update(skip_locked=True)
                row = next((r for r in waiting if r.args_kwargs == wanted), None)
                if row is None:
                    row = DBTaskResult.objects.get(pk=task.enqueue(*args, **kwargs).id)
                row.claim(self.worker_id)
            return row

        def _guarded(self, db_task_result: Any, name: str) -> Callable[[Any], None]:
            record = super()._guarded(db_task_result, name)

            def keep(value: Any) -> None:
                self.outcome = (name, value)
                record(value)

            return keep

    return ForegroundWorker()
