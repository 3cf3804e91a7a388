"""The verdict stage: persona rubrics over computed findings decide ship, skip or "not
enough evidence", whatever the model, the seed or the order of the evidence."""

from __future__ import annotations

import pytest

from tests.panel.fakes import ScriptedModel, review_json
from toolverdict.catalog.importer import import_path
from toolverdict.catalog.models import Fact, PricePoint, Tool
from toolverdict.panel.dossier import build_dossier
from toolverdict.panel.evaluation import EVAL_CATALOG, load_traps, panel_enqueue_muted
from toolverdict.panel.personas import load_personas
from toolverdict.panel.rubric import decide
from toolverdict.panel.services import _tools, review_tools

pytestmark = pytest.mark.django_db


@pytest.fixture
def eval_catalog(db):
    with panel_enqueue_muted():
        import_path(EVAL_CATALOG)


def verdicts(slug: str) -> dict[str, str]:
    dossier = build_dossier(_tools([Tool.objects.get(slug=slug).pk])[0])
    return {p.name: decide(dossier, p).verdict for p in load_personas()}


def test_the_plain_cases_get_their_expected_verdicts(eval_catalog):
    traps = load_traps()
    plain = {slug: t.expected for slug, t in traps.tools.items() if t.expected}
    assert set(plain) == {"fernwood-8b", "gilded-oracle", "nimbus-soon"}
    for slug, expected in plain.items():
        got = verdicts(slug)
        assert {p: got[p] for p in expected} == expected, slug


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_of_the_evidence_changes_no_verdict(eval_catalog, seed):
    from toolverdict.panel.evaluation import shuffle_evidence

    ids = list(Tool.objects.values_list("pk", flat=True))
    before = {t.slug: verdicts(t.slug) for t in Tool.objects.all()}
    shuffle_evidence(ids, seed)
    assert {t.slug: verdicts(t.slug) for t in Tool.objects.all()} == before


def test_a_model_saying_ship_to_everything_changes_no_verdict(eval_catalog):
    gilded = Tool.objects.get(slug="gilded-oracle")

    def say_ship(request, n):
        assert "verdict" not in request.schema["properties"]  # never asked for one
        return review_json("ship", schema=request.schema)

    outcomes = review_tools([gilded.pk], ScriptedModel(say_ship))
    assert {o.persona: o.verdict for o in outcomes} == verdicts("gilded-oracle")
    assert {o.verdict for o in outcomes} == {"skip"}


def test_a_judging_model_is_shown_beside_the_rubric(eval_catalog, settings):
    settings.TOOLVERDICT_PANEL_JUDGE = "model"
    gilded = Tool.objects.get(slug="gilded-oracle")
    review_tools(
        [gilded.pk],
        ScriptedModel(lambda r, n: review_json("ship", reason="I would ship it.", schema=r.schema)),
    )
    review = gilded.panel_reviews.get(persona="buyer", is_current=True)
    assert (review.verdict, review.rubric_verdict) == ("ship", "skip")


def test_points_say_why_with_numbers_and_evidence(eval_catalog):
    dossier = build_dossier(_tools([Tool.objects.get(slug="gilded-oracle").pk])[0])
    buyer = next(p for p in load_personas() if p.name == "Buyer")
    decision = decide(dossier, buyer)
    points = {p.signal: p for p in decision.points}
    assert {"far_pricier", "no_api", "no_tool_use"} <= set(points)
    price = points["far_pricier"]
    assert price.weight < 0 and "$30" in price.text and "times that median" in price.text
    assert price.evidence_ids[0].startswith("C") and "E3" in price.evidence_ids
    assert decision.reason.startswith("Against it: at least three times")


def test_a_tool_with_unknown_pricing_and_one_fact_is_not_enough_evidence(eval_catalog):
    nimbus = Tool.objects.get(slug="nimbus-soon")
    Tool.objects.filter(pk=nimbus.pk).update(pricing="unknown")
    dossier = build_dossier(_tools([nimbus.pk])[0])
    assert "Pricing model: not stated." in dossier.get("E1").text
    assert set(verdicts("nimbus-soon").values()) == {"insufficient"}
    outcomes = review_tools([nimbus.pk], ScriptedModel())
    assert {o.verdict for o in outcomes} == {"insufficient"}


def test_a_peers_price_moves_the_finding_and_can_flip_the_verdict(eval_catalog):
    assert verdicts("gilded-oracle")["Buyer"] == "skip"
    PricePoint.objects.filter(tool__category__slug="eval-model-apis").exclude(
        tool__slug="gilded-oracle"
    ).update(amount=100)
    Fact.objects.filter(tool__slug="gilded-oracle").delete()
    assert verdicts("gilded-oracle")["Buyer"] == "ship"  # now the cheapest by a wide margin


def test_outdated_reviews_are_found_in_queries_that_do_not_grow_with_the_tools(
    starter_catalog, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from toolverdict.panel.tasks import outdated_tool_ids

    settings.TOOLVERDICT_PANEL_MODEL = "python:tests.panel.fakes.ScriptedModel"
    ids = list(Tool.objects.order_by("pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as few:
        assert outdated_tool_ids(ids[:3]) == ids[:3]  # nothing reviewed yet
    with CaptureQueriesContext(connection) as many:
        assert outdated_tool_ids(ids) == ids
    assert len(many.captured_queries) == len(few.captured_queries)
