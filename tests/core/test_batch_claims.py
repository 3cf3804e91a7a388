"""Batch jobs whose runs claim rows (the source checks, the enrichment re-reads) follow
core's long-job pattern: a claim records its run's task id; a dead run's claims are taken
at once by the next run, never a live run's however old; the recovery step lets go of a
dead run's own claims only; untracked claims (code outside any task) wait for
``TOOLVERDICT_TASK_ORPHAN_AFTER``. No clock lease."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from toolverdict.catalog.models import Category, Fact, Source, Tool
from toolverdict.core import recovery
from toolverdict.core.models import WorkerHeartbeat
from toolverdict.enrich.models import Enrichment
from toolverdict.enrich.periodic import claim_due as claim_tools
from toolverdict.enrich.tasks import enrich_due
from toolverdict.ingest.tasks import check_due_sources

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast(fast_workers):
    return fast_workers


def worker(worker_id: str, *, beat_ago: float = 0) -> None:
    at = timezone.now() - dt.timedelta(seconds=beat_ago)
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, host="another-machine", pid=1, started_at=at, beat_at=at
    )


def running(task, worker_id: str) -> str:
    """A run of ``task`` on ``worker_id``, as the worker leaves its row; its id."""
    result = task.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=[worker_id]
    )
    return str(result.id)


def claim_sources() -> list[str]:
    from toolverdict.catalog.sources import claim_due

    return claim_due(recovery.claims_free(check_due_sources), recovery.holder_id())


@pytest.fixture
def two_sources() -> list[Source]:
    category = Category.objects.create(slug="dev", name="Dev")
    tool = Tool.objects.create(
        slug="probe",
        name="Probe",
        vendor="P",
        category=category,
        tagline="t",
        homepage="https://probe.example/",
    )
    for i in range(2):
        Fact.objects.create(tool=tool, key=f"k{i}", value="v", source_url=f"https://s.example/{i}")
        Source.objects.create(url=f"https://s.example/{i}")
    return list(Source.objects.order_by("pk"))


@pytest.fixture
def two_tools() -> list[Enrichment]:
    category = Category.objects.create(slug="writing", name="Writing")
    rows = []
    for slug in ("a", "b"):
        tool = Tool.objects.create(
            slug=slug,
            name=slug.upper(),
            vendor="V",
            category=category,
            tagline="t",
            homepage=f"https://{slug}.example/",
        )
        rows.append(Enrichment.objects.create(tool=tool))
    return rows


def held_by(rows, holder: str, *, ago: float = 0) -> None:
    at = timezone.now() - dt.timedelta(seconds=ago)
    type(rows[0]).objects.filter(pk__in=[r.pk for r in rows]).update(
        claimed_by=holder, claimed_at=at
    )


JOBS = {
    "sources": (check_due_sources, "two_sources", claim_sources),
    "enrich": (enrich_due, "two_tools", claim_tools),
}


@pytest.mark.parametrize("job", JOBS)
def test_a_dead_runs_claims_are_taken_at_once(job, request):
    task, rows_fixture, claim = JOBS[job]
    rows = request.getfixturevalue(rows_fixture)
    worker("dead", beat_ago=60)
    held_by(rows, running(task, "dead"))  # claimed a second ago: no clock makes it stale
    assert len(claim()) == 2


@pytest.mark.parametrize("job", JOBS)
def test_a_live_runs_claims_are_never_taken_however_old(job, request):
    task, rows_fixture, claim = JOBS[job]
    rows = request.getfixturevalue(rows_fixture)
    worker("alive")
    held_by(rows, running(task, "alive"), ago=10 * 24 * 3600)
    assert claim() == []


@pytest.mark.parametrize("job", JOBS)
def test_an_untracked_claim_waits_for_the_orphan_bound(job, request, settings):
    _task, rows_fixture, claim = JOBS[job]
    rows = request.getfixturevalue(rows_fixture)
    held_by(rows, f"{recovery.UNTRACKED}x", ago=60)
    assert claim() == []
    held_by(rows, f"{recovery.UNTRACKED}x", ago=settings.TOOLVERDICT_TASK_ORPHAN_AFTER + 60)
    assert len(claim()) == 2


@pytest.mark.parametrize("job", JOBS)
def test_recovery_releases_only_the_dead_runs_own_claims(job, request):
    task, rows_fixture, _claim = JOBS[job]
    rows = request.getfixturevalue(rows_fixture)
    worker("dead", beat_ago=60)
    worker("alive")
    dead_run = running(task, "dead")
    held_by(rows[:1], dead_run)
    held_by(rows[1:], running(task, "alive"))
    assert recovery.recover_lost_tasks().requeued == 1
    model = type(rows[0])
    first, second = model.objects.get(pk=rows[0].pk), model.objects.get(pk=rows[1].pk)
    assert (first.claimed_by, first.claimed_at) == ("", None)
    assert second.claimed_by and second.claimed_at is not None
    assert DBTaskResult.objects.get(pk=dead_run).status == TaskResultStatus.READY
