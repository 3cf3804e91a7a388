"""The weekly schedule: keyed by ISO week, so missed or doubled ticks neither skip nor repeat."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks_db.models import DBTaskResult

from toolverdict.digest import periodic
from toolverdict.digest.models import DigestSettings, Issue

from .conftest import make_tool

pytestmark = pytest.mark.django_db

# Defaults: due Thursday 09:00 UTC. ISO week 48 of 2026 starts Monday 23 November.
BEFORE_DUE = dt.datetime(2026, 11, 26, 8, 59, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def digest_tasks() -> int:
    return DBTaskResult.objects.filter(queue_name="digest").count()


@pytest.fixture
def fresh_tool():
    return make_tool("fresh-agent", created=DUE - dt.timedelta(days=2))


def test_nothing_happens_before_the_issue_is_due(fresh_tool):
    assert periodic.tick(BEFORE_DUE) == "nothing due"
    assert Issue.objects.count() == 0


def test_hold_for_review_composes_a_draft_and_sends_nothing(
    fresh_tool, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = periodic.tick(DUE)
    issue = Issue.objects.get()
    assert (issue.iso_year, issue.iso_week) == (2026, 48)
    assert issue.status == Issue.Status.DRAFT
    assert "composed 2026-w48 (draft)" in outcome
    assert digest_tasks() == 0


def test_auto_send_composes_and_enqueues_one_send_task(
    fresh_tool, django_capture_on_commit_callbacks
):
    config = DigestSettings.load()
    config.auto_send = True
    config.save()
    # A doubled trigger, minutes later, and another the same week (each tick commits).
    for later in [dt.timedelta(0), dt.timedelta(minutes=1), dt.timedelta(days=2)]:
        with django_capture_on_commit_callbacks(execute=True):
            periodic.tick(DUE + later)
    assert Issue.objects.count() == 1
    assert Issue.objects.get().status == Issue.Status.SENDING
    assert digest_tasks() == 1
    task = DBTaskResult.objects.get(queue_name="digest")
    assert task.task_path.endswith("send_issue_task")


def test_a_missed_trigger_is_made_up_by_the_next_tick(fresh_tool):
    # No tick on Thursday at all; the first one comes Sunday night.
    periodic.tick(dt.datetime(2026, 11, 29, 23, 59, tzinfo=dt.UTC))
    assert Issue.objects.filter(iso_year=2026, iso_week=48).exists()


def test_next_week_gets_its_own_issue_and_this_week_is_not_repeated(fresh_tool):
    periodic.tick(DUE)
    make_tool("next-agent", created=DUE + dt.timedelta(days=3))
    periodic.tick(DUE + dt.timedelta(days=7))
    periodic.tick(DUE + dt.timedelta(days=7, hours=1))
    weeks = sorted(Issue.objects.values_list("iso_week", flat=True))
    assert weeks == [48, 49]
    week49 = Issue.objects.get(iso_week=49)
    assert [s.heading for s in week49.sections.filter(kind="tool")] == ["Next Agent by Acme"]


def test_editor_approval_is_picked_up_by_the_tick(fresh_tool, django_capture_on_commit_callbacks):
    periodic.tick(DUE)
    Issue.objects.update(status=Issue.Status.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        assert "sending 2026-w48" in periodic.tick(DUE + dt.timedelta(hours=1))
    assert digest_tasks() == 1


def test_stalled_send_is_resumed_once(fresh_tool, django_capture_on_commit_callbacks):
    """An issue still sending that no task sends (its last run stopped early)."""
    periodic.tick(DUE)
    Issue.objects.update(status=Issue.Status.SENDING, send_enqueued_at=DUE - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert "resumed 2026-w48" in periodic.tick(DUE + dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert "resumed" not in periodic.tick(DUE + dt.timedelta(minutes=6))
    # Even long after, a resume task still waiting in the queue is not doubled.
    with django_capture_on_commit_callbacks(execute=True):
        assert "resumed" not in periodic.tick(DUE + dt.timedelta(hours=6))
    assert digest_tasks() == 1


def test_tick_is_registered_with_the_scheduler():
    from toolverdict.core.scheduling import periodic_jobs

    assert "toolverdict.digest.periodic.tick" in dict(periodic_jobs())


def test_addresses_never_confirmed_are_forgotten_after_30_days():
    from toolverdict.digest.models import Subscriber

    old = Subscriber.objects.create(email="old@example.com")
    recent = Subscriber.objects.create(email="recent@example.com")
    member = Subscriber.objects.create(
        email="member@example.com", status=Subscriber.Status.CONFIRMED, confirmed_at=DUE
    )
    Subscriber.objects.filter(pk__in=[old.pk, member.pk]).update(
        created_at=DUE - dt.timedelta(days=31)
    )
    Subscriber.objects.filter(pk=recent.pk).update(created_at=DUE - dt.timedelta(days=29))
    assert "forgot 1 unconfirmed address(es)" in periodic.tick(BEFORE_DUE)
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "recent@example.com",
        "member@example.com",
    }
