"""Blind first in a real browser, for a signed-in reader about to vote: the question, then
the results, with and without JS. A reader who cannot vote sees the results at once."""

from __future__ import annotations

import pytest
from django.test import Client

from toolverdict.community.models import PairVote

from .conftest import create_member

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PAGE = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
NAMES = {"claude-4-sonnet": "Claude 4 Sonnet", "smolvlm-2-5": "SmolVLM 2.5"}


def sign_in(context, user, live_server) -> None:
    client = Client()
    client.force_login(user)
    host = live_server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [
            {"name": name, "value": morsel.value, "domain": host, "path": "/"}
            for name, morsel in client.cookies.items()
        ]
    )


def test_vote_first_then_the_results_open(
    live_server, starter_catalog, chromium_browser, page, artifacts_dir, settings
):
    from playwright.sync_api import expect

    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0

    # An anonymous reader cannot vote: the question, and the verdicts open right after it.
    page.goto(live_server.url + PAGE)
    expect(page.get_by_role("heading", name="Which would you ship with?")).to_be_visible()
    cards = page.locator(".tool-card")
    expect(cards.first).to_be_visible()
    expect(page.locator(".tool-card .panel-figure").first).to_be_visible()

    # A signed-in reader with JavaScript: the buttons in their order, the vote opens it.
    reader = create_member("blind@example.com")
    context = chromium_browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        sign_in(context, reader, live_server)
        mine = context.new_page()
        mine.goto(live_server.url + PAGE)
        results = mine.locator("#results")
        expect(results).to_be_hidden()
        buttons = mine.locator(".pair-vote button[name=winner]")
        order = [buttons.nth(i).get_attribute("value") for i in range(2)]
        assert sorted(order) == sorted(NAMES)
        mine.evaluate("window.__stillHere = true")
        buttons.nth(0).click()
        expect(results).to_be_visible()
        expect(mine.locator(".pair-split")).to_contain_text(f"100% {NAMES[order[0]]}")
        expect(mine.locator(".pair-vote")).to_contain_text("Your vote is saved")
        assert mine.evaluate("window.__stillHere") is True  # swapped in place, no reload
        mine.screenshot(path=str(artifacts_dir / "blind-first-after-vote.png"), full_page=True)
        vote = PairVote.objects.get(user=reader)
        assert vote.shown_first.slug == order[0] and vote.winner.slug == order[0]
        # A reload keeps the order and the results open.
        mine.reload()
        assert (
            mine.locator(".pair-vote button[name=winner]").nth(0).get_attribute("value") == order[0]
        )
        expect(mine.locator("#results")).to_be_visible()
    finally:
        context.close()

    # Without JavaScript: "show the results now" still opens, and a vote reloads with them open.
    other = create_member("nojs@example.com")
    plain_context = chromium_browser.new_context(java_script_enabled=False)
    try:
        sign_in(plain_context, other, live_server)
        plain = plain_context.new_page()
        plain.goto(live_server.url + PAGE)
        expect(plain.locator("#results")).to_be_hidden()
        plain.get_by_role("link", name="show the results now").click()
        expect(plain.locator(".tool-card").first).to_be_visible()
        plain.goto(live_server.url + PAGE)
        expect(plain.locator("#results")).to_be_hidden()
        plain.locator(".pair-vote button[name=winner]").nth(1).click()
        plain.wait_for_url(live_server.url + PAGE)
        expect(plain.locator("#results")).to_be_visible()
        expect(plain.locator(".pair-split")).to_contain_text("2 votes")
        second = PairVote.objects.get(user=other)
        assert second.shown_first is not None and second.winner != second.shown_first
    finally:
        plain_context.close()


def test_a_voter_handed_the_shared_copy_gets_the_results_opened(
    live_server, starter_catalog, page, settings
):
    """A CDN serves everyone the anonymous copy; the reader's bits arrive by htmx."""
    from playwright.sync_api import expect

    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"  # the setting for such a CDN

    from toolverdict.catalog.models import Tool
    from toolverdict.community.votes import cast_pair_vote

    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    voter = create_member("cdn-voter@example.com")
    claude, smol = Tool.objects.get(slug="claude-4-sonnet"), Tool.objects.get(slug="smolvlm-2-5")
    cast_pair_vote(voter, claude, smol, smol)
    anonymous = Client().get(PAGE).content.decode()
    assert "Your vote is saved" not in anonymous
    sign_in(page.context, voter, live_server)
    host = live_server.url.split("//")[1].split(":")[0]
    page.context.add_cookies([{"name": "tv_member", "value": "1", "domain": host, "path": "/"}])
    page.route(
        live_server.url + PAGE,
        lambda route: route.fulfill(body=anonymous, content_type="text/html; charset=utf-8"),
    )
    page.goto(live_server.url + PAGE)
    expect(page.locator(".pair-vote")).to_contain_text("Your vote is saved")
    expect(page.locator("#results")).to_be_visible()
