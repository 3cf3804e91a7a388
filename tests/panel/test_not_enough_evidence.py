"""'Not enough evidence' is a first-class outcome: shown as such on pages, badges, share
images, the digest and the API, and never counted in a ship %."""

from __future__ import annotations

import pytest

from toolverdict.community.figures import CommunityFigure
from toolverdict.digest.compose import panel_line, persona_lines
from toolverdict.panel.services import PanelSummary, ReviewCard, panel_summaries, review_tools
from toolverdict.share import badges
from toolverdict.share.images import verdict_line

from .fakes import ScriptedModel


def thin_panel(insufficient: int = 4, ship: int = 0) -> PanelSummary:
    reviews = {
        f"P{i}": ReviewCard(verdict="insufficient", reason="Not enough evidence.")
        for i in range(insufficient)
    }
    reviews |= {f"S{i}": ReviewCard(verdict="ship", reason="For it.") for i in range(ship)}
    return PanelSummary(ship=ship, valid=ship, insufficient=insufficient, reviews=reviews)


def test_a_thin_panel_reads_not_enough_evidence_everywhere():
    panel = thin_panel()
    assert (panel.ship_pct, panel.verdict) == (None, "insufficient")
    assert panel.ship_label == "not enough evidence (4 of 4 reviewers)"
    assert badges.message(panel, CommunityFigure()) == "not enough evidence"
    assert badges.colour(panel, CommunityFigure()) == badges.COLOURS["none"]
    assert verdict_line(panel)[0] == "Not enough evidence to judge"
    assert panel_line(panel) == "Panel: not enough evidence to judge (4 of 4 reviewers)."
    assert persona_lines(panel) == []  # no persona line claims a verdict


def test_a_minority_saying_not_enough_evidence_is_left_out_of_the_share():
    panel = thin_panel(insufficient=1, ship=3)
    assert (panel.ship_pct, panel.verdict, panel.valid) == (100, "ship", 3)
    assert panel.ship_label == "100% · 3 of 4 reviewers"


@pytest.mark.django_db
def test_a_thin_tool_page_says_not_enough_evidence(client, sample_catalog):
    bolt = sample_catalog["bolt-ide"]  # a name, a tagline and one price
    review_tools([bolt.pk], ScriptedModel())
    summary = panel_summaries([bolt])[bolt.pk]
    assert summary.not_enough_evidence and summary.insufficient == 4
    html = client.get(bolt.get_absolute_url()).content.decode()
    assert "<strong>Not enough evidence</strong>: 4 of 4 reviewers" in html
    assert 'verdict-insufficient">Not enough evidence' in html
    api = client.get("/api/tools/bolt-ide").json()
    assert (api["panel_ship_pct"], api["panel_not_enough_evidence"]) == (None, 4)
