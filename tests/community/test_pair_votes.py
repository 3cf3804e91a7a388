"""Head-to-head votes: one per account per pair, changeable, canonical order."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from toolverdict.community.figures import pair_split
from toolverdict.community.models import PairVote, VoteEvent
from toolverdict.community.votes import InvalidVote, cast_pair_vote

pytestmark = pytest.mark.django_db

PAIR = ("claude-4-sonnet", "smolvlm-2-5")
URL = reverse("community:vote_pair", args=PAIR)


def test_one_account_one_vote_per_pair(member_client, member, tools):
    for _ in range(3):
        assert member_client.post(URL, {"winner": "smolvlm-2-5"}).status_code == 302
    assert PairVote.objects.filter(user=member).count() == 1
    split = pair_split(tools[PAIR[0]], tools[PAIR[1]])
    assert (split.left_votes, split.right_votes, split.right_pct) == (0, 1, 100)


def test_changing_a_pair_vote(member_client, member, tools):
    member_client.post(URL, {"winner": "smolvlm-2-5"})
    member_client.post(URL, {"winner": "claude-4-sonnet"})
    vote = PairVote.objects.get(user=member)
    assert vote.winner.slug == "claude-4-sonnet"
    assert VoteEvent.objects.filter(kind="pair").count() == 2


def test_either_page_order_is_the_same_pair(member, tools):
    a, b = tools[PAIR[0]], tools[PAIR[1]]
    cast_pair_vote(member, b, a, b)
    cast_pair_vote(member, a, b, a)
    vote = PairVote.objects.get()
    assert (vote.tool_a, vote.tool_b, vote.winner) == (a, b, a)
    # The split reads from either side.
    assert pair_split(b, a).right_votes == 1


def test_no_pair_vote_without_sign_in(tools):
    response = Client().post(URL, {"winner": "smolvlm-2-5"})
    assert response.status_code == 302
    assert not PairVote.objects.exists()


def test_winner_must_be_in_the_pair(member_client, member, tools):
    assert member_client.post(URL, {"winner": "cursor"}).status_code == 400
    with pytest.raises(InvalidVote):
        cast_pair_vote(member, tools[PAIR[0]], tools[PAIR[1]], tools["cursor"])
    assert not PairVote.objects.exists()


def test_non_canonical_url_is_rejected(member_client, tools):
    url = reverse("community:vote_pair", args=PAIR[::-1])
    assert member_client.post(url, {"winner": "smolvlm-2-5"}).status_code == 400
    assert not PairVote.objects.exists()


def test_compare_page_box_shows_split_and_my_choice(member_client, member, tools):
    cast_pair_vote(member, tools[PAIR[0]], tools[PAIR[1]], tools[PAIR[1]])
    body = member_client.get(reverse("compare:pair", args=PAIR)).content.decode()
    assert "Which would you ship with?" in body
    assert "<strong>100%</strong> SmolVLM 2.5" in body
    assert 'value="smolvlm-2-5" class="" aria-pressed="true"' in body


def test_htmx_pair_vote_returns_the_box(member_client, tools):
    response = member_client.post(
        URL, {"winner": "claude-4-sonnet"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card pair-vote"')
    assert "<strong>100%</strong> Claude 4 Sonnet" in body
