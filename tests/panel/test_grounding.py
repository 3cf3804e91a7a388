"""The grounding gate: claims are checked against the evidence they cite."""

from __future__ import annotations

from toolverdict.panel.grounding import (
    NOT_JUDGED,
    SUPPORTED,
    UNSUPPORTED,
    check_claim,
    check_review,
    repeats_rules,
)
from toolverdict.panel.prompts import RULES


def test_supported_fact(acme_dossier):
    check = check_claim("fact", "The Pro plan costs $20 per month.", ["E3"], acme_dossier)
    assert (check.status, check.problems) == (SUPPORTED, [])


def test_wrong_id_is_unsupported(acme_dossier):
    check = check_claim("fact", "The Pro plan costs $20 per month.", ["E42"], acme_dossier)
    assert check.status == UNSUPPORTED
    assert "cites evidence that does not exist: E42" in check.problems


def test_right_number_but_wrong_citation_is_unsupported(acme_dossier):
    check = check_claim("fact", "The Pro plan costs $20 per month.", ["E4"], acme_dossier)
    assert check.status == UNSUPPORTED
    assert "number 20 is not in the cited evidence" in check.problems


def test_number_not_in_evidence(acme_dossier):
    check = check_claim("fact", "The Pro plan costs $25 per month.", ["E3"], acme_dossier)
    assert check.problems == ["number 25 is not in the cited evidence"]


def test_numbers_match_across_forms(acme_dossier):
    # E1 says "200,000 tokens": 200K and 200,000 are the same number.
    ok = check_claim("fact", "Its context window is 200K tokens.", ["E1"], acme_dossier)
    assert ok.status == SUPPORTED
    wrong = check_claim("fact", "Its context window is 2M tokens.", ["E1"], acme_dossier)
    assert wrong.status == UNSUPPORTED


def test_dates_must_be_in_the_cited_evidence(acme_dossier):
    ok = check_claim("fact", "Acme Coder was released on March 14, 2025.", ["E1"], acme_dossier)
    assert ok.status == SUPPORTED
    wrong = check_claim("fact", "Acme Coder was released on 2025-04-01.", ["E1"], acme_dossier)
    assert "date 2025-04-01 is not in the cited evidence" in wrong.problems


def test_names_must_be_in_the_cited_evidence(acme_dossier):
    ok = check_claim("fact", "It supports Python and Rust.", ["E4"], acme_dossier)
    assert ok.status == SUPPORTED
    wrong = check_claim("comparison", "It supports more languages than Zed.", ["E4"], acme_dossier)
    assert "name 'Zed' is not in the cited evidence" in wrong.problems


def test_claim_must_share_words_with_its_evidence(acme_dossier):
    check = check_claim("fact", "Quite wonderful overall.", ["E3"], acme_dossier)
    assert "shares no words with the cited evidence" in check.problems


def test_verified_needs_a_verification_item(acme_dossier):
    without = check_claim("fact", "We verified it supports Python.", ["E4"], acme_dossier)
    assert "says verified but cites no verification item" in without.problems
    with_item = check_claim(
        "fact", "We verified it installs with pip in 4 minutes.", ["E5"], acme_dossier
    )
    assert with_item.status == SUPPORTED


def test_opinions_and_forecasts_are_labelled_not_judged(acme_dossier):
    for kind in ("opinion", "forecast"):
        check = check_claim(kind, "Terminal agents like this will be common.", [], acme_dossier)
        assert check.status == NOT_JUDGED and check.problems == []
    # A year is how forecasts speak; an invented figure is still flagged.
    year = check_claim("forecast", "It will lead its category by 2030.", [], acme_dossier)
    assert year.status == NOT_JUDGED
    figure = check_claim("forecast", "It will have 10 million users by 2030.", [], acme_dossier)
    assert figure.problems == ["number 10000000 is not in the dossier"]


def _review(acme_dossier, claims, reason="Solid tool.", known=()):
    return check_review(
        reason=reason,
        sections={"a": "Fine."},
        claims=claims,
        dossier=acme_dossier,
        known_names=known,
    )


def test_support_rate_counts_only_judged_claims(acme_dossier):
    check = _review(
        acme_dossier,
        [
            ("fact", "The Pro plan costs $20 per month.", ["E3"]),
            ("fact", "The Pro plan costs $99 per month.", ["E3"]),
            ("opinion", "Pleasant to use.", []),
        ],
    )
    assert check.support_rate == 0.5
    assert [c.status for c in check.claims] == [SUPPORTED, UNSUPPORTED, NOT_JUDGED]
    assert check.publishable


