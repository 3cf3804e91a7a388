"""Periodic work, state-driven: each job decides from the database whether it is due.

The scheduler only calls the jobs; it keeps no state of its own, so running it twice, or
missing a tick, neither repeats nor skips work (each job is keyed by day or ISO week).

Jobs register themselves: each app's ``periodic.py`` marks its functions with
:func:`periodic_job`, and :func:`periodic_jobs` finds those modules the way Django's admin
finds ``admin.py`` (``autodiscover_modules``). Core names no app's job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import count

from django.apps import apps
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger(__name__)

Job = Callable[[], object]
_registered: dict[str, tuple[int, Job]] = {}
_order = count()


def job_name(job: Job) -> str:
    """The dotted path that names a job in the scheduler's output and the logs."""
    return f"{job.__module__}.{job.__qualname__}"


def periodic_job(job: Job) -> Job:
    """Register ``job`` (a function taking no arguments that reads due-ness from the
    database, so a missed or doubled call is harmless) with the scheduler."""
    name = job_name(job)
    if name not in _registered:
        _registered[name] = (next(_order), job)
    return job


def _app_index(name: str) -> int:
    configs = list(apps.get_app_configs())
    found = apps.get_containing_app_config(name)
    return configs.index(found) if found in configs else len(configs)


def periodic_jobs() -> list[tuple[str, Job]]:
    """Every registered job, in the order of INSTALLED_APPS (core's recovery first), then
    in the order each app's ``periodic.py`` registers them."""
    autodiscover_modules("periodic")
    ordered = sorted(_registered.items(), key=lambda item: (_app_index(item[0]), item[1][0]))
    return [(name, job) for name, (_seq, job) in ordered]


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
