"""Task workers' heartbeats and the record of recovered tasks (see core/recovery.py)."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per `toolverdict worker` process: alive while ``beat_at`` keeps moving.

    ``stopped_at`` is set by a worker that exits cleanly; ``lost_at`` by the recovery step
    that declared it dead (its beat went stale). A worker whose row carries ``lost_at``
    exits at its next beat instead of writing anything more.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-beat_at"]
        indexes = [models.Index(fields=["beat_at"])]

    def __str__(self) -> str:
        return f"worker {self.worker_id} ({self.host}:{self.pid})"


class TaskRecovery(models.Model):
    """What the recovery step did with a task it found without a live worker."""

    class Action(models.TextChoices):
        REQUEUED = "requeued", "Requeued (its worker died)"
        FAILED = "failed", "Failed (its workers died too often)"
        RELEASED = "released", "Released (its worker was stopped)"

    task_id = models.UUIDField(db_index=True)
    task_path = models.TextField()
    worker_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.action} {self.task_path} {self.task_id}"
