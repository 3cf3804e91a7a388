"""The sign-up box in a real browser.

Anonymous pages carry no script by default, so the box answers by a page, as it does
without JavaScript. With scripts on every page (TOOLVERDICT_PAGE_SCRIPTS = "all", for a
CDN) htmx arrives when the reader reaches for the form and the box answers in place.
"""

from __future__ import annotations

import pytest
from django.core import mail

from toolverdict.digest.models import Subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_by_default_the_signup_box_answers_by_a_page_with_no_script_loaded(
    live_server, page, starter_catalog
):
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto(live_server.url + "/")
    assert page.locator("script[src]").count() == 0
    page.locator("#digest-email").fill("plain@example.com")
    page.locator("#digest-signup button[type=submit]").click()
    page.locator("text=Check your inbox").wait_for()
    assert page.url.endswith("/digest/subscribe/")
    assert scripts == []
    assert Subscriber.objects.filter(email="plain@example.com").exists()


def test_signup_box_answers_in_place_with_htmx(live_server, page, starter_catalog, settings):
    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"
    page.goto(live_server.url + "/")
    # Reading costs no htmx: it arrives when the reader reaches for the form.
    assert page.evaluate("typeof window.htmx") == "undefined"
    box = page.locator("#digest-signup")
    # An address the browser accepts but the server refuses: the error appears in place.
    box.locator("input[name=email]").fill("reader@example")
    box.locator("button[type=submit]").click()
    page.locator("#digest-email-error").wait_for()
    assert "valid email" in page.locator("#digest-email-error").inner_text()
    assert Subscriber.objects.count() == 0
    box.locator("input[name=email]").fill("Browser@Example.com")
    box.locator("button[type=submit]").click()
    page.locator("#digest-signup >> text=Check your inbox").wait_for()
    assert page.url == live_server.url + "/"  # swapped in place, no navigation
    assert Subscriber.objects.get().email == "browser@example.com"
    assert len(mail.outbox) == 1


def test_a_signup_sent_before_htmx_arrives_is_answered_in_place(
    live_server, page, starter_catalog, settings
):
    import time

    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"

    def slow_htmx(route):
        time.sleep(1.0)  # htmx is still on its way when the form is submitted
        route.continue_()

    page.route("**/static/htmx.min.js*", slow_htmx)
    page.goto(live_server.url + "/")
    page.locator("#digest-email").evaluate("el => el.value = 'early@example.com'")
    page.locator("#digest-email").evaluate("el => el.form.requestSubmit()")
    page.locator("#digest-signup >> text=Check your inbox").wait_for()
    assert page.url == live_server.url + "/"  # sent again by htmx, in place
    assert page.evaluate("typeof window.htmx") == "object"
    assert Subscriber.objects.filter(email="early@example.com").count() == 1


def test_signup_box_works_without_javascript(live_server, chromium_browser, starter_catalog):
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        page.locator("#digest-email").fill("nojs@example.com")
        page.locator("#digest-signup button[type=submit]").click()
        page.locator("text=Check your inbox").wait_for()
        assert page.url.endswith("/digest/subscribe/")
        assert Subscriber.objects.filter(email="nojs@example.com").exists()
        # A malformed address comes back with the error next to the field.
        page.goto(live_server.url + "/")
        page.locator("#digest-email").evaluate("el => el.type = 'text'")
        page.locator("#digest-email").fill("not an address")
        page.locator("#digest-signup button[type=submit]").click()
        assert "cannot contain spaces" in page.locator("#digest-email-error").inner_text()
    finally:
        context.close()
