"""Visible vote rules, intervals on the pages, "too close to call", panel vs readers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from toolverdict.community import trust
from toolverdict.community.admin import MemberAdmin
from toolverdict.community.figures import community_figures
from toolverdict.community.models import Member, ToolVote
from toolverdict.community.rankings import head_to_head_leaderboard
from toolverdict.community.votes import cast_pair_vote, cast_tool_vote
from toolverdict.panel.models import Review

from .conftest import create_member

pytestmark = pytest.mark.django_db


def voters(n: int, prefix: str = "t", **kwargs):
    return [create_member(f"{prefix}{i}@example.com", **kwargs) for i in range(n)]


def reviews(tool, ship: int, skip: int) -> None:
    """Current published panel reviews: ``ship`` saying ship, ``skip`` saying skip."""
    for i, verdict in enumerate(["ship"] * ship + ["skip"] * skip):
        Review.objects.create(
            tool=tool,
            persona=f"p{i}",
            persona_name=f"Persona {i}",
            status=Review.Status.PUBLISHED,
            verdict=verdict,
            reason="A reason.",
            model_id="test",
            prompt_version="1",
            dossier_hash="h",
        )


def test_excluded_votes_are_counted_by_reason_and_add_up(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 24
    tool = tools["cursor"]
    counted = voters(3, "ok")
    unconfirmed = voters(2, "unconf", confirmed=False)
    new = voters(1, "new", joined_ago=timedelta(hours=1))
    editor = voters(1, "ed")
    burst = voters(2, "burst")
    both = voters(1, "both", confirmed=False, joined_ago=timedelta(hours=1))
    closed = voters(1, "closed")
    no_member = get_user_model().objects.create_user(username="bare@example.com")
    for person in [*counted, *unconfirmed, *new, *editor, *burst, *both, *closed, no_member]:
        cast_tool_vote(person, tool, "ship")
    Member.objects.filter(user__in=editor).update(
        votes_excluded=True, excluded_kind=Member.ExclusionKind.EDITOR
    )
    Member.objects.filter(user__in=burst).update(
        votes_excluded=True, excluded_kind=Member.ExclusionKind.BURST
    )
    get_user_model().objects.filter(pk=closed[0].pk).update(is_active=False)

    rules = trust.vote_rules([tool])[tool.pk]
    assert rules.raw == ToolVote.objects.filter(tool=tool).count() == 12
    assert rules.counted == community_figures([tool])[tool.pk].votes == 3
    assert rules.excluded == {
        "burst": 2,
        "editor": 1,
        "inactive": 1,
        "unconfirmed": 4,  # two unconfirmed, one both unconfirmed and new, one without a member
        "new_account": 1,
    }
    assert rules.counted + sum(rules.excluded.values()) == rules.raw
    assert trust.vote_rules()[None].raw == 12

    body = Client().get(tool.get_absolute_url()).content.decode()
    assert "12 votes cast, <strong>3 counted</strong>" in body
    assert "2 part of a vote burst an editor excluded" in body
    assert "4 email address not confirmed" in body
    assert "1 account too new" in body


def test_the_how_votes_count_page_shows_rules_and_counts_but_no_thresholds(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_BURST_MIN_ACCOUNTS = 17
    settings.TOOLVERDICT_COMMUNITY_BURST_WINDOW_MINUTES = 43
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 31
    cast_tool_vote(create_member("a@example.com"), tools["cursor"], "ship")
    cast_tool_vote(create_member("b@example.com", confirmed=False), tools["cursor"], "skip")
    body = Client().get(reverse("community:how_votes_count")).content.decode()
    assert "How votes count" in body and "Which votes count" in body
    assert '<tr><th scope="row">Votes cast</th><td>2</td></tr>' in body
    assert '<tr><th scope="row">Counted</th><td>1</td></tr>' in body
    assert "Not counted: email address not confirmed</th><td>1</td>" in body
    for threshold in ("17", "43", "31"):
        assert f">{threshold}<" not in body and f" {threshold} " not in body


def test_an_editor_can_exclude_accounts_as_a_burst(tools, admin_user):
    people = voters(2, "b")
    for person in people:
        cast_tool_vote(person, tools["cursor"], "ship")
    request = RequestFactory().post("/")
    request.user = admin_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    admin = MemberAdmin(Member, site)
    admin.exclude_burst_votes(request, Member.objects.filter(user__in=people))
    assert set(Member.objects.filter(user__in=people).values_list("excluded_kind", flat=True)) == {
        "burst"
    }
    assert trust.vote_rules([tools["cursor"]])[tools["cursor"].pk].excluded["burst"] == 2
    admin.include_votes(request, Member.objects.filter(user__in=people))
    assert trust.vote_rules([tools["cursor"]])[tools["cursor"].pk].counted == 2


def test_rankings_show_intervals_rank_ranges_and_too_close_to_call(tools):
    cursor, aider, copilot = tools["cursor"], tools["aider"], tools["github-copilot"]
    people = voters(30, "r")
    # Cursor and Aider nearly even, both far ahead of Copilot.
    for i, person in enumerate(people):
        cast_pair_vote(person, cursor, aider, cursor if i % 2 else aider)
        cast_pair_vote(person, cursor, copilot, cursor)
        cast_pair_vote(person, aider, copilot, aider)
    rows = head_to_head_leaderboard(cursor.category)
    by_slug = {r.tool.slug: r for r in rows}
    top = {"cursor", "aider"}
    assert {r.tool.slug for r in rows[:2]} == top
    assert all(by_slug[s].too_close for s in top)
    assert all((by_slug[s].rank_best, by_slug[s].rank_worst) == (1, 2) for s in top)
    low = by_slug["github-copilot"]
    assert (low.rank_best, low.rank_worst, low.too_close) == (3, 3, False)
    for row in rows:
        assert row.ci_low < row.strength < row.ci_high
    body = Client().get(reverse("community:rankings")).content.decode()
    assert body.count("Too close to call") >= 2
    assert "<td>1–2</td>" in body
    assert "Clear of its neighbours" in body


def test_the_interval_method_setting_switches_to_the_bootstrap(settings, tools):
    cursor, aider = tools["cursor"], tools["aider"]
    for i, person in enumerate(voters(12, "m")):
        cast_pair_vote(person, cursor, aider, cursor if i < 9 else aider)
    sandwich = head_to_head_leaderboard(cursor.category)
    settings.TOOLVERDICT_COMMUNITY_INTERVAL_METHOD = "bootstrap"
    settings.TOOLVERDICT_COMMUNITY_BOOTSTRAP_RESAMPLES = 200
    bootstrap = head_to_head_leaderboard(cursor.category)
    assert [r.strength for r in bootstrap] == [r.strength for r in sandwich]
    assert [r.ci_low for r in bootstrap] != [r.ci_low for r in sandwich]
    settings.TOOLVERDICT_COMMUNITY_INTERVAL_METHOD = "guess"
    with pytest.raises(ValueError, match="sandwich or bootstrap"):
        head_to_head_leaderboard(cursor.category)


def test_comparison_page_says_too_close_to_call_on_an_even_split(tools):
    a, b = tools["claude-4-sonnet"], tools["smolvlm-2-5"]
    for i, person in enumerate(voters(10, "s")):
        cast_pair_vote(person, a, b, a if i < 6 else b)
    body = Client().get(reverse("compare:pair", args=[a.slug, b.slug])).content.decode()
    assert "<strong>Too close to call</strong>" in body
    assert "Readers prefer" not in body


def test_comparison_page_calls_a_clear_split(tools):
    a, b = tools["claude-4-sonnet"], tools["smolvlm-2-5"]
    for person in voters(12, "c"):
        cast_pair_vote(person, a, b, b)
    body = Client().get(reverse("compare:pair", args=[a.slug, b.slug])).content.decode()
    assert "<strong>Readers prefer SmolVLM 2.5</strong>" in body
    assert "95% interval for Claude 4 Sonnet: 0–24%" in body


def test_panel_and_readers_disagreeing_shows_on_tool_comparison_and_rankings(tools):
    tool, other = tools["claude-4-sonnet"], tools["smolvlm-2-5"]
    reviews(tool, ship=4, skip=0)  # panel 100% (51–100%)
    for person in voters(20, "d"):
        cast_tool_vote(person, tool, "skip")  # readers 0% (0–16%)
    reviews(other, ship=2, skip=1)
    people = voters(3, "e")
    for i, person in enumerate(people):
        cast_tool_vote(person, other, "ship" if i else "skip")  # overlaps: no note
    found = trust.disagreements()
    assert [d.tool.slug for d in found] == [tool.slug]
    assert found[0].panel_higher
    sentence = "The panel rates Claude 4 Sonnet higher than readers do"
    assert sentence in Client().get(tool.get_absolute_url()).content.decode()
    assert sentence not in Client().get(other.get_absolute_url()).content.decode()
    body = Client().get(reverse("compare:pair", args=[tool.slug, other.slug])).content.decode()
    assert "Panel and readers disagree." in body and sentence in body
    body = Client().get(reverse("community:rankings")).content.decode()
    assert "Panel and readers disagree" in body
    assert "panel 100% (51–100%), readers 0% (0–16%)" in body


def test_the_pages_supply_the_panels_shares_and_without_them_nothing_disagrees(tools, monkeypatch):
    """The community never imports the panel (docs/decisions.md, layers): the pages
    register where the rankings read the panel's ship shares from."""
    from toolverdict.pages.panel_vs_readers import panel_shares

    assert trust._panel_shares == [panel_shares]
    tool = tools["claude-4-sonnet"]
    reviews(tool, ship=4, skip=0)
    reviews(tools["smolvlm-2-5"], ship=1, skip=1)  # too few reviews for a panel %
    for person in voters(20, "n"):
        cast_tool_vote(person, tool, "skip")
    shares = panel_shares([tool, tools["smolvlm-2-5"]])
    assert list(shares) == [tool.pk]
    assert (shares[tool.pk].positive, shares[tool.pk].total) == (4, 4)
    assert [d.tool for d in trust.disagreements()] == [tool]
    monkeypatch.setattr(trust, "_panel_shares", [])
    assert trust.disagreements() == []


