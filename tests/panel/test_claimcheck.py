"""The claim check: each sentence labelled sourced, computed, opinion, contradicted or
unsupported. Cases come from the labelled set (data/claims_labelled.jsonl) and from the
failures read on published reviews."""

from __future__ import annotations

import json

import pytest

from toolverdict.panel.claimcheck import (
    COMPUTED,
    CONTRADICTED,
    OPINION,
    SUPPORTED,
    UNSUPPORTED,
    Context,
    Item,
    check_sentence,
    check_text,
    context_from_json,
)
from toolverdict.panel.evaluation import LABELLED_CLAIMS, claim_check_report
from toolverdict.panel.grounding import names_in

CLAUDE = Context(
    tool="Claude 4 Sonnet",
    vendor="Anthropic",
    other_tools=("Cursor", "Claude Code", "GitHub Copilot"),
    items={
        "E1": Item(
            "E1",
            "Name: Claude 4 Sonnet. Vendor: Anthropic. Category: Developer Tools. Pricing "
            "model: Paid. License: Proprietary. Context window: 1,000,000 tokens.",
            label="Catalog profile",
        ),
        "E2": Item(
            "E2",
            "Anthropic's hybrid reasoning model for coding and agents. It supports tool use.",
            "vendor",
            "Vendor's own description (untrusted text)",
        ),
        "E3": Item("E3", "API input: $3 (USD) per 1M input tokens", label="Price: API input"),
        "E4": Item("E4", "API output: $15 (USD) per 1M output tokens", label="Price: API output"),
        "E6": Item(
            "E6",
            "Agentic tool use: the model can call developer-defined tools",
            label="Fact: Tool use",
        ),
        "C1": Item(
            "C1",
            "Claude 4 Sonnet states tool calling; so do Claude Code, Cursor, GitHub Copilot "
            "(4 of the 7 Developer Tools tools in the catalog state it).",
            "computed",
        ),
        "C2": Item(
            "C2",
            "Claude 4 Sonnet is the only one of the 7 Developer Tools tools in the catalog "
            "that states API access.",
            "computed",
        ),
    },
)


def label(sentence: str, cites=(), ctx: Context = CLAUDE, earlier=()) -> str:
    return check_sentence(sentence, list(cites), ctx, list(earlier)).support


def test_a_restatement_is_sourced_with_the_items_that_state_it():
    result = check_sentence(
        "Claude 4 Sonnet costs $3 per 1M input tokens and $15 per 1M output tokens.", [], CLAUDE
    )
    assert (result.support, result.evidence_ids) == (SUPPORTED, ["E3", "E4"])
    assert label("It supports function calling.", ["E6"]) == SUPPORTED  # a paraphrase


@pytest.mark.parametrize(
    "sentence",
    [
        "It breaks when agentic tool use is not supported.",
        "Claude Code and Cursor support tool use, while Claude 4 Sonnet does not.",
        "Claude 4 Sonnet lacks function calling.",
    ],
)
def test_denying_a_stated_feature_is_contradicted(sentence):
    assert label(sentence) == CONTRADICTED


@pytest.mark.parametrize(
    "sentence",
    [
        "Claude 4 Sonnet costs $15 per 1M input tokens.",  # the output price as the input's
        "It has a context window of 200,000 tokens.",  # a number the evidence lacks
        "Claude 4 Sonnet is open source.",  # the licence says proprietary
        "Claude 4 Sonnet is released under the MIT licence.",
        "Claude 4 Sonnet is free.",  # priced, and paid
        "Claude 4 Sonnet is made by OpenAI.",
    ],
)
def test_a_different_number_licence_price_or_maker_is_contradicted(sentence):
    assert label(sentence) == CONTRADICTED


def test_a_comparison_is_published_only_when_a_finding_makes_it():
    result = check_sentence(
        "Claude 4 Sonnet is the only Developer Tools tool in the catalog that states API access.",
        [],
        CLAUDE,
    )
    assert (result.support, result.evidence_ids) == (COMPUTED, ["C2"])
    moat = (
        "There is a moat because Claude 4 Sonnet supports tool use, which is not available in "
        "other tools."
    )
    assert label(moat) in (UNSUPPORTED, CONTRADICTED)
    assert label("Claude 4 Sonnet is cheaper than its rivals.") == UNSUPPORTED


def test_a_superlative_the_finding_gives_another_place_is_contradicted():
    ctx = Context(
        tool="Quill Code",
        items={
            "C1": Item(
                "C1",
                "Quill Code's context window of 128,000 tokens is the 2nd largest of the 3 "
                "Coding Assistants tools that state one.",
                "computed",
            )
        },
    )
    assert label("Quill Code has the largest context window in its category.", ctx=ctx) == (
        CONTRADICTED
    )


