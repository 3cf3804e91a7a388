"""Background tasks (Django Tasks API; ``db_worker`` runs them from the "panel" queue).

Queue order: ``db_worker`` takes the ready task with the highest ``priority`` first, then
the oldest. The tools named in ``TOOLVERDICT_PANEL_FIRST`` (the seed comparison's two
tools by default) are queued with ``FIRST_PRIORITY``, so a fresh install reviews them
before the rest of the catalog, whatever order the catalog lists them in.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TASK_MAX_PRIORITY

# Above django-tasks' default priority (0); the allowed range is -100..100. The first tools
# get FIRST_PRIORITY and up, the earlier in the setting the higher.
FIRST_PRIORITY = 10


@task(queue_name="panel")
def review_tool(tool_id: int) -> dict[str, int]:
    """Run the panel for one tool; unchanged reviews are reused, so a repeat is free."""
    from .services import review_tools

    outcomes = review_tools([tool_id])
    counts: dict[str, int] = {"tool_id": tool_id, "reused": sum(o.reused for o in outcomes)}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def first_tool_ids(tool_ids: Iterable[int] | None = None) -> list[int]:
    """Ids of the ``TOOLVERDICT_PANEL_FIRST`` tools (among ``tool_ids``), in setting order."""
    from toolverdict.catalog.models import Tool

    slugs = list(settings.TOOLVERDICT_PANEL_FIRST)
    if not slugs:
        return []
    tools = Tool.objects.filter(slug__in=slugs)
    if tool_ids is not None:
        tools = tools.filter(pk__in=list(tool_ids))
    by_slug = dict(tools.values_list("slug", "pk"))
    return [by_slug[s] for s in slugs if s in by_slug]


def first_priorities(first: list[int]) -> dict[int, int]:
    """The queue priority of each first tool: setting order, all at FIRST_PRIORITY or above."""
    return {
        tool_id: min(FIRST_PRIORITY + len(first) - 1 - i, TASK_MAX_PRIORITY)
        for i, tool_id in enumerate(first)
    }


def _supports_priority() -> bool:
    return bool(getattr(review_tool.get_backend(), "supports_priority", False))


def enqueue_reviews(tool_ids: Iterable[int]) -> list[Any]:
    """Queue one ``review_tool`` task per tool; returns the task results in input order.

    The ``TOOLVERDICT_PANEL_FIRST`` tools among them are queued first and, where the
    backend supports priorities, with ``FIRST_PRIORITY``.
    """
    ids = list(dict.fromkeys(tool_ids))
    if not ids:
        return []
    first = first_tool_ids(ids)
    priorities = first_priorities(first) if _supports_priority() else {}
    leading = set(first)
    results: dict[int, Any] = {}
    for tool_id in [*first, *(i for i in ids if i not in leading)]:
        chosen = (
            review_tool.using(priority=priorities[tool_id])
            if tool_id in priorities
            else review_tool
        )
        results[tool_id] = chosen.enqueue(tool_id)
    return [results[i] for i in ids]


def _uses_db_backend() -> bool:
    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(review_tool.get_backend(), DatabaseBackend)


@dataclass
class Backlog:
    prioritised: int = 0  # already-queued tasks of the first tools moved to the front
    queued: int = 0  # tools that had no pending review and were queued now


def queue_backlog(
    *, outdated: bool = False, retry_after: float = 0.0, outdated_batch: int | None = None
) -> Backlog:
    """Make sure every published tool still to be reviewed is queued, first tools first.

    Reads the state, so it is safe to run on every start: tasks already waiting for the
    ``TOOLVERDICT_PANEL_FIRST`` tools move to the front of the queue; published tools
    without a complete current panel (or with a failed review) and no waiting or running
    task are queued. Only with the database task backend, whose queue it can read.

    ``outdated``: also tools whose current reviews were written from other inputs than
    the panel would use now (another model, prompt or dossier: see
    :func:`outdated_tool_ids`). ``retry_after``: leave alone a tool whose review task
    finished less than that many seconds ago (a periodic caller must not retry a failing
    tool every minute). Two callers at once queue each tool once: the queue is read and
    written under one lock (``core.dbclock.exclusive``).
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from toolverdict.core.dbclock import exclusive
    from toolverdict.core.recovery import recently_given_up

    from .progress import persona_slugs, tools_with_review_counts

    backlog = Backlog()
    if not _uses_db_backend():
        return backlog
    slugs = persona_slugs()
    reviewed = tools_with_review_counts(slugs).order_by("pk")
    incomplete = Q(current__lt=len(slugs) if slugs is not None else 1) | Q(failed__gt=0)
    todo = list(reviewed.filter(incomplete).values_list("pk", flat=True))
    if outdated and slugs is not None:
        complete = list(reviewed.exclude(incomplete).values_list("pk", flat=True))
        if outdated_batch and len(complete) > outdated_batch:
            slices = -(-len(complete) // outdated_batch)
            at = int(time.time() // 60) % slices * outdated_batch
            complete = complete[at : at + outdated_batch]
        todo = sorted({*todo, *outdated_tool_ids(complete)})
    tasks = DBTaskResult.objects.filter(task_path=review_tool.module_path)
    if retry_after > 0:
        since = timezone.now() - timedelta(seconds=retry_after)
        recent = tasks.filter(
            status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
            finished_at__gte=since,
        ).values_list("args_kwargs", flat=True)
        done_lately = {queued_tool_id(a) for a in recent}
        # A task given up because its workers kept dying may be what killed them: a day.
        done_lately |= {
            queued_tool_id(a) for a in recently_given_up(review_tool, at_least=retry_after)
        }
        todo = [pk for pk in todo if pk not in done_lately]
    with exclusive("toolverdict.panel.backlog"):
        ready = tasks.filter(status=TaskResultStatus.READY)
        priorities = first_priorities(first_tool_ids())
        if priorities:
            for row in ready.filter(priority__lt=FIRST_PRIORITY).only("pk", "args_kwargs"):
                priority = priorities.get(queued_tool_id(row.args_kwargs))
                if priority is not None:
                    backlog.prioritised += ready.filter(pk=row.pk).update(priority=priority)
        pending = tasks.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        waiting = {queued_tool_id(a) for a in pending.values_list("args_kwargs", flat=True)}
        missing = [pk for pk in todo if pk not in waiting]
        backlog.queued = len(enqueue_reviews(missing))
    return backlog


def outdated_tool_ids(tool_ids: Iterable[int], chunk: int = 200) -> list[int]:
    """Those of ``tool_ids`` whose current reviews do not match the inputs the panel would
    use now: the configured model, each persona's prompt version, the tool's dossier.

    Built with the functions ``review_tools`` itself uses, so a tool it has just reviewed
    is never outdated here. Empty when the model or the personas cannot be loaded.
    """
    import logging

    from .dossier import build_dossiers
    from .generation import style_for
    from .models import Review
    from .personas import load_personas
    from .prompts import prompt_version

    try:
        from .llm import get_review_model
        from .services import _tools

        model = get_review_model()
        personas = load_personas()
        style = style_for(model)
        wanted = {p.slug: (model.model_id, prompt_version(p, style)) for p in personas}
    except Exception:  # noqa: BLE001 - without a usable model nothing can be compared
        logging.getLogger(__name__).warning("cannot tell outdated reviews", exc_info=True)
        return []
    ids = list(tool_ids)
    found: list[int] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        keys: dict[tuple[int, str], tuple[str, str, str]] = {
            (tool_id, persona): (model_id, version, dossier_hash)
            for tool_id, persona, model_id, version, dossier_hash in Review.objects.filter(
                tool_id__in=part, is_current=True, persona__in=list(wanted)
            ).values_list("tool_id", "persona", "model_id", "prompt_version", "dossier_hash")
        }
        dossiers = build_dossiers(_tools(part))
        for tool_id, dossier in dossiers.items():
            digest = dossier.hash
            if any(
                keys.get((tool_id, slug)) != (model_id, version, digest)
                for slug, (model_id, version) in wanted.items()
            ):
                found.append(tool_id)
    return found


def queued_tool_id(args_kwargs: Any) -> int | None:
    """The tool id a ``review_tool`` task was queued with."""
    try:
        args = args_kwargs.get("args") or []
        return int(args[0]) if args else int(args_kwargs["kwargs"]["tool_id"])
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None