def test_cards_show_the_wilson_interval_of_both_ship_shares(tools):
    tool = tools["claude-4-sonnet"]
    reviews(tool, ship=3, skip=1)
    for i, person in enumerate(voters(10, "w")):
        cast_tool_vote(person, tool, "ship" if i < 8 else "skip")
    body = Client().get(tool.get_absolute_url()).content.decode()
    assert "Panel ship, 95% interval: 30–95%" in body
    assert "Community ship, 95% interval: 49–94%" in body


def test_the_intervals_are_computed_once_per_set_of_counted_votes(tools, monkeypatch):
    from toolverdict.community import intervals

    calls: list[str] = []
    real = intervals.strength_intervals

    def spy(*args, **kwargs):
        calls.append(kwargs["method"])
        return real(*args, **kwargs)

    monkeypatch.setattr(intervals, "strength_intervals", spy)
    cursor, aider = tools["cursor"], tools["aider"]
    people = voters(4, "k")
    for person in people[:3]:
        cast_pair_vote(person, cursor, aider, cursor)
    first = head_to_head_leaderboard(cursor.category)
    assert Client().get(reverse("community:rankings")).status_code == 200
    again = head_to_head_leaderboard(cursor.category)
    assert calls == ["sandwich", "sandwich"]  # the category's fit and the overall one
    assert [(r.ci_low, r.ci_high) for r in again] == [(r.ci_low, r.ci_high) for r in first]
    cast_pair_vote(people[3], cursor, aider, aider)
    head_to_head_leaderboard(cursor.category)
    assert len(calls) == 3
