"""The composer over real panel reviews, created through the panel's public service."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from toolverdict.digest import compose
from toolverdict.digest.models import Section
from toolverdict.digest.rendering import render_issue
from toolverdict.panel.llm import Generation, Prices, ReviewRequest
from toolverdict.panel.services import review_tools

from .conftest import make_tool

pytestmark = pytest.mark.django_db


class ThreeShipsOneSkip:
    """A stand-in hosted model that judges (TOOLVERDICT_PANEL_JUDGE=model): the first three
    personas ship, the fourth skips."""

    model_id = "test:digest"
    is_local_draft = False
    prices = Prices()

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, request: ReviewRequest) -> Generation:
        self.calls += 1
        keys = request.schema["properties"]["sections"]["required"]
        answer = {
            "sections": {k: {"evidence": [], "answer": "I would try it this week."} for k in keys},
            "reason": "I would ship it <script>alert('x')</script> this week.",
            "verdict": "ship" if self.calls <= 3 else "skip",
        }
        return Generation(text=json.dumps(answer))


def test_issue_carries_the_panel_ship_pct_and_one_line_per_persona(settings):
    settings.TOOLVERDICT_PANEL_JUDGE = "model"
    now = dt.datetime.now(dt.UTC)
    tool = make_tool(
        "fresh-agent", created=now - dt.timedelta(hours=1), license="MIT", context_window=128000
    )
    tool.price_points.create(
        tier="Pro", amount=20, unit="month", source_url="https://fresh-agent.example.com/p"
    )
    make_tool("older-agent", created=now - dt.timedelta(days=60))
    outcomes = review_tools([tool.pk], model=ThreeShipsOneSkip())
    assert len(outcomes) == 4
    year, week, _ = now.isocalendar()
    issue = compose.compose_issue(year, week, now=now + dt.timedelta(minutes=1), auto_send=False)
    section = issue.sections.get(kind=Section.Kind.TOOL)
    assert section.ship_pct == 75
    assert "Panel: 75% ship · 4 of 4 reviewers." in section.lines
    persona_lines = [line for line in section.lines if "(ship):" in line or "(skip):" in line]
    assert len(persona_lines) == 4
    assert sum("(skip):" in line for line in persona_lines) == 1
    headline = issue.sections.get(kind=Section.Kind.HEADLINE)
    assert "Fresh Agent (Acme): The fresh-agent tool. Panel: 75% ship." in headline.lines
    html = render_issue(issue).html
    assert "75% ship" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
