"""A reader signs in by emailed link, votes on a comparison page and sees the figures move."""

from __future__ import annotations

import re

import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PAGE = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"
LINK = re.compile(r"https?://\S+/accounts/login/link/\?\S+")


def test_sign_in_vote_and_see_community_change(
    live_server, starter_catalog, page, chromium_browser, artifacts_dir, settings
):
    from playwright.sync_api import expect

    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    settings.SITE_URL = live_server.url  # mailed links point at the public origin
    page.goto(live_server.url + PAGE)
    # Not signed in: the verdicts are open at once.
    claude = page.locator('.tool-card[data-tool="claude-4-sonnet"]')
    figure = claude.locator(".community-figure dd")
    expect(figure).to_have_text("—")

    claude.get_by_role("link", name="Sign in to vote").click()
    page.get_by_label("Email address").fill("browser@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    link = LINK.search(mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + PAGE)
    expect(page.get_by_role("link", name="My votes")).to_be_visible()
    # Signed in and not yet voted on the pair: blind first, the cards are behind this link.
    page.get_by_role("link", name="show the results now").click()

    # htmx swaps the box and the figure in place: a marker on window survives.
    page.evaluate("window.__stillHere = true")
    claude.get_by_role("button", name="Ship").click()
    expect(figure).to_have_text("100%")
    expect(claude.get_by_role("button", name="Ship")).to_have_attribute("aria-pressed", "true")
    claude.get_by_role("button", name="Skip").click()
    expect(figure).to_have_text("0%")
    expect(claude.locator(".vote-count")).to_have_text("1 community vote")

    pair = page.locator(".pair-vote")
    pair.get_by_role("button", name="SmolVLM 2.5").click()
    expect(page.locator(".pair-split")).to_contain_text("100% SmolVLM 2.5")
    assert page.evaluate("window.__stillHere") is True
    page.screenshot(path=str(artifacts_dir / "community-compare-vote.png"), full_page=True)

    # The same buttons work with JavaScript off: a plain POST and a redirect back.
    no_js = chromium_browser.new_context(java_script_enabled=False)
    try:
        no_js.add_cookies(page.context.cookies())
        plain = no_js.new_page()
        plain.goto(live_server.url + PAGE)  # voted on the pair: the results are open
        card = plain.locator('.tool-card[data-tool="claude-4-sonnet"]')
        card.get_by_role("button", name="Ship").click()
        plain.wait_for_url(live_server.url + PAGE)
        expect(card.locator(".community-figure dd")).to_have_text("100%")
        expect(plain.locator(".messages")).to_contain_text("Your vote on Claude 4 Sonnet is saved")
    finally:
        no_js.close()

    from toolverdict.community.models import ToolVote, VoteEvent

    assert ToolVote.objects.get(tool__slug="claude-4-sonnet").value == "ship"
    assert VoteEvent.objects.filter(kind="tool").count() == 3
