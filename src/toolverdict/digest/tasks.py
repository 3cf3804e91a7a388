"""Background tasks of the digest (Django Tasks API, queue "digest")."""

from __future__ import annotations

from django_tasks import task

from toolverdict.core.recovery import UNTRACKED, on_release, running_task_ids

from .sending import send_issue


@task(queue_name="digest")
def send_issue_task(issue_id: int, rate: float | None = None) -> dict:
    """Send or resume an issue; safe to run twice (the issue's claim and each message's
    claim guard it)."""
    return send_issue(issue_id, rate=rate).as_dict()


@on_release(send_issue_task)
def release_send(args: list, kwargs: dict, final: bool) -> None:
    """The worker sending the issue died (or was stopped): its claim on the issue goes.

    Only that run's claim: the run is no longer running when this is called, so a claim
    held by a send task still running (one that took over) is left alone, as is one held
    outside any task. The issue stays "sending": the requeued task resumes it, or, when the
    task is given up (``final``), the weekly job queues it again after a day
    (``resume_if_stalled``).
    """
    from .models import Issue

    issue_id = args[0] if args else kwargs.get("issue_id")
    Issue.objects.filter(pk=issue_id).exclude(sender="").exclude(
        sender__startswith=UNTRACKED
    ).exclude(sender__in=running_task_ids(send_issue_task)).update(sender="", sending_since=None)
