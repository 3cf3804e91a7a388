"""Background tasks of the digest (Django Tasks API, queue "digest")."""

from __future__ import annotations

from django_tasks import task

from .sending import send_issue


@task(queue_name="digest")
def send_issue_task(issue_id: int) -> dict:
    """Send or resume an issue; safe to run twice (the lease and row claims guard it)."""
    return send_issue(issue_id).as_dict()
