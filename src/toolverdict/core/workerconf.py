"""The task workers' timing settings in the form the heartbeat and the recovery use them.

Values and defaults are set once, in settings.py (``TOOLVERDICT_WORKER_HEARTBEAT``,
``TOOLVERDICT_WORKER_STALE_AFTER``, ``TOOLVERDICT_TASK_MAX_ATTEMPTS``,
``TOOLVERDICT_TASK_ORPHAN_AFTER``; docs/configuration.md). Read at call time, so tests can
override them; nothing here repeats a default, only the floors that keep them safe.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Conf:
    heartbeat: float  # seconds between beats
    stale_after: float  # a beat this old means the worker is dead
    max_attempts: int  # runs of one task whose worker died, before it is failed
    orphan_after: float  # tasks of workers without heartbeats: lost after this long

    @property
    def lease(self) -> float:
        """How long a worker trusts its last confirmed beat (one beat short of stale)."""
        return self.stale_after - self.heartbeat


def conf() -> Conf:
    """The settings, with their floors applied."""
    heartbeat = max(0.05, float(settings.TOOLVERDICT_WORKER_HEARTBEAT))
    # At least three beats: a slow beat or two must never make a live worker look dead.
    stale = max(float(settings.TOOLVERDICT_WORKER_STALE_AFTER), 3 * heartbeat)
    return Conf(
        heartbeat=heartbeat,
        stale_after=stale,
        max_attempts=max(1, int(settings.TOOLVERDICT_TASK_MAX_ATTEMPTS)),
        orphan_after=max(stale, float(settings.TOOLVERDICT_TASK_ORPHAN_AFTER)),
    )