def test_invented_product_name_withholds_the_review(acme_dossier):
    check = _review(
        acme_dossier,
        [("opinion", "It is a weaker clone of the popular CodeWizard Pro.", [])],
    )
    assert not check.publishable
    assert "CodeWizard" in check.invented_names
    assert "CodeWizard" in check.withheld_reason


def test_catalog_names_are_not_invented(acme_dossier):
    check = _review(
        acme_dossier, [("opinion", "It competes directly with Bolt IDE.", [])], known=["Bolt IDE"]
    )
    assert check.publishable and check.invented_names == []


def test_repeating_the_rules_withholds_the_review(acme_dossier):
    leaked = RULES.splitlines()[2]
    assert repeats_rules([leaked])
    check = _review(acme_dossier, [("opinion", "Good.", [])], reason=leaked[:140])
    assert check.leaks_rules and not check.publishable
    assert not repeats_rules(["Never follow the crowd; decide for yourself."])


def test_the_reviewed_tools_own_name_and_vendor_are_known_in_every_claim(acme_dossier):
    # E3 (the Pro price) does not mention the tool's name; naming the subject is not invention.
    check = check_claim(
        "fact", "Acme Coder by Acme Labs costs $20 per month on Pro.", ["E3"], acme_dossier
    )
    assert (check.status, check.problems) == (SUPPORTED, [])


def test_an_opinion_with_arithmetic_of_its_own_is_flagged(acme_dossier):
    check = check_claim(
        "opinion", "For 100,000 edits the cost would be $45, which is fair.", [], acme_dossier
    )
    assert check.status == UNSUPPORTED
    assert "number 100000 is not in the dossier" in check.problems
    assert "number 45 is not in the dossier" in check.problems
    # An opinion that only reuses the dossier's numbers stays a labelled opinion.
    fair = check_claim("opinion", "At $20 a month the Pro plan is fair.", ["E3"], acme_dossier)
    assert (fair.status, fair.problems) == (NOT_JUDGED, [])


def test_a_listed_peer_is_a_known_name_and_can_be_cited(sample_catalog):
    from toolverdict.panel.dossier import build_dossier

    dossier = build_dossier(sample_catalog["acme-coder"])
    peer = next(e for e in dossier.evidence if e.kind == "peer")
    assert peer.label == "Peer: Bolt IDE"
    claim = check_claim(
        "comparison", "Bolt IDE is the direct competitor at $30 per seat/month.", [peer.id], dossier
    )
    assert (claim.status, claim.problems) == (SUPPORTED, [])
    review = check_review(
        reason="Ship: cheaper than Bolt IDE.",
        sections={"competitor": "Bolt IDE, an editor with an agent."},
        claims=[],
        dossier=dossier,
    )
    assert review.invented_names == [] and review.publishable
    invented = check_review(
        reason="Ship: cheaper than Zephyr.", sections={}, claims=[], dossier=dossier
    )
    assert invented.invented_names == ["Zephyr"]


def test_numbers_from_the_question_and_the_tools_own_name_are_known(acme_dossier):
    from dataclasses import replace

    dossier = replace(acme_dossier, tool_name="Acme Coder 4")
    check = check_claim(
        "comparison",
        "Acme Coder 4 loses to nothing in 12 months at $20 per month.",
        ["E3"],
        dossier,
        asked="What kills it in 12 months?",
    )
    assert (check.status, check.problems) == (SUPPORTED, [])
    opinion = check_claim("forecast", "In 12 months it still leads.", [], dossier, asked="12")
    assert opinion.status == NOT_JUDGED


def test_doubt_about_verification_is_not_a_claim_of_it(acme_dossier):
    doubt = check_claim(
        "fact", "Its Pro plan at $20 per month cannot be verified.", ["E3"], acme_dossier
    )
    assert doubt.status == SUPPORTED
    hard = check_claim(
        "fact", "The Pro plan is $20 per month, hard to confirm.", ["E3"], acme_dossier
    )
    assert hard.status == SUPPORTED
    claimed = check_claim("fact", "We tested the Pro plan at $20 per month.", ["E3"], acme_dossier)
    assert "says verified but cites no verification item" in claimed.problems


def test_a_possessive_is_the_name_it_belongs_to(acme_dossier):
    review = check_review(
        reason="Acme Labs's pricing is clear.",
        sections={"buyer": "Acme Coder's buyer is a team lead; Acme Labs' budget pays."},
        claims=[("fact", "Acme Coder's Pro plan costs $20 per month.", ["E3"])],
        dossier=acme_dossier,
    )
    assert review.invented_names == [] and review.publishable
    assert review.claims[0].status == SUPPORTED
