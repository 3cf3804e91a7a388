"""The composer: headline comparison first, new tools with panel ship % and persona lines."""

from __future__ import annotations

import datetime as dt

import pytest

from toolverdict.digest import compose
from toolverdict.digest.models import Issue, Section
from toolverdict.panel.services import PanelSummary, ReviewCard

from .conftest import make_tool

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # Thursday of ISO week 48
THIS_WEEK = NOW - dt.timedelta(days=2)
LONG_AGO = NOW - dt.timedelta(days=60)


def fake_panel(reviews_by_slug):
    def panel_summaries(tools):
        out = {}
        for tool in tools:
            reviews = reviews_by_slug.get(tool.slug, {})
            ship = sum(1 for c in reviews.values() if c.verdict == "ship")
            valid = sum(1 for c in reviews.values() if c.verdict in {"ship", "skip"})
            out[tool.pk] = PanelSummary(ship=ship, valid=valid, reviews=reviews)
        return out

    return panel_summaries


def four_reviews(ships: int, draft: bool = False) -> dict[str, ReviewCard]:
    names = ["Builder", "Skeptic", "Futurist", "Buyer"]
    return {
        name: ReviewCard(
            verdict="ship" if i < ships else "skip",
            reason=f"{name} reason line.\nA second line that must not break the email.",
            is_local_draft=draft,
        )
        for i, name in enumerate(names)
    }


def test_headline_comparison_first_then_new_tools(monkeypatch):
    make_tool("old-agent", created=LONG_AGO)
    make_tool("fresh-agent", created=THIS_WEEK)
    make_tool("other-model", category="models", created=THIS_WEEK)
    make_tool("old-model", category="models", created=LONG_AGO)
    monkeypatch.setattr(
        compose,
        "panel_summaries",
        fake_panel({"fresh-agent": four_reviews(3), "old-agent": four_reviews(1)}),
    )
    issue = compose.compose_issue(2026, 48, now=NOW, auto_send=False)
    sections = list(issue.sections.all())
    assert sections[0].kind == Section.Kind.HEADLINE
    assert sections[0].url.startswith("/compare/")
    assert [s.kind for s in sections[1:]].count(Section.Kind.TOOL) == 2
    kinds = [s.kind for s in sections]
    assert kinds.index(Section.Kind.TOOL) > kinds.index(Section.Kind.HEADLINE)
    fresh = next(s for s in sections if s.heading == "Fresh Agent by Acme")
    assert fresh.ship_pct == 75
    assert "Panel: 75% ship · 4 of 4 reviewers." in fresh.lines
    persona = [line for line in fresh.lines if line.startswith(("Builder", "Skeptic"))]
    assert (
        persona[0]
        == "Builder (ship): Builder reason line. A second line that must not break the email."
    )
    assert len([line for line in fresh.lines if "(ship)" in line or "(skip)" in line]) == 4
    assert "Fresh Agent" in issue.subject or "Other Model" in issue.subject
    assert issue.status == Issue.Status.DRAFT
    assert "2 new tools" in issue.intro


def test_no_reviews_yet_is_said_plainly(monkeypatch):
    make_tool("fresh-agent", created=THIS_WEEK)
    monkeypatch.setattr(compose, "panel_summaries", fake_panel({}))
    issue = compose.compose_issue(2026, 48, now=NOW, auto_send=True)
    tool = issue.sections.get(kind=Section.Kind.TOOL)
    assert tool.ship_pct is None
    assert "The panel has not reviewed this tool yet." in tool.lines
    assert issue.status == Issue.Status.APPROVED


def test_real_panel_service_with_no_reviews_composes(starter_catalog):
    issue = compose.compose_issue(2026, 48, now=dt.datetime.now(dt.UTC), auto_send=False)
    assert issue.sections.filter(kind=Section.Kind.TOOL).exists()
    assert issue.sections.first().kind == Section.Kind.HEADLINE


def test_local_drafts_are_labelled(monkeypatch):
    make_tool("fresh-agent", created=THIS_WEEK)
    monkeypatch.setattr(
        compose, "panel_summaries", fake_panel({"fresh-agent": four_reviews(2, True)})
    )
    issue = compose.compose_issue(2026, 48, now=NOW, auto_send=False)
    assert (
        "Panel: 50% ship · 4 of 4 reviewers (local draft)." in issue.sections.get(kind="tool").lines
    )


