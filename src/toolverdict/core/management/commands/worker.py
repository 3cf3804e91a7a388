"""`toolverdict worker`: django-tasks-db's ``db_worker`` with a heartbeat and recovery.

What it adds to ``db_worker`` (same options, plus ``--grace``):

- a ``WorkerHeartbeat`` row kept fresh by a background thread, so a worker that dies
  (``kill -9``, out of memory, a host that vanishes) is noticed and its task requeued;
- on start, the recovery step: tasks of dead workers go back to the queue
  (core/recovery.py); then the ``worker_started`` signal (core/signals.py), on which the
  apps resume their own work (the panel queues the tools still to be reviewed);
- the fence: the task's queries run only while the worker's lease is confirmed, and a task's
  result is recorded only while the task is still this worker's;
- a bounded stop: on SIGTERM or SIGINT the task in progress gets ``--grace`` seconds to
  finish; then it is handed back to the queue (``READY``, with its own state released)
  and the worker exits. A second signal hands it back at once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from django.core.management.base import CommandParser
from django.db import close_old_connections, connection, transaction
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from toolverdict.core import recovery
from toolverdict.core.heartbeat import HandedBack, Heartbeat
from toolverdict.core.signals import worker_started

log = logging.getLogger("toolverdict.worker")


class HeartbeatWorker(Worker):
    # Exit status once the task in progress was handed back on a stop signal.
    handed_back_status = 0

    def __init__(self, *, grace: float, recover_on_start: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grace = grace
        self.recover_on_start = recover_on_start
        self.heartbeat = Heartbeat(self.worker_id, ",".join(self.queue_names))
        self.current: DBTaskResult | None = None
        self._stopping = threading.Lock()

    # Lifecycle ---------------------------------------------------------------------------

    def run(self) -> None:
        self.heartbeat.register()
        self.heartbeat.start()
        if self.recover_on_start:
            self.recover_and_announce()
        # Workers watch each other too, so a pool recovers without the scheduler running.
        watcher = threading.Thread(target=self.watch, name="recovery", daemon=True)
        watcher.start()
        try:
            super().run()
        finally:
            self.release_own_tasks()
            self.heartbeat.stop()

    def recover_and_announce(self) -> None:
        """The recovery step, then ``worker_started`` for the apps' own work; each part's
        failure is logged and the worker still runs the queue."""
        parts = []
        try:
            parts.append(recovery.recover())
        except Exception:  # noqa: BLE001 - the worker still runs the queue
            log.exception("recovery at worker start failed")
        for receiver, outcome in worker_started.send_robust(
            sender=type(self), worker_id=self.worker_id
        ):
            if isinstance(outcome, Exception):
                log.error(
                    "worker start: %r failed", receiver, exc_info=(type(outcome), outcome, None)
                )
            elif outcome:
                parts.append(str(outcome))
        log.info("worker %s start: %s", self.worker_id, "; ".join(parts))

    def watch(self) -> None:
        """Every ``STALE_AFTER`` seconds: requeue the tasks of workers that died."""
        every = self.heartbeat.conf.stale_after
        while not self.heartbeat.stopped.wait(every):
            try:
                close_old_connections()
                found = recovery.recover_lost_tasks()
                if found.requeued or found.failed:
                    log.warning("worker %s recovered: %s", self.worker_id, found)
            except Exception:  # noqa: BLE001 - tried again next round
                log.warning("recovery round failed", exc_info=True)

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        name = signal.strsignal(signum)
        if not self.running_task:
            self.running = False
            log.info("received %s: stopping", name)
            sys.exit(0)
        if not self.running:
            log.warning("received %s again: handing the task back now", name)
            self.hand_back_and_exit()
            return
        self.running = False
        log.warning(
            "received %s: the task in progress has %.0f s to finish, then goes back to the queue",
            name,
            self.grace,
        )
        timer = threading.Timer(self.grace, self.hand_back_and_exit)
        timer.daemon = True
        timer.start()

    def hand_back_and_exit(self) -> None:
        """Give the unfinished task back to the queue and end the process (any thread)."""
        if not self._stopping.acquire(blocking=False):
            return
        # The task's thread stops at its next query, rolling back what it had open.
        self.heartbeat.handing_back = True
        current = self.current
        try:
            if current is not None and recovery.release_task(current.pk, self.worker_id):
                log.warning("task %s handed back to the queue", current.pk)
            self.heartbeat.stop()
        except Exception:  # noqa: BLE001 - the recovery step will requeue it instead
            log.exception("could not hand the task back; recovery will requeue it")
        finally:
            logging.shutdown()
            os._exit(self.handed_back_status)

    def release_own_tasks(self) -> None:
        """Tasks still RUNNING under this worker's id as it exits go back to the queue (a
        stop signal can land between claiming a task and starting it)."""
        try:
            for row in DBTaskResult.objects.filter(status="RUNNING").only("pk", "worker_ids"):
                if (row.worker_ids or [])[-1:] == [self.worker_id]:
                    recovery.release_task(row.pk, self.worker_id)
        except Exception:  # noqa: BLE001 - the recovery step requeues them instead
            log.exception("could not hand back this worker's tasks")

    # One task ----------------------------------------------------------------------------

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.current = db_task_result
        recovery.current_task_id = str(db_task_result.pk)
        for name in ("set_successful", "set_failed"):
            setattr(db_task_result, name, self._guarded(db_task_result, name))
        try:
            with connection.execute_wrapper(self.heartbeat.fence):
                super().run_task(db_task_result)
        except HandedBack:
            # hand_back_and_exit() (another thread) releases the task and ends the process.
            threading.Event().wait(self.grace + 30)
            os._exit(self.handed_back_status)
        finally:
            self.current = None
            recovery.current_task_id = None

    def _guarded(self, db_task_result: DBTaskResult, name: str):
        method = getattr(db_task_result, name)

        def record(*args: Any, **kwargs: Any) -> None:
            with transaction.atomic():
                ids = (
                    DBTaskResult.objects.select_for_update()
                    .filter(pk=db_task_result.pk, status="RUNNING")
                    .values_list("worker_ids", flat=True)
                    .first()
                )
                if not ids or ids[-1] != self.worker_id:
                    log.warning(
                        "task %s was handed to another worker meanwhile: result not recorded",
                        db_task_result.pk,
                    )
                    return
                method(*args, **kwargs)

        return record


class Command(DBWorkerCommand):
    help = (
        "Run a task worker (database queue) with a heartbeat: tasks of a worker that dies "
        "are requeued, and SIGTERM hands the task in progress back after --grace seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--grace",
            type=float,
            default=20.0,
            help="seconds a task in progress may take to finish after SIGTERM (default 20)",
        )
        parser.add_argument(
            "--no-recovery",
            action="store_false",
            dest="recover_on_start",
            help="do not run the recovery step at start",
        )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        grace: float,
        recover_on_start: bool,
        **options: Any,
    ) -> None:
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            from django.core.management.base import CommandError

            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = HeartbeatWorker(
            grace=max(0.0, grace),
            recover_on_start=recover_on_start,
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        # No autoreload here: a reloaded worker would leave its task behind (use --dev on
        # `toolverdict up` for the web server's reloader).
        worker.configure_signals()
        worker.run()
