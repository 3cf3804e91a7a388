"""Core's periodic job: the recovery of dead workers' tasks (core/recovery.py)."""

from __future__ import annotations

from toolverdict.core.scheduling import periodic_job

from .recovery import tick

periodic_job(tick)
