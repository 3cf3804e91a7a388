"""Abuse limits: rate limits per account and per IP, burst detection, exclusion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from toolverdict.community.bursts import suspicious_bursts
from toolverdict.community.figures import community_figures
from toolverdict.community.models import Member, ToolVote, VoteEvent
from toolverdict.community.votes import cast_tool_vote
from toolverdict.core.net import client_hash

from .conftest import create_member

pytestmark = pytest.mark.django_db


def signed_in(user, ip: str = "10.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.force_login(user)
    return client


def vote(client: Client, slug: str, value: str = "ship", **extra):
    return client.post(reverse("community:vote_tool", args=[slug]), {"value": value}, **extra)


def test_votes_per_account_are_rate_limited(settings, member, tools):
    settings.TOOLVERDICT_RATE_LIMITS = {
        **settings.TOOLVERDICT_RATE_LIMITS,
        "vote_user": "3/3600",
    }  # an hour: no window edge mid-test
    client = signed_in(member)
    slugs = ["cursor", "aider", "continue", "gpt-4o"]
    statuses = [vote(client, slug).status_code for slug in slugs]
    assert statuses == [302, 302, 302, 429]
    assert ToolVote.objects.count() == 3
    assert not ToolVote.objects.filter(tool__slug="gpt-4o").exists()
    # Another account on another address is unaffected.
    other = signed_in(create_member("other@example.com"), ip="10.0.0.2")
    assert vote(other, "gpt-4o").status_code == 302


def test_votes_per_ip_are_rate_limited_across_accounts(settings, tools):
    settings.TOOLVERDICT_RATE_LIMITS = {**settings.TOOLVERDICT_RATE_LIMITS, "vote_ip": "2/3600"}
    people = [create_member(f"nat{i}@example.com") for i in range(3)]
    statuses = [vote(signed_in(p, ip="192.0.2.7"), "cursor").status_code for p in people]
    assert statuses == [302, 302, 429]
    assert vote(signed_in(people[2], ip="192.0.2.8"), "cursor").status_code == 302


def test_rate_limited_htmx_vote_explains_itself_in_the_box(settings, member, tools):
    settings.TOOLVERDICT_RATE_LIMITS = {**settings.TOOLVERDICT_RATE_LIMITS, "vote_user": "1/3600"}
    client = signed_in(member)
    vote(client, "cursor")
    response = vote(client, "cursor", "skip", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["X-Vote-Accepted"] == "0"
    assert "Too many votes" in response.content.decode()
    assert ToolVote.objects.get().value == "ship"


def test_proxy_header_is_used_only_when_configured(settings, tools):
    settings.TOOLVERDICT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    user = create_member("proxied@example.com")
    client = signed_in(user, ip="127.0.0.1")
    vote(client, "cursor", headers={"X-Forwarded-For": "spoofed, 198.51.100.4"})
    assert VoteEvent.objects.get().ip_hash == client_hash("198.51.100.4", length=16)


def cast_at(user, tool, value, at):
    cast_tool_vote(user, tool, value, ip="203.0.113.9")
    VoteEvent.objects.filter(pk=VoteEvent.objects.latest("pk").pk).update(created_at=at)


def test_burst_of_new_accounts_voting_alike_is_found(tools):
    now = timezone.now()
    target = tools["cursor"]
    for i in range(6):
        user = create_member(f"sock{i}@example.com", joined_ago=timedelta(hours=3))
        cast_at(user, target, "skip", now - timedelta(minutes=50 - i * 5))
    # Old accounts voting the same way at the same time are not "new".
    for i in range(6):
        user = create_member(f"regular{i}@example.com", joined_ago=timedelta(days=90))
        cast_at(user, tools["aider"], "skip", now - timedelta(minutes=30 - i))
    bursts = suspicious_bursts(window=timedelta(minutes=60), min_accounts=5)
    assert len(bursts) == 1
    burst = bursts[0]
    assert (burst.tool, burst.value, len(burst.accounts)) == (target, "skip", 6)
    assert burst.ip_hashes == 1


def test_spread_out_votes_are_not_a_burst(tools):
    now = timezone.now()
    for i in range(6):
        user = create_member(f"slow{i}@example.com", joined_ago=timedelta(days=1))
        cast_at(user, tools["cursor"], "ship", now - timedelta(hours=i * 2))
    assert suspicious_bursts(window=timedelta(minutes=60), min_accounts=5) == []


def test_mixed_votes_are_not_a_burst(tools):
    now = timezone.now()
    for i in range(6):
        user = create_member(f"mixed{i}@example.com", joined_ago=timedelta(hours=2))
        cast_at(user, tools["cursor"], "ship" if i % 2 else "skip", now - timedelta(minutes=i))
    assert suspicious_bursts(window=timedelta(minutes=60), min_accounts=5) == []


def test_bursts_page_is_for_staff_only(tools):
    now = timezone.now()
    for i in range(5):
        user = create_member(f"b{i}@example.com", joined_ago=timedelta(hours=1))
        cast_at(user, tools["cursor"], "ship", now - timedelta(minutes=i))
    url = reverse("community:bursts")
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    reader = signed_in(create_member("reader2@example.com"))
    assert reader.get(url).status_code == 302
    editor = signed_in(create_member("editor@example.com", is_staff=True))
    body = editor.get(url).content.decode()
    assert "Cursor: ship" in body
    assert "b0@example.com" in body and "5 new accounts" in body


def test_editor_exclusion_removes_votes_from_figures_but_keeps_them(tools):
    user = create_member("excluded@example.com")
    cast_tool_vote(user, tools["cursor"], "ship")
    assert community_figures([tools["cursor"]])[tools["cursor"].pk].votes == 1
    editor = signed_in(create_member("ed@example.com", is_staff=True))
    response = editor.post(
        reverse("admin:community_member_changelist"),
        {"action": "exclude_votes", "_selected_action": [user.member.pk]},
    )
    assert response.status_code == 302
    assert Member.objects.get(user=user).votes_excluded
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_id=str(user.member.pk)).exists()
    assert community_figures([tools["cursor"]])[tools["cursor"].pk].votes == 0
    assert ToolVote.objects.filter(user=user).exists()


def test_votes_cannot_be_edited_in_the_admin(tools):
    user = create_member("adm@example.com")
    cast_tool_vote(user, tools["cursor"], "ship")
    editor = signed_in(create_member("ed2@example.com", is_staff=True))
    pk = ToolVote.objects.get().pk
    response = editor.post(reverse("admin:community_toolvote_change", args=[pk]), {"value": "skip"})
    assert response.status_code == 403
    assert ToolVote.objects.get().value == "ship"


def test_never_confirmed_accounts_are_pruned(tools):
    from toolverdict.community.periodic import prune_unconfirmed_accounts

    stale = create_member("stale@example.com", confirmed=False, joined_ago=timedelta(days=3))
    stale.set_unusable_password()
    stale.save()
    recent = create_member("recent@example.com", confirmed=False, joined_ago=timedelta(hours=1))
    recent.set_unusable_password()
    recent.save()
    voted = create_member("voted@example.com", confirmed=False, joined_ago=timedelta(days=3))
    voted.set_unusable_password()
    voted.save()
    cast_tool_vote(voted, tools["cursor"], "ship")
    confirmed = create_member("ok@example.com", joined_ago=timedelta(days=3))

    assert prune_unconfirmed_accounts() == 1
    assert prune_unconfirmed_accounts() == 0  # a doubled tick is harmless
    from django.contrib.auth import get_user_model

    remaining = set(get_user_model().objects.values_list("email", flat=True))
    assert "stale@example.com" not in remaining
    assert {"recent@example.com", "voted@example.com", confirmed.email} <= remaining


def test_a_rate_limited_vote_without_htmx_is_the_error_page(settings, member, tools):
    settings.TOOLVERDICT_RATE_LIMITS = {**settings.TOOLVERDICT_RATE_LIMITS, "vote_user": "1/3600"}
    client = signed_in(member)
    vote(client, "cursor")
    response = vote(client, "cursor", "skip")
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    body = response.content.decode()
    assert "<h1>Too many attempts</h1>" in body and "Too many votes" in body
    assert ToolVote.objects.get().value == "ship"
