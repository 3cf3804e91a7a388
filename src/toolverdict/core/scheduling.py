"""Periodic work, state-driven: each job decides from the database whether it is due.

The scheduler only calls the jobs; it keeps no state of its own, so running it twice, or
missing a tick, neither repeats nor skips work (each job is keyed by day or ISO week).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


def periodic_jobs() -> list[tuple[str, Callable[[], object]]]:
    return [(path, import_string(path)) for path in settings.TOOLVERDICT_PERIODIC_JOBS]


def run_due_jobs() -> dict[str, str]:
    """Call every periodic job once; one job's failure never stops the others."""
    outcomes: dict[str, str] = {}
    for path, job in periodic_jobs():
        try:
            result = job()
        except Exception as exc:  # noqa: BLE001 - logged and reported, next job still runs
            log.exception("periodic job %s failed", path)
            outcomes[path] = f"error: {exc}"
        else:
            outcomes[path] = str(result) if result is not None else "ok"
    return outcomes
