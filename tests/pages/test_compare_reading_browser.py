"""The seed comparison in a real browser: who sees the verdicts at once, and who answers first.

A reader who cannot vote (not signed in) sees the panel's verdict and the readers' split
as the page opens. Blind first is for a signed-in reader who has not voted on the pair:
the results stay out of sight until they vote or choose "show the results now", whether
their copy was filled in by the site or by the page-bits request into a shared copy.
(Without JavaScript, and a voter's shared copy: tests/community/test_blind_browser.py.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.community.models import Member
from toolverdict.community.services import cast_pair_vote

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PAGE = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"


def _member(email: str):
    user = get_user_model().objects.create_user(username=email, email=email)
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now())
    return user


def _sign_in(context, user, live_server, member_cookie: bool = False) -> None:
    client = Client()
    client.force_login(user)
    host = live_server.url.split("//")[1].split(":")[0]
    cookies = [
        {"name": name, "value": morsel.value, "domain": host, "path": "/"}
        for name, morsel in client.cookies.items()
    ]
    if member_cookie:
        cookies.append({"name": "tv_member", "value": "1", "domain": host, "path": "/"})
    context.add_cookies(cookies)


@pytest.fixture
def one_vote(starter_catalog, settings):
    """A counted head-to-head vote for SmolVLM 2.5 by someone else: the split shows."""
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    claude, smol = Tool.objects.get(slug="claude-4-sonnet"), Tool.objects.get(slug="smolvlm-2-5")
    cast_pair_vote(_member("earlier@example.com"), claude, smol, smol)


def test_a_reader_who_cannot_vote_sees_the_verdicts_at_once(
    live_server, one_vote, page, artifacts_dir
):
    from playwright.sync_api import expect

    page.goto(live_server.url + PAGE)
    expect(page.locator(".pair-split")).to_contain_text("100% SmolVLM 2.5")
    expect(page.locator(".pair-split")).to_be_visible()
    expect(page.locator(".tool-card .panel-figure").first).to_be_visible()
    expect(page.get_by_role("heading", name="The reviewer scorecard")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in to vote").first).to_be_visible()
    expect(page.locator(".pair-vote .blind-note")).to_be_hidden()  # nothing to answer first
    # The question still comes first in the reading order, the verdicts right after it.
    question = page.locator(".pair-vote").bounding_box()
    results = page.locator("#results").bounding_box()
    assert question["y"] + question["height"] <= results["y"]
    page.screenshot(path=str(artifacts_dir / "compare-anonymous.png"), full_page=True)


def test_a_signed_in_reader_answers_first_with_javascript(
    live_server, one_vote, chromium_browser, artifacts_dir
):
    from playwright.sync_api import expect

    reader = _member("about-to-vote@example.com")
    context = chromium_browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        _sign_in(context, reader, live_server)
        page = context.new_page()
        page.goto(live_server.url + PAGE)
        results = page.locator("#results")
        expect(page.locator(".pair-vote button[name=winner]").first).to_be_visible()
        expect(results).to_be_hidden()
        expect(page.locator(".pair-vote .blind-note")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "compare-blind-first.png"), full_page=True)
        # Choosing to look opens them without a vote ...
        page.get_by_role("link", name="show the results now").click()
        expect(results).to_be_visible()
        expect(page.locator(".pair-split")).to_contain_text("100% SmolVLM 2.5")
        # ... and a fresh visit asks again.
        page.goto(live_server.url + PAGE)
        expect(results).to_be_hidden()
        page.evaluate("window.__stillHere = true")
        page.locator(".pair-vote button[name=winner][value=claude-4-sonnet]").click()
        expect(page.locator(".pair-vote")).to_contain_text("Your vote is saved")
        expect(results).to_be_visible()
        expect(page.locator(".pair-split")).to_contain_text("50% Claude 4 Sonnet")
        assert page.evaluate("window.__stillHere") is True  # answered in place
        page.reload()
        expect(results).to_be_visible()
    finally:
        context.close()


def test_a_shared_copy_closes_for_a_reader_about_to_vote_once_their_box_arrives(
    live_server, one_vote, page, settings
):
    """A CDN hands everyone the anonymous copy, results open; the reader's box arrives by
    htmx, and with it blind first. (A voter's copy stays open: test_blind_browser.py.)"""
    from playwright.sync_api import expect

    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"  # the setting for such a CDN
    anonymous = Client().get(PAGE).content.decode()
    _sign_in(page.context, _member("cdn-new@example.com"), live_server, member_cookie=True)
    page.route(
        live_server.url + PAGE,
        lambda route: route.fulfill(body=anonymous, content_type="text/html; charset=utf-8"),
    )
    page.goto(live_server.url + PAGE)
    expect(page.locator(".pair-vote button[name=winner]").first).to_be_visible()
    expect(page.locator("#results")).to_be_hidden()
    expect(page.locator(".pair-vote .blind-note")).to_be_visible()
