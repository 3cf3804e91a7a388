"""Ship/skip votes: one per account per tool, changeable, only when signed in."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from toolverdict.community.figures import community_figures
from toolverdict.community.models import ToolVote, VoteEvent
from toolverdict.community.votes import cast_tool_vote

pytestmark = pytest.mark.django_db


def vote_url(slug: str) -> str:
    return reverse("community:vote_tool", args=[slug])


def test_one_account_one_vote_per_tool(member_client, member, tools):
    for _ in range(3):
        response = member_client.post(vote_url("claude-4-sonnet"), {"value": "ship"})
        assert response.status_code == 302
    assert ToolVote.objects.filter(user=member).count() == 1
    assert VoteEvent.objects.filter(user=member).count() == 3
    figure = community_figures([tools["claude-4-sonnet"]])[tools["claude-4-sonnet"].pk]
    assert (figure.ship, figure.votes, figure.pct) == (1, 1, 100)


def test_changing_a_vote_replaces_it(member_client, member, tools):
    tool = tools["claude-4-sonnet"]
    member_client.post(vote_url(tool.slug), {"value": "ship"})
    member_client.post(vote_url(tool.slug), {"value": "skip"})
    vote = ToolVote.objects.get(user=member, tool=tool)
    assert vote.value == "skip"
    figure = community_figures([tool])[tool.pk]
    assert (figure.ship, figure.votes, figure.pct) == (0, 1, 0)
    # The log keeps both, in order: the change is auditable.
    events = VoteEvent.objects.filter(user=member, tool=tool).order_by("pk")
    assert list(events.values_list("value", flat=True)) == ["ship", "skip"]


def test_votes_on_different_tools_are_separate(member_client, member, tools):
    member_client.post(vote_url("claude-4-sonnet"), {"value": "ship"})
    member_client.post(vote_url("smolvlm-2-5"), {"value": "skip"})
    assert dict(ToolVote.objects.filter(user=member).values_list("tool__slug", "value")) == {
        "claude-4-sonnet": "ship",
        "smolvlm-2-5": "skip",
    }


def test_no_vote_without_sign_in(tools):
    response = Client().post(vote_url("claude-4-sonnet"), {"value": "ship", "next": "/"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("community:login"))
    assert not ToolVote.objects.exists()
    assert not VoteEvent.objects.exists()


def test_htmx_without_sign_in_is_sent_to_sign_in(tools):
    response = Client().post(
        vote_url("claude-4-sonnet"), {"value": "ship"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("community:login"))
    assert not ToolVote.objects.exists()


def test_csrf_is_required(member, tools):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(vote_url("claude-4-sonnet"), {"value": "ship"})
    assert response.status_code == 403
    assert not ToolVote.objects.exists()


def test_csrf_token_from_the_page_is_accepted(member, tools):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    page = client.get(reverse("catalog:tool", args=["claude-4-sonnet"]))
    token = page.cookies["csrftoken"].value
    response = client.post(
        vote_url("claude-4-sonnet"), {"value": "ship", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert ToolVote.objects.get().value == "ship"


def test_get_is_not_a_vote(member_client, tools):
    assert member_client.get(vote_url("claude-4-sonnet")).status_code == 405
    assert not ToolVote.objects.exists()


@pytest.mark.parametrize("value", ["", "maybe", "SHIP"])
def test_bad_value_is_rejected_and_nothing_is_written(member_client, tools, value):
    response = member_client.post(vote_url("claude-4-sonnet"), {"value": value})
    assert response.status_code == 400
    assert not ToolVote.objects.exists()
    assert not VoteEvent.objects.exists()


def test_unknown_or_unpublished_tool_is_404(member_client, tools):
    tool = tools["smolvlm-2-5"]
    tool.is_published = False
    tool.save()
    assert member_client.post(vote_url("smolvlm-2-5"), {"value": "ship"}).status_code == 404
    assert member_client.post(vote_url("no-such-tool"), {"value": "ship"}).status_code == 404
    assert not ToolVote.objects.exists()


def test_plain_post_redirects_back_to_the_page(member_client, tools):
    page = reverse("compare:pair", args=["claude-4-sonnet", "smolvlm-2-5"])
    response = member_client.post(vote_url("claude-4-sonnet"), {"value": "ship", "next": page})
    assert response.status_code == 302
    assert response["Location"] == page


def test_next_to_another_site_is_ignored(member_client, tools):
    response = member_client.post(
        vote_url("claude-4-sonnet"), {"value": "ship", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_htmx_answer_is_the_box_with_the_new_figure(member_client, tools):
    response = member_client.post(
        vote_url("claude-4-sonnet"),
        {"value": "ship"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/compare/x-vs-y/"},
    )
    assert response.status_code == 200
    assert response["X-Vote-Accepted"] == "1"
    body = response.content.decode()
    assert 'class="vote-box"' in body
    assert 'aria-pressed="true"' in body
    assert "hx-swap-oob" in body and ">100%</span>" in body
    assert 'value="http://testserver/compare/x-vs-y/"' in body


def test_signed_out_card_shows_a_sign_in_link(tools):
    body = Client().get(reverse("catalog:tool", args=["claude-4-sonnet"])).content.decode()
    assert "Sign in to vote" in body
    assert 'name="value"' not in body


def test_signed_in_card_shows_the_current_vote(member, member_client, tools):
    cast_tool_vote(member, tools["claude-4-sonnet"], "skip")
    body = member_client.get(reverse("catalog:tool", args=["claude-4-sonnet"])).content.decode()
    assert 'value="skip" class="vote-skip" aria-pressed="true"' in body
    assert 'value="ship" class="vote-ship secondary" aria-pressed="false"' in body


def test_a_bad_vote_answers_the_error_page_with_a_way_back(member_client, tools):
    response = member_client.post(
        vote_url("claude-4-sonnet"), {"value": "maybe", "next": "/tools/claude-4-sonnet/"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "<h1>That vote could not be counted</h1>" in body
    assert "A vote is ship or skip." in body
    assert '<a href="/tools/claude-4-sonnet/">Back to the page you voted on</a>' in body
