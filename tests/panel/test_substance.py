"""The substance gate: non-answers and gibberish are caught, ordinary prose passes."""

from __future__ import annotations

import pytest

from toolverdict.panel.substance import (
    check_substance,
    end_on_sentence,
    gibberish_problems,
    is_non_answer,
)

NON_ANSWERS = [
    "None.",
    "None provided.",
    "N/A",
    "Not specified.",
    "Not specified in the evidence.",
    "No primitive given.",
    "No pricing details are provided.",
    "The dossier does not mention a free tier.",
    "The evidence doesn't say what the first ten minutes look like.",
    "There is no information about rate limits.",
    "It is not provided in the dossier.",
    "This is not in the evidence, so I cannot say.",
    "Unknown.",
]

ANSWERS = [
    "Tool use: it lets developers call their own functions from the model [E4].",
    "The primitive given by Claude 4 Sonnet is tool use, which allows developers to call "
    "developer-defined tools.",
    "None of its peers offers a 200,000-token context at this price.",
    "Installing with pip and running the first edit takes about four minutes.",
    "No-code builders will find it hard; it assumes a terminal.",
    "It breaks when a team needs on-premises hosting, which the evidence never offers.",
]


@pytest.mark.parametrize("text", NON_ANSWERS)
def test_non_answers_are_recognised(text):
    assert is_non_answer(text)


@pytest.mark.parametrize("text", ANSWERS)
def test_real_answers_are_not_non_answers(text):
    assert not is_non_answer(text)


GIBBERISH = [
    ("survival_moat-buyer,budgetpayershouldadisequallyfurthermore", "snake_case"),
    ("The budgetpayershouldadisequallyfurthermore plan wins.", "run-together"),
    ('It ships {"verdict": "ship"} today.', "debris"),
    ('The answer is "primitive": tool use.', "debris"),
    ("Cheap,fast and good.", "run together"),
    ("这个工具很好 and it is fast.", "another script"),
    ("It gives developers a strong prim", "cut off"),
]


@pytest.mark.parametrize(("text", "problem"), GIBBERISH)
def test_gibberish_is_named(text, problem):
    problems = gibberish_problems(text)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("text", ANSWERS)
def test_ordinary_prose_is_not_gibberish(text):
    assert gibberish_problems(text) == []


def test_evidence_citation_in_brackets_is_not_debris():
    assert gibberish_problems("The Pro plan costs $20 a month [E3].") == []


def test_text_is_cut_back_to_its_last_sentence():
    assert (
        end_on_sentence("It is fast. It is cheap. It is very relia") == "It is fast. It is cheap."
    )
    assert end_on_sentence("It is fast.") == "It is fast."
    assert end_on_sentence("  It   is fast!  ") == "It is fast!"
    # No complete sentence to fall back to: left as is, so the gate flags it.
    assert (
        end_on_sentence("It gives developers a strong prim") == "It gives developers a strong prim"
    )
    assert "cut off mid-sentence" in gibberish_problems(end_on_sentence("A strong prim"))


def test_one_non_answer_is_allowed_two_withhold():
    good = {"a": ANSWERS[0], "b": ANSWERS[2], "c": ANSWERS[3], "d": "None provided."}
    check = check_substance(reason="Ship it: tool use is the primitive.", sections=good)
    assert check.non_answers == ["d"] and check.publishable

    bad = good | {"c": "Not specified in the evidence."}
    check = check_substance(reason="Ship it: tool use is the primitive.", sections=bad)
    assert check.non_answers == ["c", "d"]
    assert not check.publishable
    assert check.withheld_reason == "did not answer: c, d"


def test_any_gibberish_withholds_and_names_where():
    sections = {"a": ANSWERS[0], "b": ANSWERS[2]}
    check = check_substance(reason="survival_moat-buyer,budget", sections=sections)
    assert not check.publishable
    assert check.gibberish[0].startswith("reason: snake_case fragment")

    check = check_substance(
        reason="A fine tool.", sections=sections, claims=["Tool use wins", ANSWERS[0]]
    )
    assert check.gibberish == ["claim 1: cut off mid-sentence"]
