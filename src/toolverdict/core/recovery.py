"""Work that a dead process left behind is found from the database state and run again.

docs/operations.md ("When a process dies", "Long jobs that survive a crash") has the
operator's view; the parts:

- **Heartbeats and the fence** (core/heartbeat.py): each ``toolverdict worker`` keeps a
  ``WorkerHeartbeat`` row fresh and stops touching the database one beat before others
  may declare it dead.
- **Recovery** (:func:`recover_lost_tasks`, run by the periodic job :func:`tick`, when a
  worker starts, and every ``STALE_AFTER`` seconds in every worker). In one transaction,
  under a lock that lets one recoverer in at a time, it marks the stale workers ``lost``
  and puts each ``RUNNING`` task of a lost or stopped worker back to ``READY`` in place
  (same task id), or fails it once its workers died ``TOOLVERDICT_TASK_MAX_ATTEMPTS``
  times (a task that kills its worker must not kill workers forever). A task's own state
  elsewhere (the day's ingest run) is released in the same transaction by the hook its
  module registered with :func:`on_release`.
- **Liveness of a task** (:func:`task_alive`): whether another live worker runs a given
  task now, the question a long job asks before taking over work that looks stuck
  (:func:`holder_alive` asks it about whoever holds a job's state, :func:`holder_id` names
  that holder, :func:`running_task_ids` lets a release hook let go of its own run's state
  only, and :func:`task_queued` says whether a run is still waiting or running).

What a stray write could still be (a commit in flight at the instant a worker is declared
lost) is harmless by construction: reviews are keyed by their inputs under a unique
constraint and written in one transaction, a digest message is claimed by a conditional
UPDATE before it is sent, and the ingest stages are idempotent. A worker also only
records a task's result while the task row still names it as the worker running it
(``toolverdict.core.management.commands.worker``).

Tasks claimed by a plain ``db_worker`` (no heartbeat row) are treated as lost once they
have been running ``TOOLVERDICT_TASK_ORPHAN_AFTER`` seconds, a long bound, as nothing
tells whether their worker lives: run ``toolverdict worker``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .dbclock import db_before, db_now, exclusive
from .workerconf import conf

log = logging.getLogger(__name__)


class WorkerLost(RuntimeError):
    """Recorded as the error of a task whose workers died too often while running it."""


WORKER_LOST = f"{__name__}.WorkerLost"
# A task given up because its workers kept dying is not queued again by the periodic job
# for this long (it may be what kills them).
GIVEN_UP_HOLD = 24 * 3600


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


# A job's state held by code that runs outside any task (called directly, or on a task
# backend other than the database's): nothing tells whether it lives.
UNTRACKED = "untracked:"


def holder_id() -> str:
    """Who runs a job, as its state records the holder: the id of the task this process
    runs now, or an id of its own marked :data:`UNTRACKED` outside any task."""
    return current_task_id or f"{UNTRACKED}{uuid.uuid4().hex}"


def holder_alive(task: Any, *args: Any, holder: str, since: Any) -> bool:
    """True while whoever holds the state of ``task(*args)`` may still be at work on it.

    Another live process running ``task(*args)`` (:func:`task_alive`) is at work, however
    long it has been. A holder that was a task and is not alive is not. An untracked
    holder (or none recorded, state claimed before holders were) counts as alive for
    ``TOOLVERDICT_TASK_ORPHAN_AFTER`` after ``since``, the bound core gives any work no
    heartbeat vouches for.
    """
    if task_alive(task, *args):
        return True
    if holder and not holder.startswith(UNTRACKED):
        return False
    return since is not None and since >= timezone.now() - timedelta(seconds=conf().orphan_after)


def claims_free(task: Any, *, holder: str = "claimed_by", since: str = "claimed_at") -> Q | None:
    """For a batch job whose runs of ``task`` claim rows (``holder`` records the claiming
    run, ``since`` when): the rows a run may claim now, as a filter; None while another run
    of ``task`` is at work on a live worker (one batch at a time, and it holds its claims).

    With no other run alive, a claim held by a task is a dead run's (or this run's own), so
    it is free at once; an untracked claim (code outside any task) is presumed alive for
    ``TOOLVERDICT_TASK_ORPHAN_AFTER`` after ``since``, as in :func:`holder_alive`.
    """
    if task_alive(task):
        return None
    orphaned = timezone.now() - timedelta(seconds=conf().orphan_after)
    return (
        Q(**{holder: ""})
        | ~Q(**{f"{holder}__startswith": UNTRACKED})
        | Q(**{f"{since}__isnull": True})
        | Q(**{f"{since}__lt": orphaned})
    )


def release_claims(
    task: Any, rows: Any, *, holder: str = "claimed_by", since: str = "claimed_at"
) -> int:
    """For ``task``'s ``on_release`` hook: let go of the claims among ``rows`` held by runs
    of ``task`` that are no longer running (the released run's own), never those of a run
    still running or of code outside any task. Returns how many were let go."""
    return (
        rows.exclude(**{holder: ""})
        .exclude(**{f"{holder}__startswith": UNTRACKED})
        .exclude(**{f"{holder}__in": running_task_ids(task)})
        .update(**{holder: "", since: None})
    )


def running_task_ids(task: Any) -> set[str]:
    """Ids of the runs of ``task`` that are running now, on a live worker or not. A release
    hook leaves alone state whose holder is one of them: the run being released is no
    longer running when its hook is called, so only its own state is let go."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return set()
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.RUNNING)
    return {str(pk) for pk in rows.values_list("pk", flat=True)}


def task_queued(task: Any, *args: Any) -> bool | None:
    """Whether a run of ``task(*args)`` is waiting in the queue or running (on a live
    worker, or on a dead one whose task the recovery step requeues). None when the task's
    backend keeps no queue in the database to look at."""
    from .foreground import uses_database_queue

    if not uses_database_queue(task):
        return None
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(
        task_path=task.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ).values_list("args_kwargs", flat=True)
    wanted = list(args)
    return any(list((r or {}).get("args") or []) == wanted for r in rows)


def recently_given_up(task: Any, *, at_least: float = 0.0) -> list[Any]:
    """The ``args_kwargs`` of ``task``'s runs failed because their workers kept dying, in
    the last day (or ``at_least`` seconds, if longer): such work may be what kills
    workers, so whoever queues it again waits that long."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return []
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    since = timezone.now() - timedelta(seconds=max(at_least, GIVEN_UP_HOLD))
    return list(
        DBTaskResult.objects.filter(
            task_path=task.module_path,
            status=TaskResultStatus.FAILED,
            exception_class_path=WORKER_LOST,
            finished_at__gte=since,
        ).values_list("args_kwargs", flat=True)
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


def recover() -> str:
    """Recover lost tasks and forget old heartbeat rows. Returns a line for the logs."""
    recovered = recover_lost_tasks()
    prune()
    return f"recovery: {recovered}"


def tick() -> str:
    """The periodic job (registered in core/periodic.py)."""
    return recover()