def test_quiet_week_is_settled_as_skipped():
    make_tool("old-agent", created=LONG_AGO)
    issue = compose.compose_issue(2026, 48, now=NOW, auto_send=True)
    assert issue.status == Issue.Status.SKIPPED
    assert issue.sections.count() == 0


def test_composing_a_week_twice_returns_the_same_issue():
    make_tool("fresh-agent", created=THIS_WEEK)
    first = compose.compose_issue(2026, 48, now=NOW, auto_send=False)
    second = compose.compose_issue(2026, 48, now=NOW + dt.timedelta(hours=1), auto_send=False)
    assert first.pk == second.pk
    assert Issue.objects.count() == 1


def test_window_continues_from_the_previous_issue():
    make_tool("week-47", created=dt.datetime(2026, 11, 18, tzinfo=dt.UTC))
    compose.compose_issue(
        2026, 47, now=dt.datetime(2026, 11, 19, 10, tzinfo=dt.UTC), auto_send=False
    )
    # A tool added just after issue 47 was composed, and week 48 never composed (missed):
    make_tool("late-47", created=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    issue = compose.compose_issue(
        2026, 49, now=dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC), auto_send=False
    )
    headings = [s.heading for s in issue.sections.filter(kind="tool")]
    assert headings == ["Late 47 by Acme"]


def test_hostile_tool_text_is_kept_as_plain_single_line_text():
    make_tool(
        "evil-agent",
        name="Evil<script>alert(1)</script>\r\nBcc: x@y.z",
        tagline="<img src=x onerror=alert(1)>",
        created=THIS_WEEK,
    )
    make_tool("peer-agent", created=LONG_AGO)
    issue = compose.compose_issue(2026, 48, now=NOW, auto_send=False)
    assert "\n" not in issue.subject and "\r" not in issue.subject
    for section in issue.sections.all():
        assert "\n" not in section.heading and "\r" not in section.heading


def test_one_line_cuts_long_text_at_a_word():
    text = "word " * 100
    line = compose.one_line(text, 40)
    assert len(line) <= 40
    assert line.endswith("…")


def test_pairs_use_different_tools_and_stay_in_category():
    for i in range(4):
        make_tool(f"agent-{i}", created=THIS_WEEK + dt.timedelta(minutes=i))
    make_tool("model-0", category="models", created=THIS_WEEK)
    make_tool("model-1", category="models", created=LONG_AGO)
    pairs = compose.comparison_pairs(compose.new_tools_between(THIS_WEEK, NOW), limit=4)
    slugs = [tool.slug for pair in pairs for tool in pair]
    assert len(slugs) == len(set(slugs)) == 6
    for a, b in pairs:
        assert a.category_id == b.category_id
        assert a.slug < b.slug  # canonical order, so the link needs no redirect


def test_tool_created_hidden_and_published_later_is_in_the_issue_after_publication():
    from django.utils import timezone

    from toolverdict.catalog.services import set_published

    real_now = timezone.now()
    last_week_now = real_now - dt.timedelta(days=7)
    this_week_now = real_now + dt.timedelta(minutes=1)
    last_year, last_week, _ = last_week_now.isocalendar()
    this_year, this_week, _ = this_week_now.isocalendar()
    # Ingested hidden before last week's issue was composed...
    late = make_tool("late-agent", created=last_week_now - dt.timedelta(days=1), is_published=False)
    last = compose.compose_issue(last_year, last_week, now=last_week_now, auto_send=False)
    # ...and published by an editor only this week.
    assert set_published([late.pk], True) == 1
    issue = compose.compose_issue(this_year, this_week, now=this_week_now, auto_send=False)
    assert [s.heading for s in last.sections.filter(kind="tool")] == []
    assert [s.heading for s in issue.sections.filter(kind="tool")] == ["Late Agent by Acme"]
    assert issue.status == Issue.Status.DRAFT


def test_panel_line_gives_no_percentage_below_three_published_reviews():
    cards = {
        name: ReviewCard(verdict="ship", reason="r.")
        for name in ("Builder", "Skeptic", "Futurist", "Buyer")
    }
    two = PanelSummary(ship=2, valid=2, reviews=cards)
    assert compose.panel_line(two) == (
        "Panel: too few published reviews for a verdict (2 of 4 reviewers)."
    )
    three = PanelSummary(ship=2, valid=3, reviews=cards)
    assert compose.panel_line(three) == "Panel: 67% ship · 3 of 4 reviewers."
    assert compose.panel_line(PanelSummary()) == "The panel has not reviewed this tool yet."
