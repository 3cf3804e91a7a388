"""Stepwise reviews: one question per call, the same review shape, both gates applied."""

from __future__ import annotations

import json

import pytest

from toolverdict.panel.generation import style_for
from toolverdict.panel.models import Review
from toolverdict.panel.personas import load_personas
from toolverdict.panel.prompts import RULES, prompt_version
from toolverdict.panel.review_schema import ANSWER_MAX
from toolverdict.panel.services import panel_summaries, review_tools

from .fakes import ScriptedModel, StepwiseModel, stepwise_answer

pytestmark = pytest.mark.django_db


def test_one_call_per_question_each_with_the_same_opening(acme):
    model = StepwiseModel()
    review_tools([acme.pk], model)
    personas = load_personas()
    per_persona = [len(p.sections) for p in personas]
    assert len(model.requests) == sum(per_persona)  # no verdict call: the rubric decides

    builder = personas[0]
    first = model.requests[: per_persona[0]]
    # Every call shares the rules + dossier prefix; only the question block differs.
    assert {r.prompt.shared for r in model.requests} == {first[0].prompt.shared}
    assert first[0].prompt.shared.startswith(RULES)
    for request, section in zip(first, builder.sections, strict=True):
        block = request.prompt.persona_block
        assert block.startswith(builder.lens) and block.endswith(f"Question: {section.question}")
        assert "Your verdict, decided from the evidence: ship." in block
        assert list(request.schema["properties"]) == ["evidence", "answer"]
        # No answer sees another: a small model shown its earlier answers repeats them.
        assert request.prompt.history == ()
        assert [m.role for m in request.prompt.messages] == ["system", "user"]


def test_answers_are_checked_sentence_by_sentence(acme):
    answers = [
        "The Pro plan costs $20 per month.",
        "Acme Coder supports Python, Go and Rust.",
        "Its context window is 200,000 tokens.",
        "I would try it on a side project before betting a team on it.",
    ]

    def script(request, n):
        return json.dumps({"evidence": ["E3"], "answer": answers[(n - 1) % 4]})

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert review.status == Review.Status.PUBLISHED
    claims = list(review.claims.order_by("position"))
    assert [(c.section, c.text, c.support, c.evidence_ids) for c in claims] == [
        ("primitive", answers[0], "supported", ["E3"]),
        ("dx_bet", answers[1], "supported", ["E4"]),
        ("first_ten_minutes", answers[2], "supported", ["E1"]),
        ("decision", answers[3], "opinion", []),
    ]
    keys = ("primitive", "dx_bet", "first_ten_minutes", "decision")
    assert review.sections == dict(zip(keys, answers, strict=True))  # jsonb keeps no order
    assert review.input_tokens == 4 * 100 and review.output_tokens == 4 * 20


def test_an_answer_cut_by_the_length_limit_ends_on_its_last_sentence(acme):
    text = "I would bet on it. " + "It streams tokens fast and " * 20
    cut = text[:ANSWER_MAX]
    assert cut[-1].isalpha() and text[len(cut)].isalpha()  # cut mid-word at the limit

    review_tools([acme.pk], StepwiseModel(lambda r, n: stepwise_answer(r, answer=cut)))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert review.sections["primitive"] == "I would bet on it."
    assert review.status == Review.Status.PUBLISHED


@pytest.mark.parametrize(
    "answer",
    [
        "Bolt IDE and Acme Coder compete for the same terminal users",
        "Bolt IDE costs $30 per seat/month (E6)",
    ],
)
def test_an_answer_about_another_tool_gets_its_stop_and_stays_off_the_page(acme, answer):
    review_tools([acme.pk], StepwiseModel(lambda r, n: stepwise_answer(r, answer=answer)))
    review = Review.objects.get(tool=acme, persona="skeptic", is_current=True)
    first = review.claims.order_by("position").first()
    assert first.text == answer + "."
    assert (first.support, first.problems) == ("unsupported", ["about another tool: Bolt IDE"])
    assert review.sections == {} and review.status == Review.Status.PUBLISHED


def test_non_answers_are_not_published(acme, client):
    def script(request, n):
        return stepwise_answer(request, answer="Not specified in the evidence.")

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert review.status == Review.Status.PUBLISHED and review.sections == {}
    assert review.claims.first().problems == ["not an answer"]
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "Not specified in the evidence." not in html
    assert "sentences the claim check did not publish" in html


def test_gibberish_is_not_published(acme, client):
    def script(request, n):
        return stepwise_answer(request, answer="survival_moat-buyer,budgetpayershould.")

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="skeptic", is_current=True)
    assert review.claims.first().problems[0].startswith("not readable: snake_case fragment")
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "budgetpayershould" not in html


def test_a_bad_answer_fails_the_review_and_keeps_its_cost(acme):
    def script(request, n):
        return "not json" if n == 2 else stepwise_answer(request)

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert review.status == Review.Status.FAILED
    assert review.problem.startswith("answer to 'dx_bet' is not JSON")
    assert review.output_tokens == 2 * 20  # both calls made are accounted for


def test_style_follows_backend_and_setting(settings):
    assert style_for(ScriptedModel()) == "whole"
    assert style_for(StepwiseModel()) == "stepwise"
    settings.TOOLVERDICT_PANEL_STYLE = "stepwise"
    assert style_for(ScriptedModel()) == "stepwise"
    settings.TOOLVERDICT_PANEL_STYLE = "chatty"
    with pytest.raises(ValueError, match="TOOLVERDICT_PANEL_STYLE"):
        style_for(ScriptedModel())


def test_style_is_part_of_the_reuse_key():
    persona = load_personas()[0]
    assert prompt_version(persona, "stepwise") != prompt_version(persona, "whole")
    assert len(prompt_version(persona, "stepwise")) <= 20


def test_ship_percentage_needs_three_published_reviews(acme, client):
    def script(request, n):
        # The Futurist's and the Buyer's answers cannot be read: their reviews fail.
        text = request.prompt.persona_block.lower()
        return "not json" if ("futurist" in text or "buyer" in text) else stepwise_answer(request)

    review_tools([acme.pk], StepwiseModel(script))
    summary = panel_summaries([acme])[acme.pk]
    assert summary.valid == 2 and len(summary.reviews) == 4
    assert summary.ship_pct is None
    assert summary.ship_label == "too few published reviews (2 of 4 reviewers)"
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "2 of 4 reviewers published, too few for a panel percentage" in html
    assert "% Panel ship" not in html
    api = client.get(f"/api/tools/{acme.slug}").json()
    assert (api["panel_ship_pct"], api["panel_reviews"], api["panel_reviewers"]) == (None, 2, 4)
