"""The seed pair is reviewed first; the panel's progress on the home page and `status`."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from toolverdict.catalog.importer import import_path
from toolverdict.catalog.models import Tool
from toolverdict.panel.models import Review
from toolverdict.panel.progress import (
    duration_text,
    panel_progress,
    persona_slugs,
    short_duration,
)
from toolverdict.panel.tasks import FIRST_PRIORITY, enqueue_reviews, queue_backlog

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["panel"]}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["panel"]}}
FAKE_MODEL = "python:tests.panel.fakes.ScriptedModel"
SEED = ["claude-4-sonnet", "smolvlm-2-5"]


def claim_order() -> list[int]:
    """Tool ids of the ready panel tasks in the order db_worker claims them."""
    # db_worker takes DBTaskResult.objects.ready()...first(): the model's Meta ordering.
    return [r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready()]


def ids(*slugs: str) -> list[int]:
    by_slug = dict(Tool.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    return [by_slug[s] for s in slugs]


def review(tool: Tool, persona: str, *, latency_ms: int = 1000, **fields) -> Review:
    defaults = {
        "persona_name": persona.title(),
        "status": Review.Status.PUBLISHED,
        "verdict": "ship",
        "model_id": "test:hand",
        "prompt_version": "v1",
        "dossier_hash": fields.pop("dossier_hash", "h1"),
    }
    return Review.objects.create(
        tool=tool, persona=persona, latency_ms=latency_ms, **(defaults | fields)
    )


def review_fully(tool: Tool, seconds: float, **fields) -> None:
    slugs = persona_slugs()
    for slug in slugs:
        review(tool, slug, latency_ms=round(seconds * 1000 / len(slugs)), **fields)


def run(task_id) -> None:
    DBTaskResult.objects.filter(pk=task_id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(seconds=30)
    )


# --- the seed pair first ----------------------------------------------------------------


def test_the_seed_pair_is_a_setting_of_the_seed_comparison(settings):
    assert settings.TOOLVERDICT_PANEL_FIRST == SEED


def test_enqueued_seed_tools_are_claimed_first_whatever_the_input_order(settings, starter_catalog):
    settings.TASKS = DATABASE
    everything = list(Tool.objects.order_by("pk").values_list("pk", flat=True))
    seed = ids(*SEED)
    assert everything[:2] == seed  # the catalog lists them first; reverse that
    results = enqueue_reviews(reversed(everything))
    assert [r.args[0] for r in results] == everything[::-1]  # input order kept
    order = claim_order()
    assert order[:2] == seed
    assert order[2:] == [i for i in everything[::-1] if i not in seed]
    priorities = dict(DBTaskResult.objects.values_list("args_kwargs__args__0", "priority"))
    assert [priorities[i] for i in seed] == [FIRST_PRIORITY + 1, FIRST_PRIORITY]
    assert {p for i, p in priorities.items() if i not in seed} == {0}


def test_without_priorities_the_seed_tools_are_still_queued_first(settings, starter_catalog):
    settings.TASKS = DUMMY
    from django_tasks import default_task_backend

    everything = list(Tool.objects.order_by("-pk").values_list("pk", flat=True))
    enqueue_reviews(everything)
    queued = [r.args[0] for r in default_task_backend.results]
    assert queued[:2] == ids(*SEED)
    assert sorted(queued) == sorted(everything)


@pytest.mark.django_db(transaction=True)
def test_after_a_fresh_import_the_worker_reviews_the_seed_pair_first(settings):
    settings.TASKS = DATABASE
    settings.TOOLVERDICT_PANEL_MODEL = FAKE_MODEL
    # The last two tools of the starter catalog, so file order cannot be what puts them first.
    settings.TOOLVERDICT_PANEL_FIRST = ["stable-diffusion-3-5", "elevenlabs"]
    import_path(settings.TOOLVERDICT_STARTER_CATALOG)  # its signal queues every tool
    assert DBTaskResult.objects.ready().count() == 30
    backlog = queue_backlog()  # what `toolverdict up` runs before starting the worker
    assert backlog.queued == 0  # every tool already has a task
    assert claim_order()[:2] == ids("stable-diffusion-3-5", "elevenlabs")
    call_command(
        "db_worker", queue_name="*", max_tasks=2, startup_delay=False, interval=0, verbosity=0
    )
    reviewed = list(Review.objects.order_by("pk").values_list("tool__slug", flat=True))
    assert reviewed == ["stable-diffusion-3-5"] * 4 + ["elevenlabs"] * 4
    assert DBTaskResult.objects.ready().count() == 28
    progress = panel_progress()
    assert (progress.reviewed, progress.total, progress.queued) == (2, 30, 28)


def test_backlog_queues_unreviewed_tools_that_have_no_task(settings, sample_catalog):
    settings.TASKS = DATABASE
    acme, bolt = sample_catalog["acme-coder"], sample_catalog["bolt-ide"]
    assert queue_backlog().queued == 2  # nothing reviewed, nothing queued
    assert queue_backlog().queued == 0  # both are waiting now
    DBTaskResult.objects.all().delete()
    review_fully(acme, 60)
    assert queue_backlog().queued == 1
    assert claim_order() == [bolt.pk]
    # A failed review is retried; a tool whose task is running is left alone.
    DBTaskResult.objects.all().delete()
    Review.objects.filter(tool=acme, persona=persona_slugs()[0]).update(status="failed")
    run(enqueue_reviews([bolt.pk])[0].id)
    assert queue_backlog().queued == 1
    assert claim_order() == [acme.pk]


def test_backlog_moves_waiting_seed_tasks_to_the_front(settings, starter_catalog):
    settings.TASKS = DATABASE
    from toolverdict.panel.tasks import review_tool

    for pk in Tool.objects.order_by("-pk").values_list("pk", flat=True):
        review_tool.enqueue(pk)  # as queued before priorities, seed tools last
    assert claim_order()[-2:] == ids(*SEED)[::-1]
    assert queue_backlog().prioritised == 2
    assert claim_order()[:2] == ids(*SEED)
    assert queue_backlog().prioritised == 0


# --- progress -----------------------------------------------------------------------------


def test_progress_counts_reviewed_tools_and_measures_the_speed(
    settings, starter_catalog, django_assert_num_queries
):
    settings.TASKS = DATABASE
    tools = list(Tool.objects.order_by("pk"))
    for tool, seconds in zip(tools[:3], (80, 100, 120), strict=True):
        review_fully(tool, seconds)
    # An older, slow review that is no longer current does not count.
    review(tools[0], persona_slugs()[0], latency_ms=900_000, is_current=False, dossier_hash="old")
    review(tools[3], persona_slugs()[0], latency_ms=50_000)  # one persona of four: not done
    Tool.objects.filter(pk=tools[-1].pk).update(is_published=False)

    progress = panel_progress()
    assert (progress.total, progress.reviewed, progress.remaining) == (29, 3, 26)
    assert progress.seconds_per_tool == pytest.approx(100)
    assert progress.queued == 0 and progress.current is None
    assert progress.eta_seconds is None  # nothing queued: no promise

    results = enqueue_reviews([t.pk for t in tools[3:-1]])
    run(results[0].id)  # a worker is on tools[3]
    with django_assert_num_queries(5):
        progress = panel_progress()
    assert progress.current == tools[3].name
    assert progress.current_slug == tools[3].slug
    assert progress.queued == 25
    # 26 tools at 100 s, less the 30 s the running one has had.
    assert progress.eta_seconds == pytest.approx(26 * 100 - 30, abs=2)
    assert progress.eta_text == "43 minutes"


def test_progress_before_anything_is_measured(settings, sample_catalog):
    settings.TASKS = DATABASE
    enqueue_reviews([t.pk for t in sample_catalog.values()])
    progress = panel_progress()
    assert (progress.reviewed, progress.total, progress.queued) == (0, 2, 2)
    assert progress.seconds_per_tool is None and progress.eta_seconds is None
    assert not progress.done


def test_brief_progress_is_one_query_once_done(sample_catalog, django_assert_num_queries):
    for tool in sample_catalog.values():
        review_fully(tool, 40, status=Review.Status.FAILED, verdict="")
    with django_assert_num_queries(1):
        progress = panel_progress(brief=True)
    assert progress.done and progress.reviewed == 2 and progress.failed == 2


def test_the_summary_line_shows_sub_ten_second_speeds_with_a_decimal():
    from toolverdict.panel.progress import PanelProgress

    fast = PanelProgress(total=30, reviewed=3, queued=27, seconds_per_tool=0.03, eta_seconds=0.8)
    assert fast.summary() == "3 of 30 tools reviewed · 27 queued · ~<1 min left at ~0.0 s per tool"
    slow = PanelProgress(total=3, reviewed=3, seconds_per_tool=94.6)
    assert slow.summary() == "3 of 3 tools reviewed · ~95 s per tool · done"


@pytest.mark.parametrize(
    ("seconds", "prose", "short"),
    [
        (12, "under a minute", "<1 min"),
        (60, "1 minute", "1 min"),
        (38 * 60 - 5, "38 minutes", "38 min"),
        (125 * 60, "2 hours 5 minutes", "2 h 5 min"),
        (120 * 60, "2 hours", "2 h"),
    ],
)
def test_durations(seconds, prose, short):
    assert duration_text(seconds) == prose
    assert short_duration(seconds) == short


# --- status command and home page ---------------------------------------------------------


@pytest.fixture
def half_done(settings, sample_catalog):
    """Acme reviewed at 95 s per tool; a worker on Bolt IDE since 30 s ago."""
    settings.TASKS = DATABASE
    review_fully(sample_catalog["acme-coder"], 95)
    run(enqueue_reviews([sample_catalog["bolt-ide"].pk])[0].id)
    return sample_catalog


def test_status_prints_the_progress(half_done):
    out = StringIO()
    call_command("status", stdout=out)
    text = " ".join(out.getvalue().split())
    assert text == (
        "Panel: 1 of 2 tools reviewed · in progress: Bolt IDE · ~2 min left at ~95 s per tool"
    )


def test_status_json(half_done):
    out = StringIO()
    call_command("status", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["total"] == 2 and data["reviewed"] == 1 and data["remaining"] == 1
    assert data["current"] == "Bolt IDE" and data["current_slug"] == "bolt-ide"
    assert data["queued"] == 0 and data["done"] is False
    assert data["seconds_per_tool"] == pytest.approx(95)
    assert data["eta_seconds"] == pytest.approx(65, abs=2)


def test_status_keeps_tool_names_literal_and_says_when_nothing_is_queued(settings, sample_catalog):
    settings.TASKS = DATABASE
    Tool.objects.filter(slug="bolt-ide").update(name="[red]Bolt[/red]")
    run(enqueue_reviews([sample_catalog["bolt-ide"].pk])[0].id)
    out = StringIO()
    call_command("status", stdout=out)
    assert "in progress: [red]Bolt[/red]" in out.getvalue()
    DBTaskResult.objects.all().delete()
    out = StringIO()
    call_command("status", stdout=out)
    text = " ".join(out.getvalue().split())
    assert text.startswith("Panel: 0 of 2 tools reviewed 2 tool(s) are not reviewed")
    assert "toolverdict review --all --queue" in text


def test_status_when_done(sample_catalog):
    for tool in sample_catalog.values():
        review_fully(tool, 50)
    out = StringIO()
    call_command("status", stdout=out)
    assert " ".join(out.getvalue().split()) == (
        "Panel: 2 of 2 tools reviewed · ~50 s per tool · done"
    )


def test_home_page_shows_the_progress_until_the_panel_is_done(client, half_done):
    Tool.objects.filter(slug="bolt-ide").update(name="<b>Bolt</b> & co")
    body = client.get("/").content.decode()
    assert (
        "The panel has reviewed 1 of 2 tools; reviewing &lt;b&gt;Bolt&lt;/b&gt; &amp; co now; "
        "about 2 minutes to go."
    ) in body
    assert "<b>Bolt</b>" not in body
    review_fully(half_done["bolt-ide"], 95)
    DBTaskResult.objects.all().delete()
    body = client.get("/").content.decode()
    assert "The panel has reviewed" not in body
    assert 'class="panel-progress' not in body


def test_home_page_without_a_measured_speed_gives_no_time(client, settings, sample_catalog):
    from toolverdict.core.heartbeat import Heartbeat

    settings.TASKS = DATABASE
    enqueue_reviews([t.pk for t in sample_catalog.values()])
    Heartbeat("w1", "panel").register()  # a worker is alive
    body = client.get("/").content.decode()
    assert "The panel has reviewed 0 of 2 tools.</p>" in body


def test_with_no_worker_running_the_pages_say_reviews_wait_for_one(
    client, settings, starter_catalog
):
    settings.TASKS = DATABASE
    tools = list(Tool.objects.order_by("pk"))
    review_fully(tools[0], 100)
    enqueue_reviews([t.pk for t in tools[1:]])
    progress = panel_progress()
    assert progress.waiting_for_worker and progress.eta_seconds is None
    assert "waiting for a task worker (none is running)" in progress.summary()
    body = client.get("/").content.decode()
    assert (
        "The panel has reviewed 1 of 30 tools; the rest wait for a task worker to start."
    ) in body
    assert "to go" not in body