def test_another_tools_facts_given_as_the_answer_are_not_published():
    result = check_sentence("Claude Code costs $20 per month.", [], CLAUDE)
    assert (result.support, result.reason) == (UNSUPPORTED, "about another tool: Claude Code")


def test_the_vendor_is_not_the_buyer():
    result = check_sentence("The buyer is Anthropic, and their budget pays for it.", [], CLAUDE)
    assert result.support == UNSUPPORTED and "vendor" in result.reason


def test_a_copy_of_the_vendors_text_is_not_an_answer():
    result = check_sentence("Anthropic's hybrid reasoning model for coding and agents.", [], CLAUDE)
    assert (result.support, result.reason) == (UNSUPPORTED, "copies the vendor's own text")


def test_a_repeat_within_a_review_is_not_published():
    first = "I would bet on it for agent-heavy products."
    labelled = check_text(f"{first} I would bet on it for agent-heavy products!", [], CLAUDE)
    assert [r.support for _, r in labelled] == [OPINION, UNSUPPORTED]
    assert labelled[1][1].reason == "repeats an earlier sentence"
    # Different numbers are different sentences, not repeats.
    assert (
        label("It costs $3 per 1M input tokens.", earlier=["It costs $15 per 1M output tokens."])
        == SUPPORTED
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "The dossier does not mention a free tier.",
        "E3 lists the price.",
        "Not specified in the evidence.",
        "Claude 4 Sonnet is Claude 4 Sonnet.",
        "I would wire it in by following the vendor's own description.",
    ],
)
def test_sentences_about_the_dossier_or_saying_nothing_are_not_answers(sentence):
    assert label(sentence) == UNSUPPORTED


def test_opinions_are_published_as_opinion_and_unhedged_claims_are_not():
    assert label("I would ship it for agent work if the token bill stays predictable.") == OPINION
    assert label("Enterprise teams pay for it through annual seat licences.") == UNSUPPORTED
    assert label("It requires significant computational resources to run.") == UNSUPPORTED


def test_an_opinion_cannot_carry_a_claim_of_its_own():
    # Read on a published review: the clause after "which" is a false claim, not a judgement.
    carried = (
        "I would wire in its tool calling, which runs inside your existing VS Code environment."
    )
    result = check_sentence(carried, [], CLAUDE)
    assert result.support == UNSUPPORTED and "carrying a claim" in result.reason
    kept = "I would ship it because it states tool calling, which I find compelling."
    assert label(kept) == OPINION


def test_a_missing_feature_presented_as_a_strength_is_not_published():
    ctx = Context(
        tool="Gilded Oracle",
        items={"E5": Item("E5", "No tool or function calling", label="Fact: Tool use")},
    )
    sentence = "The decision that makes it viable is not supporting tool calling."
    assert label(sentence, ctx=ctx) == UNSUPPORTED


def test_saying_verified_needs_an_editors_verification():
    assert label("I verified that it supports tool use.") == UNSUPPORTED


def test_check_claims_input_lines_read_labels_kinds_and_the_profile():
    ctx = context_from_json(
        {
            "tool": "Pinecone",
            "evidence": {
                "E1": "Catalog profile — Name: Pinecone. Vendor: Pinecone Systems. Pricing "
                "model: Freemium. License: Proprietary.",
                "E2": "Vendor's own description (untrusted text) — The vector database.",
                "E5": "Fact: Open source — No, proprietary managed service",
                "C1": "A computed comparison.",
            },
        }
    )
    assert (ctx.vendor, ctx.pricing, ctx.licence) == ("Pinecone Systems", "freemium", "Proprietary")
    assert [ctx.items[k].kind for k in ("E1", "E2", "E5", "C1")] == [
        "fact",
        "vendor",
        "fact",
        "computed",
    ]
    assert ctx.features["open"] is False
    assert label("Pinecone is open source.", ctx=ctx) == CONTRADICTED
    assert label("Pinecone is not open source.", ctx=ctx) == SUPPORTED


def test_names_in_reads_possessives_as_the_name():
    assert names_in("It beats QuillCoder's price.") == ["QuillCoder"]


def test_the_labelled_set_is_valid_data():
    labels = {
        "true_restatement",
        "true_comparison",
        "false",
        "contradicts",
        "not_an_answer",
        "opinion",
    }
    rows = [json.loads(line) for line in LABELLED_CLAIMS.read_text().splitlines() if line]
    assert len(rows) >= 150
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["label"] in labels, row["id"]
        assert set(row["cites"]) <= set(row["evidence"]), row["id"]


def test_the_check_meets_its_targets_on_the_labelled_set():
    report = claim_check_report()
    assert report["supported_precision"] >= 0.95, report["wrong_supported"]
    assert report["contradicted_recall"] >= 0.80, report["missed_contradicted"]
    assert report["false_published_as_opinion"] == 0
