"""The weekly schedule, state-driven and keyed by ISO week (run by `toolverdict scheduler`).

`tick()` can be called any number of times, at any interval: the unique (ISO year, week)
constraint means a doubled trigger composes nothing twice, and because due-ness is read
from the clock and the database, a missed trigger is made up by the next one.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from toolverdict.core.scheduling import periodic_job

from .compose import compose_issue, week_bounds
from .models import DigestSettings, Issue
from .sending import resume_if_stalled, start_sending
from .subscriptions import prune_unconfirmed


def due_moment(iso_year: int, iso_week: int, config: DigestSettings) -> dt.datetime:
    start, _ = week_bounds(iso_year, iso_week)
    return start + dt.timedelta(days=config.send_weekday - 1, hours=config.send_hour_utc)


@periodic_job
def tick(now: dt.datetime | None = None) -> str:
    """Compose this week's issue once it is due, then send whatever is approved."""
    now = now or timezone.now()
    config = DigestSettings.load()
    iso_year, iso_week, _ = now.isocalendar()
    done: list[str] = []
    if now >= due_moment(iso_year, iso_week, config):
        exists = Issue.objects.filter(iso_year=iso_year, iso_week=iso_week).exists()
        issue = compose_issue(iso_year, iso_week, now=now, auto_send=config.auto_send)
        if not exists:
            done.append(f"composed {issue.key} ({issue.status})")
    # Approved issues: composed with auto-send on, or approved by an editor.
    for issue in Issue.objects.filter(status=Issue.Status.APPROVED):
        if start_sending(issue, now=now):
            done.append(f"sending {issue.key}")
    for issue in Issue.objects.filter(status=Issue.Status.SENDING):
        if resume_if_stalled(issue, now=now):
            done.append(f"resumed {issue.key}")
    pruned = prune_unconfirmed(now)
    if pruned:
        done.append(f"forgot {pruned} unconfirmed address(es)")
    return "; ".join(done) or "nothing due"
