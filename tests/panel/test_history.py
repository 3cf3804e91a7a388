"""Verdict history: each panel generation kept, and what changed between generations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.panel.fakes import ScriptedModel, review_json
from toolverdict.panel import history
from toolverdict.panel.models import PanelSnapshot, Review
from toolverdict.panel.services import review_tools

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _model_judges(settings):
    """These tests script the verdicts: a hosted model judges (the rubric's outcome is kept
    beside it)."""
    settings.TOOLVERDICT_PANEL_JUDGE = "model"


def verdicts(ship_personas: set[str]):
    def script(request, n):
        persona = request.prompt.persona_block.split(":")[0].removeprefix("You are the ")
        verdict = "ship" if persona in ship_personas else "skip"
        return review_json(verdict, reason=f"{persona} says {verdict}.", schema=request.schema)

    return ScriptedModel(script)


def test_a_price_change_that_flips_the_verdict_shows_on_the_tool_page(client, acme):
    review_tools([acme.pk], verdicts(set()))
    assert PanelSnapshot.objects.filter(tool=acme).count() == 1
    # The same inputs again: reviews reused, nothing new to record.
    review_tools([acme.pk], verdicts(set()))
    assert PanelSnapshot.objects.filter(tool=acme).count() == 1
    assert history.verdict_history(acme) == []

    price = acme.price_points.get(tier="Pro")
    price.amount = Decimal("15")
    price.save()
    review_tools([acme.pk], verdicts({"Builder", "Skeptic", "Futurist", "Buyer"}))
    snapshots = list(PanelSnapshot.objects.filter(tool=acme).order_by("created_at"))
    assert [(s.ship, s.valid) for s in snapshots] == [(0, 4), (4, 4)]
    assert Review.objects.filter(tool=acme).count() == 8  # the old generation is kept

    [entry] = history.verdict_history(acme)
    assert entry.headline == "Skip → Ship"
    assert (entry.pct_before, entry.pct_after) == (0, 100)
    [change] = entry.changes
    assert change.label == "Pro"
    assert change.before.startswith("$20") and change.after.startswith("$15")
    assert change.sentence.startswith(f"{change.evidence_id} 'Pro' changed from $20")

    html = client.get(acme.get_absolute_url()).content.decode()
    assert "Verdict history" in html
    assert "<strong>Skip → Ship</strong> on" in html
    assert "&#x27;Pro&#x27; changed from $20" in html


def test_a_ship_share_change_without_a_dossier_change_says_so(client, acme):
    review_tools([acme.pk], verdicts({"Builder", "Skeptic", "Futurist"}))
    review_tools([acme.pk], verdicts({"Builder", "Skeptic"}), force=True)
    [entry] = history.verdict_history(acme)
    assert entry.headline == "Ship → Split"
    assert entry.changes == []
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "the dossier did not change: the reviews did" in html


def test_dossier_changes_match_items_by_label_not_position():
    before = [
        ["E1", "Catalog profile", "Name: A."],
        ["E2", "Price: Pro", "Pro: $20 (USD) per month"],
    ]
    after = [
        ["E1", "Catalog profile", "Name: A."],
        ["E2", "Price: Free", "Free: $0 (USD) per month"],
        ["E3", "Price: Pro", "Pro: $15 (USD) per month"],
    ]
    changes = history.dossier_changes(before, after)
    assert [c.sentence for c in changes] == [
        "E2 'Free' was added: $0 (USD) per month",
        "E3 'Pro' changed from $20 (USD) per month to $15 (USD) per month",
    ]
    removed = history.dossier_changes(after, before)
    assert "E2 'Free' was removed (was $0 (USD) per month)" in [c.sentence for c in removed]


def test_injected_tool_text_in_the_history_is_escaped(client, acme):
    review_tools([acme.pk], verdicts(set()))
    price = acme.price_points.get(tier="Pro")
    price.tier = '<img src=x onerror="alert(1)">'
    price.save()
    review_tools([acme.pk], verdicts({"Builder", "Skeptic", "Futurist", "Buyer"}))
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "Verdict history" in html
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
