"""Community %, which votes count, Wilson rankings and the head-to-head leaderboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from toolverdict.catalog.models import Tool
from toolverdict.community.figures import community_figures, wilson_lower_bound
from toolverdict.community.rankings import head_to_head_leaderboard, rankings
from toolverdict.community.votes import cast_pair_vote, cast_tool_vote

from .conftest import create_member

pytestmark = pytest.mark.django_db


def voters(n: int, prefix: str = "v", **kwargs):
    return [create_member(f"{prefix}{i}@example.com", **kwargs) for i in range(n)]


def test_pct_is_a_dash_below_the_minimum(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 3
    tool = tools["cursor"]
    people = voters(3)
    cast_tool_vote(people[0], tool, "ship")
    cast_tool_vote(people[1], tool, "skip")
    figure = community_figures([tool])[tool.pk]
    assert (figure.votes, figure.pct) == (2, None)
    cast_tool_vote(people[2], tool, "ship")
    figure = community_figures([tool])[tool.pk]
    assert (figure.ship, figure.votes, figure.pct) == (2, 3, 67)


def test_card_shows_dash_then_percentage(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 2
    url = reverse("catalog:tool", args=["cursor"])
    people = voters(2)
    cast_tool_vote(people[0], tools["cursor"], "ship")
    assert '<div class="figure community-figure"><dt>Community</dt><dd>—</dd>' in (
        Client().get(url).content.decode()
    )
    cast_tool_vote(people[1], tools["cursor"], "skip")
    body = Client().get(url).content.decode()
    assert '<div class="figure community-figure"><dt>Community</dt><dd>50%</dd>' in body
    assert "2 community votes" in body


def test_new_accounts_count_after_the_delay(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 24
    tool = tools["cursor"]
    fresh = create_member("fresh@example.com", joined_ago=timedelta(hours=1))
    settled = create_member("settled@example.com", joined_ago=timedelta(hours=25))
    cast_tool_vote(fresh, tool, "skip")
    cast_tool_vote(settled, tool, "ship")
    figure = community_figures([tool])[tool.pk]
    assert (figure.ship, figure.votes) == (1, 1)
    # The stored vote starts counting by itself once the account is old enough.
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0.5
    assert community_figures([tool])[tool.pk].votes == 2


def test_unconfirmed_and_excluded_accounts_do_not_count(tools):
    tool = tools["cursor"]
    unconfirmed = create_member("u@example.com", confirmed=False)
    excluded = create_member("x@example.com")
    excluded.member.votes_excluded = True
    excluded.member.save()
    cast_tool_vote(unconfirmed, tool, "ship")
    cast_tool_vote(excluded, tool, "ship")
    assert community_figures([tool])[tool.pk].votes == 0


def test_figures_take_one_query_for_any_number_of_tools(django_assert_num_queries, tools):
    people = voters(3)
    for tool in list(tools.values())[:10]:
        for person in people:
            cast_tool_vote(person, tool, "ship")
    few = list(Tool.objects.all()[:2])
    many = list(Tool.objects.all())
    with django_assert_num_queries(1):
        community_figures(few)
    with django_assert_num_queries(1):
        figures = community_figures(many)
    assert sum(f.votes for f in figures.values()) == 30
    with django_assert_num_queries(0):
        assert community_figures([]) == {}


def test_compare_page_queries_do_not_grow_with_votes(django_assert_max_num_queries, tools):
    person = create_member("counter@example.com")
    client = Client()
    client.force_login(person)
    url = reverse("compare:pair", args=["claude-4-sonnet", "smolvlm-2-5"])
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for tool in tools.values():
        cast_tool_vote(person, tool, "ship")
    cast_pair_vote(person, tools["claude-4-sonnet"], tools["smolvlm-2-5"], tools["smolvlm-2-5"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(url)


def test_wilson_lower_bound_values():
    assert wilson_lower_bound(0, 0) == 0.0
    # Reference values of the 95% Wilson score interval.
    assert wilson_lower_bound(1, 1) == pytest.approx(0.2065, abs=1e-4)
    assert wilson_lower_bound(8, 10) == pytest.approx(0.4902, abs=1e-4)
    assert wilson_lower_bound(90, 100) > wilson_lower_bound(2, 2)


def test_rankings_order_by_wilson_not_raw_share(tools):
    people = voters(20)
    lucky, solid = tools["aider"], tools["cursor"]
    for person in people[:2]:
        cast_tool_vote(person, lucky, "ship")  # 2 of 2: 100%
    for i, person in enumerate(people):
        cast_tool_vote(person, solid, "ship" if i < 18 else "skip")  # 18 of 20: 90%
    result = rankings()
    order = [row.tool.slug for row in result.ranked]
    assert order.index("cursor") < order.index("aider")
    assert result.ranked[0].figure.pct == 90
    assert all(row.figure.votes == 0 for row in result.unranked)


def test_category_rankings_only_hold_that_category(settings, tools):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    person = create_member("cat@example.com")
    cast_tool_vote(person, tools["cursor"], "ship")
    cast_tool_vote(person, tools["gpt-4o"], "ship")
    result = rankings(tools["cursor"].category)
    assert [row.tool.slug for row in result.ranked] == ["cursor"]
    assert {row.tool.category_id for row in result.unranked} == {tools["cursor"].category_id}


def test_leaderboard_from_pair_votes(tools):
    people = voters(6)
    cursor, aider, copilot = tools["cursor"], tools["aider"], tools["github-copilot"]
    for person in people:
        cast_pair_vote(person, cursor, aider, cursor)
        cast_pair_vote(person, aider, copilot, aider)
    cast_pair_vote(people[0], cursor, tools["gpt-4o"], cursor)  # another category
    rows = head_to_head_leaderboard(cursor.category)
    assert [r.tool.slug for r in rows] == ["cursor", "aider", "github-copilot"]
    assert [(r.votes, r.wins) for r in rows] == [(6, 6), (12, 6), (6, 0)]
    overall = head_to_head_leaderboard()
    assert "gpt-4o" in [r.tool.slug for r in overall]


def test_rankings_pages_render(tools):
    person = create_member("page@example.com")
    cast_tool_vote(person, tools["cursor"], "ship")
    cast_pair_vote(person, tools["aider"], tools["cursor"], tools["cursor"])
    body = Client().get(reverse("community:rankings")).content.decode()
    assert "Most shipped" in body and "Cursor" in body and "Head-to-head leaderboard" in body
    url = reverse("community:rankings_category", args=[tools["cursor"].category.slug])
    body = Client().get(url).content.decode()
    assert "Developer Tools: community rankings" in body
    assert "GPT-4o" not in body
    assert Client().get(reverse("community:rankings_category", args=["nope"])).status_code == 404


@pytest.fixture
def fit_calls(monkeypatch) -> list[int]:
    """Counts Bradley–Terry fits while still running the real one."""
    from toolverdict.community import bradley_terry

    calls: list[int] = []
    real_fit = bradley_terry.fit

    def spy(wins, **kwargs):
        calls.append(len(wins))
        return real_fit(wins, **kwargs)

    monkeypatch.setattr(bradley_terry, "fit", spy)
    return calls


def test_leaderboard_fit_is_cached_until_the_votes_change(tools, fit_calls):
    from toolverdict.community.models import Member, PairVote

    people = voters(4)
    cursor, aider = tools["cursor"], tools["aider"]
    for person in people[:3]:
        cast_pair_vote(person, cursor, aider, cursor)
    first = head_to_head_leaderboard(cursor.category)
    again = head_to_head_leaderboard(cursor.category)
    assert len(fit_calls) == 1
    assert [(r.tool.slug, r.strength, r.votes) for r in again] == [
        (r.tool.slug, r.strength, r.votes) for r in first
    ]
    assert [r.tool.slug for r in first] == ["cursor", "aider"]

    # The page reads the same cached fit.
    url = reverse("community:rankings_category", args=[cursor.category.slug])
    assert Client().get(url).status_code == 200
    assert len(fit_calls) == 1

    # A new vote refits and moves the strengths.
    cast_pair_vote(people[3], cursor, aider, aider)
    fourth = head_to_head_leaderboard(cursor.category)
    assert len(fit_calls) == 2
    assert fourth[0].strength < first[0].strength
    assert [r.votes for r in fourth] == [4, 4]

    # A changed vote (same rows, same count) refits too.
    for person in people[:3]:
        cast_pair_vote(person, cursor, aider, aider)
    changed = head_to_head_leaderboard(cursor.category)
    assert len(fit_calls) == 3
    assert [r.tool.slug for r in changed] == ["aider", "cursor"]

    # So does a vote that stops counting (an editor excludes the account).
    Member.objects.filter(user=people[3]).update(votes_excluded=True)
    excluded = head_to_head_leaderboard(cursor.category)
    assert len(fit_calls) == 4
    assert [r.votes for r in excluded] == [3, 3]
    assert PairVote.objects.count() == 4  # the vote is kept, it just does not count
