"""Stepwise reviews: one question per call, the same review shape, both gates applied."""

from __future__ import annotations

import json

import pytest

from toolverdict.panel.generation import style_for
from toolverdict.panel.models import Claim, Review
from toolverdict.panel.personas import load_personas
from toolverdict.panel.prompts import RULES, prompt_version
from toolverdict.panel.review_schema import ANSWER_MAX
from toolverdict.panel.services import panel_summaries, review_tools

from .fakes import ScriptedModel, StepwiseModel, stepwise_answer

pytestmark = pytest.mark.django_db


def test_one_call_per_question_then_the_verdict(acme):
    model = StepwiseModel()
    review_tools([acme.pk], model)
    personas = load_personas()
    per_persona = [len(p.sections) + 1 for p in personas]
    assert len(model.requests) == sum(per_persona)

    builder = personas[0]
    first = model.requests[: per_persona[0]]
    # Every call shares the rules + dossier prefix; only the question block differs.
    assert {r.prompt.shared for r in model.requests} == {first[0].prompt.shared}
    assert first[0].prompt.shared.startswith(RULES)
    for request, section in zip(first, builder.sections, strict=False):
        assert f"Question: {section.question}" in request.prompt.persona_block
        assert list(request.schema["properties"]) == ["kind", "evidence", "answer"]
    # One conversation: each call extends the previous one by its answer and a question.
    assert builder.lens in first[0].prompt.persona_block
    assert builder.lens not in first[1].prompt.persona_block
    for previous, request in zip(first, first[1:], strict=False):
        assert request.prompt.history[: len(previous.prompt.history)] == previous.prompt.history
        assert request.prompt.history[-2].content == previous.prompt.persona_block
        assert request.prompt.persona_text == first[0].prompt.persona_block
    closing = first[-1]
    assert list(closing.schema["properties"]) == ["reason", "verdict"]
    assert len(closing.prompt.history) == 2 * len(builder.sections)
    assert "Tool use lets developers call" in closing.prompt.history[-1].content
    roles = [m.role for m in closing.prompt.messages]
    assert roles == ["system"] + ["user", "assistant"] * len(builder.sections) + ["user"]


def test_answers_become_sections_and_claims(acme):
    def script(request, n):
        if "answer" in request.schema["properties"]:
            return json.dumps(
                {"kind": "fact", "evidence": ["E3"], "answer": "The Pro plan costs $20 per month."}
            )
        return stepwise_answer(request)

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert review.status == Review.Status.PUBLISHED
    assert set(review.sections) == {"primitive", "dx_bet", "first_ten_minutes", "decision"}
    claims = list(review.claims.order_by("position"))
    assert [c.text for c in claims] == list(review.sections.values())
    assert all(c.support == Claim.Support.SUPPORTED and c.evidence_ids == ["E3"] for c in claims)
    assert review.support_rate == 1.0
    assert review.input_tokens == 5 * 100 and review.output_tokens == 5 * 20


def test_an_answer_cut_by_the_length_limit_ends_on_its_last_sentence(acme):
    text = "Tool use is the primitive. " + "It streams tokens fast and " * 20
    cut = text[:ANSWER_MAX]
    assert cut[-1].isalpha() and text[len(cut)].isalpha()  # cut mid-word at the limit

    review_tools([acme.pk], StepwiseModel(lambda r, n: stepwise_answer(r, answer=cut)))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert set(review.sections.values()) == {"Tool use is the primitive."}
    assert review.status == Review.Status.PUBLISHED


@pytest.mark.parametrize(
    "answer",
    [
        "Bolt IDE and Acme Coder compete for the same terminal users",
        "Bolt IDE costs $30 per seat/month (E6)",
    ],
)
def test_an_answer_closed_before_the_limit_is_complete_and_gets_its_stop(acme, answer):
    review_tools([acme.pk], StepwiseModel(lambda r, n: stepwise_answer(r, answer=answer)))
    review = Review.objects.get(tool=acme, persona="skeptic", is_current=True)
    assert set(review.sections.values()) == {answer + "."}
    assert review.status == Review.Status.PUBLISHED


def test_non_answers_withhold_with_their_own_public_sentence(acme, client):
    def script(request, n):
        return stepwise_answer(request, answer="Not specified in the evidence.")

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="builder", is_current=True)
    assert review.status == Review.Status.WITHHELD
    assert review.withheld_gate == Review.Gate.NON_ANSWERS
    assert review.problem.startswith("did not answer: primitive, dx_bet")
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "Withheld: the review did not answer its questions" in html
    assert "Not specified in the evidence." not in html


def test_gibberish_withholds_as_unreadable(acme, client):
    def script(request, n):
        return stepwise_answer(request, answer="survival_moat-buyer,budgetpayershould.")

    review_tools([acme.pk], StepwiseModel(script))
    review = Review.objects.get(tool=acme, persona="skeptic", is_current=True)
    assert (review.status, review.withheld_gate) == ("withheld", "unreadable")
    assert "snake_case fragment 'survival_moat'" in review.problem
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "Withheld: parts of the review were not readable text" in html
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
    verdicts = iter(["ship", "ship", "skip", "ship"])
    state = {"verdict": "ship"}

    def script(request, n):
        if "verdict" in request.schema["properties"]:
            state["verdict"] = next(verdicts)
        # The Futurist and Buyer dodge every question: withheld.
        dodge = "futurist" in request.prompt.persona_text.lower() or (
            "buyer" in request.prompt.persona_text.lower()
        )
        return stepwise_answer(
            request, answer="None provided." if dodge else "", verdict=state["verdict"]
        )

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
