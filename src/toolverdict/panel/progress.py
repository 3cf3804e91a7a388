"""How far the panel has got: tools reviewed of N, the one in progress, time left.

Read from the stored state in a handful of queries whatever the catalog's size: the
reviews (a tool is reviewed when it has a current review for every persona), the task
queue (the database backend's table: waiting and running ``review_tool`` tasks) and the
measured speed (the model time of recently reviewed tools' current reviews).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from toolverdict.catalog.models import Tool

from .models import Review
from .personas import PersonaError, load_personas

# How many recently reviewed tools the speed is measured over (the median of them).
SPEED_SAMPLE = 10


@dataclass
class PanelProgress:
    total: int  # published tools
    reviewed: int  # published tools with a current review for every persona
    failed: int = 0  # of those, tools with a failed review (retried on the next run)
    queued: int = 0  # panel tasks waiting for a worker
    current: str | None = None  # name of the tool a worker is reviewing now
    current_slug: str | None = None
    started_at: datetime | None = None
    seconds_per_tool: float | None = None  # measured; None before any tool was reviewed
    eta_seconds: float | None = None  # None without a measured speed or a queue to run
    # Tools wait to be reviewed and no task worker is alive: nothing will move until one
    # starts, so there is no time left to promise.
    waiting_for_worker: bool = False

    @property
    def remaining(self) -> int:
        return max(self.total - self.reviewed, 0)

    @property
    def done(self) -> bool:
        return self.remaining == 0

    @property
    def eta_text(self) -> str:
        return "" if self.eta_seconds is None else duration_text(self.eta_seconds)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat() if self.started_at else None
        data["remaining"] = self.remaining
        data["done"] = self.done
        return data

    def summary(self) -> str:
        """One line: "12 of 31 tools reviewed · in progress: X · ~38 min left at ~95 s per tool"."""
        parts = [f"{self.reviewed} of {self.total} tools reviewed"]
        if self.current:
            parts.append(f"in progress: {self.current}")
        if self.queued:
            parts.append(f"{self.queued} queued")
        if self.seconds_per_tool is not None:
            speed = f"~{seconds_text(self.seconds_per_tool)} per tool"
            if self.eta_seconds is not None:
                speed = f"~{short_duration(self.eta_seconds)} left at {speed}"
            parts.append(speed)
        if self.waiting_for_worker:
            parts.append("waiting for a task worker (none is running)")
        if self.done and not self.current and not self.queued:
            parts.append("done")
        return " · ".join(parts)


def _hours_minutes(seconds: float) -> tuple[int, int]:
    """Whole minutes rounded up; hours split off from 90 minutes on."""
    minutes = math.ceil(seconds / 60)
    return divmod(minutes, 60) if minutes >= 90 else (0, minutes)


def duration_text(seconds: float) -> str:
    """Prose for a page: "under a minute", "1 minute", "38 minutes", "2 hours 5 minutes"."""
    if seconds < 60:
        return "under a minute"
    hours, minutes = _hours_minutes(seconds)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def seconds_text(seconds: float) -> str:
    """A per-tool time: "0.4 s", "95 s"."""
    return f"{seconds:.1f} s" if seconds < 9.95 else f"{round(seconds)} s"


def short_duration(seconds: float) -> str:
    """For a terminal: "<1 min", "38 min", "2 h 5 min"."""
    if seconds < 60:
        return "<1 min"
    hours, minutes = _hours_minutes(seconds)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def persona_slugs() -> list[str] | None:
    """The panel's persona slugs, or None when the persona files do not load."""
    try:
        return [p.slug for p in load_personas()]
    except PersonaError:
        return None


def current_reviews(slugs: list[str] | None, prefix: str = "") -> Q:
    """Current reviews by the panel's personas (any persona when they do not load)."""
    q = Q(**{f"{prefix}is_current": True})
    if slugs is not None:
        q &= Q(**{f"{prefix}persona__in": slugs})
    return q


def tools_with_review_counts(slugs: list[str] | None) -> QuerySet[Tool]:
    """Published tools annotated with ``current`` (current reviews by the panel's personas)
    and ``failed`` (current reviews that failed)."""
    return Tool.objects.published().annotate(
        current=Count("panel_reviews", filter=current_reviews(slugs, "panel_reviews__")),
        failed=Count(
            "panel_reviews",
            filter=Q(panel_reviews__is_current=True, panel_reviews__status=Review.Status.FAILED),
        ),
    )


def panel_progress(*, brief: bool = False) -> PanelProgress:
    """The panel's progress now. ``brief``: stop after the counts when every tool is done.

    Queries: one for the counts; with the rest, one for the speed and two or three for
    the queue (none of them when the database task backend is not installed).
    """
    slugs = persona_slugs()
    needed = len(slugs) if slugs is not None else 1
    counts = tools_with_review_counts(slugs).aggregate(
        total=Count("pk"),
        reviewed=Count("pk", filter=Q(current__gte=needed)),
        failing=Count("pk", filter=Q(current__gte=needed, failed__gt=0)),
    )
    progress = PanelProgress(
        total=counts["total"] or 0, reviewed=counts["reviewed"] or 0, failed=counts["failing"] or 0
    )
    if brief and progress.done:
        return progress
    progress.seconds_per_tool = _seconds_per_tool(slugs, needed)
    unreviewed_current = _read_queue(progress, slugs, needed)
    if progress.queued and not progress.current:
        from toolverdict.core.heartbeat import live_workers

        progress.waiting_for_worker = not live_workers()
    if progress.waiting_for_worker:
        return progress
    if (
        progress.seconds_per_tool is not None
        and progress.remaining
        and (progress.queued or progress.current)
    ):
        eta = progress.remaining * progress.seconds_per_tool
        if unreviewed_current and progress.started_at is not None:
            elapsed = max((timezone.now() - progress.started_at).total_seconds(), 0.0)
            eta -= min(elapsed, progress.seconds_per_tool)
        progress.eta_seconds = max(eta, 0.0)
    return progress


def _seconds_per_tool(slugs: list[str] | None, needed: int) -> float | None:
    """Median model time per tool over the most recently reviewed tools."""
    rows = (
        Review.objects.filter(current_reviews(slugs))
        .values("tool_id")
        .annotate(n=Count("pk"), ms=Sum("latency_ms"), latest=Max("created_at"))
        .filter(n__gte=needed, ms__gt=0)
        .order_by("-latest", "-tool_id")[:SPEED_SAMPLE]
    )
    samples = [row["ms"] / 1000 for row in rows]
    return statistics.median(samples) if samples else None


def _read_queue(progress: PanelProgress, slugs: list[str] | None, needed: int) -> bool:
    """Fill in the queue and the tool in progress; True when that tool is not yet reviewed."""
    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import queued_tool_id, review_tool

    tasks = DBTaskResult.objects.filter(task_path=review_tool.module_path)
    progress.queued = tasks.filter(status=TaskResultStatus.READY).count()
    running = (
        tasks.filter(status=TaskResultStatus.RUNNING)
        .order_by("-started_at")
        .values("args_kwargs", "started_at")
        .first()
    )
    if running is None:
        return False
    tool = (
        Tool.objects.filter(pk=queued_tool_id(running["args_kwargs"]))
        .annotate(current=Count("panel_reviews", filter=current_reviews(slugs, "panel_reviews__")))
        .values("name", "slug", "current")
        .first()
    )
    if tool is None:
        return False
    progress.current, progress.current_slug = tool["name"], tool["slug"]
    progress.started_at = running["started_at"]
    return tool["current"] < needed
