"""The real fetch and parsers over the whole fixture web, scored against its labels."""

from __future__ import annotations

import pytest
from django.test import override_settings

from toolverdict.enrich.extract import extract
from toolverdict.enrich.fetch import Fetcher
from toolverdict.enrich.services import read_site

from .fixtures.score import score, wrong_values
from .fixtures.web import HELDOUT, answers, serve_sites, site_names


@pytest.fixture(scope="module")
def extractions(web):
    # Module-wide, so before the per-test settings: the fixture web is on loopback.
    with override_settings(TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES=True):
        fetcher = Fetcher(interval=0, timeout=2.0, max_bytes=200_000)
        return {name: extract(read_site(url, fetcher, max_pages=5)[1]) for name, url in web.items()}


def test_the_fixture_web_has_at_least_fifteen_labelled_sites():
    assert len(site_names()) >= 15
    assert set(answers()) == set(site_names())


@pytest.mark.parametrize("site", site_names())
def test_nothing_extracted_is_wrong(extractions, site):
    want = answers()[site]
    assert wrong_values(extractions[site], want) == []
    if want["prices"] or want["facts"]:
        assert extractions[site].prices or extractions[site].facts


def test_precision_and_recall_meet_their_targets(extractions):
    counts = score(extractions, answers())
    for field, count in counts.items():
        if count.extracted:
            assert count.precision >= 0.95, (field, count)
    assert counts["price_points"].recall >= 0.70, counts["price_points"]
    assert counts["license"].recall >= 0.70, counts["license"]


def test_every_value_cites_the_page_it_was_read_from(extractions, web):
    lumen = extractions["lumen"]
    licence = lumen.fact("license")
    assert licence.url == web["lumen"] + "model-card"
    assert "Apache License, Version 2.0" in licence.snippet
    weights = lumen.fact("open_weights")
    assert weights.value == "yes, at https://huggingface.co/lumen-ai/lumen-7b"


def test_a_self_contradicting_page_gives_no_price_for_that_plan(extractions):
    fluxform = extractions["fluxform"]
    amounts = {f"{p.price.amount:f}" for p in fluxform.prices}
    assert amounts == {"99"}
    assert any("Pro" in note and "none kept" in note for note in fluxform.notes)


@pytest.fixture(scope="module")
def heldout():
    with (
        override_settings(TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES=True),
        serve_sites(root=HELDOUT) as urls,
    ):
        fetcher = Fetcher(interval=0, timeout=2.0, max_bytes=200_000)
        return {name: extract(read_site(url, fetcher)[1]) for name, url in urls.items()}


def test_the_held_out_sites_are_labelled():
    assert len(site_names(HELDOUT)) >= 5
    assert set(answers(HELDOUT)) == set(site_names(HELDOUT))


@pytest.mark.parametrize("site", site_names(HELDOUT))
def test_nothing_extracted_from_a_held_out_site_is_wrong(heldout, site):
    assert wrong_values(heldout[site], answers(HELDOUT)[site]) == []


def test_a_plain_line_naming_a_plan_of_the_pages_table_takes_its_name(heldout):
    # "Prefer to pay yearly? Team is $80 per user per year." under a table with a Team row.
    tiers = {(p.price.tier, p.price.unit) for p in heldout["quietdesk"].prices}
    assert tiers == {("Team", "seat/month"), ("Team", "seat/year")}
