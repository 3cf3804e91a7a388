"""The daily pipeline end to end with the real panel and the bundled local model.

A feed on loopback announces one new developer tool; the run imports it, the panel (the
bundled SmolLM2 model, for real) reviews it, the pipeline pairs it with its closest
published rival, publishes it, and the "A vs B" page shows both tools with the panel.
"""

from __future__ import annotations

import datetime as dt

import pytest

from toolverdict.catalog.models import Tool
from toolverdict.ingest import pipeline
from toolverdict.ingest.models import DailyComparison, Feed, RunStatus

from .conftest import rss

pytestmark = [pytest.mark.model, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _small_bundled_model(settings):
    # The small bundled model keeps these pipeline tests quick; the default reviewer
    # (Qwen2.5-Coder-1.5B) runs for real in tests/panel.
    settings.TOOLVERDICT_PANEL_MODEL = "local:smollm2"


def test_pipeline_reviews_pairs_and_publishes_with_the_bundled_model(
    starter_catalog, feed_server, client
):
    from toolverdict.panel import services as panel_services

    assert hasattr(panel_services, "review_tools"), "the panel's review_tools is missing"
    url = feed_server.add(
        "/launches.xml",
        rss(
            [
                (
                    "Introducing Pairwise: an AI code review assistant",
                    "https://pairwise.example/",
                    "Pairwise reviews pull requests and explains each comment. "
                    "It runs in the terminal and in GitHub Actions.",
                )
            ]
        ),
    )
    Feed.objects.create(
        name="Launches", url=url, category_id=Tool.objects.get(slug="aider").category_id
    )

    run = pipeline.run_pipeline(dt.date(2026, 11, 24))

    assert run.status == RunStatus.DONE, run.error
    assert (run.imported, run.reviewed, run.published) == (1, 1, 1)
    # The panel ran (a small model may fail a persona; that is recorded, not fatal).
    assert run.panel_note == "" or run.panel_note.endswith("persona reviews failed")
    tool = Tool.objects.get(slug="pairwise")
    assert tool.is_published
    summary = panel_services.panel_summaries([tool])[tool.pk]
    # Every persona stored a review. A feed entry alone (a name, a tagline, the
    # announcement) is not enough evidence to judge: no confident verdict, no ship %.
    assert len(summary.reviews) == 4
    assert {card.verdict for card in summary.reviews.values()} == {"insufficient"}
    assert summary.ship_pct is None and summary.not_enough_evidence

    pair = DailyComparison.objects.get(run=run, tool=tool)
    assert pair.rival.category_id == tool.category_id and pair.rival.is_published
    page = client.get(pair.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pairwise" in html and pair.rival.name in html
    for persona in summary.reviews:
        assert persona in html  # the scorecard shows the new tool's panel


def test_approved_submission_gets_a_real_panel_and_a_comparison(
    starter_catalog, client, django_user_model, immediate_tasks
):
    """Submission → moderation → published, reviewed by the bundled model, paired."""
    from django.urls import reverse

    from toolverdict.catalog.models import Category
    from toolverdict.ingest.models import Submission, SubmissionStatus
    from toolverdict.panel import services as panel_services

    client.post(
        reverse("ingest:submit"),
        {
            "name": "Vecto",
            "vendor": "Vecto Labs",
            "homepage": "https://vecto.example/",
            "category": str(Category.objects.get(slug="vector-databases").pk),
            "pricing": "open-weights",
            "tagline": "Embedded vector search for SQLite files",
            "description": "Vecto stores embeddings inside an SQLite file and searches them.",
            "facts_text": "License: Apache-2.0 | https://vecto.example/license",
        },
    )
    submission = Submission.objects.get(status=SubmissionStatus.PENDING)
    client.force_login(django_user_model.objects.create_user("ed", password="pw", is_staff=True))
    client.post(reverse("ingest:moderate", args=[submission.pk, "approve"]))

    submission.refresh_from_db()
    tool = submission.tool
    assert submission.status == SubmissionStatus.APPROVED and tool.is_published
    summary = panel_services.panel_summaries([tool])[tool.pk]
    assert len(summary.reviews) == 4  # the follow-up task ran the real panel
    pair = DailyComparison.objects.get(tool=tool)
    assert pair.source == "submission" and pair.rival.category.slug == "vector-databases"
    html = client.get(pair.get_absolute_url()).content.decode()
    assert "Vecto" in html and pair.rival.name in html
