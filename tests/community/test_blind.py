"""Head-to-head: the question first; for a signed-in reader about to vote, the results after
voting (blind first); for a reader who cannot vote, at once. Order drawn per reader."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from toolverdict.catalog.models import Tool
from toolverdict.community import blind
from toolverdict.community.models import PairVote, VoteEvent
from toolverdict.community.votes import InvalidVote, cast_pair_vote

from .conftest import create_member

pytestmark = pytest.mark.django_db

PAIR = ("claude-4-sonnet", "smolvlm-2-5")
PAGE = reverse("compare:pair", args=PAIR)
VOTE = reverse("community:vote_pair", args=PAIR)
RESULTS = '<section class="pair-results" id="results"'
SAVED = "Your vote is saved"
# The pair's vote form: only a signed-in reader's box has it. With it and without SAVED,
# the stylesheet keeps the results out of sight (blind first; the browser tests check it).
FORM = 'name="winner"'


def button_slugs(body: str) -> list[str]:
    return re.findall(r'<button type="submit" name="winner" value="([a-z0-9-]+)"', body)


def test_a_reader_who_cannot_vote_gets_the_question_then_the_verdicts_open(tools):
    member = create_member("other@example.com")
    cast_pair_vote(member, tools[PAIR[0]], tools[PAIR[1]], tools[PAIR[1]])
    body = Client().get(PAGE).content.decode()
    question = body.index("Which would you ship with?")
    results = body.index(RESULTS)
    # The panel figures, the community figures and the split all sit in the results, which
    # come right after the question and open: nothing to click, nothing to answer first.
    for marker in ("Panel ship</dt>", "Community</dt>", "<strong>100%</strong> SmolVLM 2.5"):
        assert question < results < body.index(marker), marker
    assert body.index("The reviewer scorecard") > results
    assert "<details" not in body and "<summary" not in body
    assert "{#" not in body and "{% comment" not in body
    assert "Sign in to vote" in body and FORM not in body and SAVED not in body


def test_a_signed_in_reader_answers_first_and_then_reads_the_results(member_client, tools):
    body = member_client.get(PAGE).content.decode()
    assert RESULTS in body and FORM in body and SAVED not in body  # blind first
    assert 'href="#results"' in body  # "show the results now", without voting
    assert member_client.post(VOTE, {"winner": "smolvlm-2-5"}).status_code == 302
    body = member_client.get(PAGE).content.decode()
    assert RESULTS in body and SAVED in body


@pytest.mark.page_cache
def test_the_cached_page_is_open_for_anonymous_readers_and_each_reader_gets_their_box(
    tools, django_capture_on_commit_callbacks, settings
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    voter = create_member("voter@example.com")
    other = create_member("other@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        cast_pair_vote(voter, tools[PAIR[0]], tools[PAIR[1]], tools[PAIR[0]])
    anonymous = Client().get(PAGE).content.decode()  # stores the page
    assert RESULTS in anonymous and "<strong>100%</strong> Claude 4 Sonnet" in anonymous
    assert FORM not in anonymous and SAVED not in anonymous
    mine = Client()
    mine.force_login(voter)
    body = mine.get(PAGE).content.decode()
    assert FORM in body and SAVED in body
    theirs = Client()
    theirs.force_login(other)
    body = theirs.get(PAGE).content.decode()
    assert FORM in body and SAVED not in body
    # The stored copy carries nothing of either reader.
    assert Client().get(PAGE).content.decode() == anonymous


def test_button_order_is_fixed_per_reader_and_varies_between_readers(tools):
    left, right = tools[PAIR[0]], tools[PAIR[1]]
    people = [create_member(f"order{i}@example.com") for i in range(24)]
    orders = []
    for person in people:
        client = Client()
        client.force_login(person)
        first = button_slugs(client.get(PAGE).content.decode())
        assert button_slugs(client.get(PAGE).content.decode()) == first  # a reload keeps it
        assert sorted(first) == sorted(PAIR)
        assert first[0] == blind.button_order(person, left, right)[0].slug
        orders.append(first[0])
    # 24 readers: both orders occur (chance of one order only: 2 in 2**24).
    assert set(orders) == set(PAIR)


def test_the_order_recorded_with_a_vote_is_the_servers_not_the_forms(member_client, member, tools):
    expected = blind.button_order(member, tools[PAIR[0]], tools[PAIR[1]])[0]
    other = PAIR[1] if expected.slug == PAIR[0] else PAIR[0]
    assert 'name="first"' not in member_client.get(PAGE).content.decode()  # none is asked
    # A form that names the other order, or a tool outside the pair, changes nothing.
    for first in (other, "cursor", ""):
        member_client.post(VOTE, {"winner": "smolvlm-2-5", "first": first})
        vote = PairVote.objects.get(user=member)
        assert vote.shown_first == expected, first
        event = VoteEvent.objects.filter(kind="pair").latest("pk")
        assert event.shown_first == expected, first
    with pytest.raises(InvalidVote):
        cast_pair_vote(
            member, tools[PAIR[0]], tools[PAIR[1]], tools[PAIR[0]], shown_first=tools["cursor"]
        )


def test_an_htmx_vote_answers_with_the_box_and_the_fresh_split(member_client, tools):
    response = member_client.post(
        VOTE,
        {"winner": "claude-4-sonnet"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response["X-Vote-Accepted"] == "1"
    assert '<div class="pair-split" id="pair-split" hx-swap-oob="true">' in body
    assert "<strong>100%</strong> Claude 4 Sonnet" in body


def test_position_bias_counts_votes_for_the_tool_shown_first(tools):
    left, right = tools[PAIR[0]], tools[PAIR[1]]
    people = [create_member(f"bias{i}@example.com") for i in range(5)]
    for i, person in enumerate(people):
        shown = left if i % 2 else right
        winner = shown if i < 4 else (right if shown == left else left)
        cast_pair_vote(person, left, right, winner, shown_first=shown)
    cast_pair_vote(create_member("old@example.com"), left, right, left)  # no order recorded
    first, total, share, interval = blind.position_bias()
    assert (first, total) == (4, 5)
    assert share == pytest.approx(0.8)
    assert interval[0] < 0.8 < interval[1]
    body = Client().get(reverse("community:how_votes_count")).content.decode()
    assert "chose the tool shown first in 4 of 5" in body


def test_position_bias_counts_only_counted_votes(tools, settings):
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 24
    left, right = tools[PAIR[0]], tools[PAIR[1]]
    fresh = [
        create_member(f"fresh{i}@example.com", joined_ago=timedelta(minutes=1)) for i in (1, 2)
    ]
    unconfirmed = create_member("unconfirmed@example.com", confirmed=False)
    for person in [*fresh, unconfirmed]:
        cast_pair_vote(person, left, right, left, shown_first=left)
    page = reverse("community:how_votes_count")
    assert blind.position_bias()[:2] == (0, 0)
    assert "No head-to-head vote with a recorded order yet." in Client().get(page).content.decode()
    cast_pair_vote(create_member("counted@example.com"), left, right, right, shown_first=left)
    assert blind.position_bias()[:2] == (0, 1)
    assert "chose the tool shown first in 0 of 1 " in Client().get(page).content.decode()


def test_tools_named_in_markup_are_escaped_in_the_box(tools):
    tool = Tool.objects.get(slug=PAIR[0])
    tool.name = '<script>alert("x")</script>'
    tool.save()
    member = create_member("esc@example.com")
    client = Client()
    client.force_login(member)
    body = client.get(PAGE).content.decode()
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
