"""A signed-in reader handed the anonymous page (as a CDN would) gets their bits by htmx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.community.models import Member
from toolverdict.community.services import cast_tool_vote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"


def test_the_script_fetches_a_signed_in_readers_bits_into_a_shared_page(
    live_server, starter_catalog, page, settings
):
    from playwright.sync_api import expect

    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"  # the setting for a CDN that ignores cookies
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    user = get_user_model().objects.create_user(username="cdn@example.com", email="cdn@example.com")
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now())
    cast_tool_vote(user, Tool.objects.get(slug="claude-4-sonnet"), "skip")

    anonymous = Client().get(PAGE).content.decode()  # what a shared cache would hold
    assert "Sign in to vote" in anonymous and 'id="page-bits"' in anonymous

    signed_in = Client()
    signed_in.force_login(user)
    host = live_server.url.split("//")[1].split(":")[0]
    page.context.add_cookies(
        [
            {"name": name, "value": morsel.value, "domain": host, "path": "/"}
            for name, morsel in signed_in.cookies.items()
        ]
        + [{"name": "tv_member", "value": "1", "domain": host, "path": "/"}]
    )
    # The document itself comes from "the CDN": the anonymous copy, whatever the cookies.
    page.route(
        live_server.url + PAGE,
        lambda route: route.fulfill(body=anonymous, content_type="text/html; charset=utf-8"),
    )
    page.goto(live_server.url + PAGE)
    expect(page.get_by_role("link", name="My votes")).to_be_visible()
    # Blind first once their own box has arrived: the cards are behind this link.
    page.get_by_role("link", name="show the results now").click()
    claude = page.locator('.tool-card[data-tool="claude-4-sonnet"]')
    expect(claude.get_by_role("button", name="Skip")).to_have_attribute("aria-pressed", "true")
    claude.get_by_role("button", name="Ship").click()
    expect(claude.get_by_role("button", name="Ship")).to_have_attribute("aria-pressed", "true")
    expect(claude.locator(".community-figure dd")).to_have_text("100%")


def test_anonymous_readers_make_no_extra_request(live_server, starter_catalog, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(live_server.url + PAGE)
    page.wait_for_load_state("networkidle")
    assert not [u for u in requests if "page-bits" in u]
    assert page.context.cookies() == []  # the page set no cookie
