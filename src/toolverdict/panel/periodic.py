"""The panel's recurring work: keep every published tool's reviews current.

- :func:`tick`, the periodic job (run by ``toolverdict scheduler`` after core's recovery
  of dead workers' tasks, so a requeued review is not queued twice): queue every tool
  whose current reviews are missing, failed or outdated and that has no waiting or running
  task, leaving alone a tool whose review task finished in the last
  ``TOOLVERDICT_PANEL_RETRY_AFTER`` seconds.
- The same when a task worker starts (``core.signals.worker_started``).
- When ``toolverdict up`` starts (``core.signals.up_starting``): queue the tools still to
  be reviewed, the ``TOOLVERDICT_PANEL_FIRST`` tools first, and say how far the panel has
  got.

The receivers are connected in apps.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from toolverdict.core.scheduling import periodic_job

from .tasks import queue_backlog

# Complete panels checked for outdated inputs per run: a large catalog is covered over
# several minutes instead of building every dossier every minute.
OUTDATED_BATCH = 500


def queue_due_reviews() -> str:
    """Queue the tools whose reviews are missing, failed or outdated; a line for the logs."""
    backlog = queue_backlog(
        outdated=True,
        retry_after=max(0.0, float(settings.TOOLVERDICT_PANEL_RETRY_AFTER)),
        outdated_batch=OUTDATED_BATCH,
    )
    return f"panel: {backlog.queued} tool(s) queued"


@periodic_job
def tick() -> str:
    """The periodic job."""
    return queue_due_reviews()


def on_worker_started(**kwargs: Any) -> str:
    """A task worker starts: queue what the panel still has to do."""
    return queue_due_reviews()


def on_up_starting(**kwargs: Any) -> str:
    """``toolverdict up`` starts: queue what the panel still has to review (a restart picks
    up where it stopped) and return a line on its progress, or "" once it is done."""
    from .progress import panel_progress

    queue_backlog()
    progress = panel_progress(brief=True)
    if progress.done:
        return ""
    first = ", ".join(settings.TOOLVERDICT_PANEL_FIRST)
    return (
        f"panel: {progress.reviewed} of {progress.total} tools reviewed"
        + (f", {first} first" if first else "")
        + "; `toolverdict status` shows progress"
    )
