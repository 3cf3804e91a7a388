"""GET /api/rankings: the head-to-head leaderboard with intervals, cached like the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.community.conftest import create_member
from toolverdict.catalog.models import Tool
from toolverdict.community.services import cast_pair_vote, head_to_head_leaderboard

pytestmark = pytest.mark.django_db

FIELDS = {"slug", "strength", "ci_low", "ci_high", "rank_low", "rank_high", "votes"}


@pytest.fixture
def counted(settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0


def vote_dev_tools() -> dict[str, Tool]:
    tools = {t.slug: t for t in Tool.objects.filter(slug__in=["cursor", "aider", "gpt-4o"])}
    for i in range(8):
        person = create_member(f"api{i}@example.com")
        cast_pair_vote(person, tools["cursor"], tools["aider"], tools["cursor"])
    cast_pair_vote(
        create_member("x@example.com"), tools["cursor"], tools["gpt-4o"], tools["gpt-4o"]
    )
    return tools


def test_rankings_come_in_rank_order_with_intervals(client, starter_catalog, counted):
    vote_dev_tools()
    rows = client.get("/api/rankings", {"category": "developer-tools"}).json()
    assert [r["slug"] for r in rows] == ["cursor", "aider"]
    assert all(set(r) >= FIELDS for r in rows)
    expected = head_to_head_leaderboard(Tool.objects.get(slug="cursor").category)
    for row, leader in zip(rows, expected, strict=True):
        assert row["strength"] == pytest.approx(leader.strength)
        assert row["ci_low"] < row["strength"] < row["ci_high"]
        assert (row["rank_low"], row["rank_high"]) == (leader.rank_best, leader.rank_worst)
        assert row["votes"] == 8
    overall = client.get("/api/rankings").json()
    assert "gpt-4o" in {r["slug"] for r in overall}
    assert client.get("/api/rankings", {"category": "vector-databases"}).json() == []


def test_an_unknown_category_is_a_404(client, starter_catalog):
    response = client.get("/api/rankings", {"category": "nope"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no category 'nope'"}
    assert client.get("/api/rankings", {"category": "a\x00b"}).status_code == 404


def test_the_schema_documents_the_rankings(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/rankings" in schema["paths"]
    props = schema["components"]["schemas"]["RankingOut"]["properties"]
    assert set(props) >= FIELDS
    assert "Best place" in props["rank_low"]["description"]


@pytest.mark.page_cache
def test_the_rankings_are_cached_and_retired_by_a_vote(
    starter_catalog, counted, settings, django_capture_on_commit_callbacks
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    tools = vote_dev_tools()
    client = Client()
    url = "/api/rankings?category=developer-tools"
    first = client.get(url)
    assert first["ETag"]
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(20):
            person = create_member(f"late{i}@example.com")
            cast_pair_vote(person, tools["cursor"], tools["aider"], tools["aider"])
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 200
    assert [r["slug"] for r in client.get(url).json()] == ["aider", "cursor"]
