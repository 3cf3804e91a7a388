"""The page cache: anonymous pages from the cache, retired exactly by the writes they show.

Writes bump versions on commit; these tests commit through
django_capture_on_commit_callbacks(execute=True), as a real request or task would.
"""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.redis_service import REDIS_URL, redis_reachable
from toolverdict.catalog.models import Tool
from toolverdict.community.models import Member
from toolverdict.community.services import cast_pair_vote, cast_tool_vote
from toolverdict.pagecache.member_cookie import MEMBER_COOKIE
from toolverdict.pagecache.middleware import PageCacheMiddleware

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]

TOOL = "/tools/claude-4-sonnet/"
OTHER_TOOL = "/tools/cursor/"  # another category
PAIR = "/compare/claude-4-sonnet-vs-smolvlm-2-5/"


@pytest.fixture(autouse=True)
def counted_at_once(settings):
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 1
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0  # no time-based rollover inside a test


def make_member(email: str = "reader@example.com"):
    user = get_user_model().objects.create_user(username=email, email=email)
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now())
    return user


def queries(client: Client, url: str, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, headers=headers)
    return len(ctx.captured_queries), response


def revalidate(url: str, response) -> int:
    return Client().get(url, headers={"If-None-Match": response["ETag"]}).status_code


def test_anonymous_page_is_cookie_free_cacheable_and_served_from_the_cache(starter_catalog):
    client = Client()
    first = client.get(TOOL)
    assert first.status_code == 200
    assert not first.cookies  # no csrftoken, no session
    assert "Cookie" not in first.get("Vary", "")
    assert first["Cache-Control"].startswith("public, max-age=")
    assert "stale-while-revalidate=" in first["Cache-Control"]
    assert first["ETag"].startswith('W/"') and first["Last-Modified"]
    assert "csrfmiddlewaretoken" not in first.content.decode()
    count, again = queries(client, TOOL)
    assert count == 1  # the version lookup, nothing else
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in again


def test_conditional_get_answers_304(starter_catalog):
    page = Client().get(TOOL)
    not_modified = Client().get(TOOL, headers={"If-None-Match": page["ETag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == page["ETag"]
    by_date = Client().get(TOOL, headers={"If-Modified-Since": page["Last-Modified"]})
    assert by_date.status_code == 304
    assert Client().get(TOOL, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_html_is_gzipped_for_clients_that_accept_it(starter_catalog):
    plain = Client().get(PAIR)
    packed = Client().get(PAIR, headers={"Accept-Encoding": "gzip, br"})
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 3
    assert packed["Vary"] == "Accept-Encoding"


def test_a_vote_shows_on_the_next_request_and_unrelated_pages_stay_cached(
    starter_catalog, django_capture_on_commit_callbacks
):
    member = make_member()
    client = Client()
    before = {url: client.get(url) for url in (TOOL, OTHER_TOOL, PAIR, "/", "/search/?q=a")}
    assert "1 community vote" not in before[TOOL].content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        cast_tool_vote(member, Tool.objects.get(slug="claude-4-sonnet"), "ship")
    after = client.get(TOOL)
    assert after["ETag"] != before[TOOL]["ETag"]
    body = after.content.decode()
    assert "1 community vote" in body
    assert '<div class="figure community-figure"><dt>Community</dt><dd>100%</dd>' in body
    assert "1 community vote" in client.get(PAIR).content.decode()  # shows the tool too
    assert revalidate("/", before["/"]) == 200  # lists the latest tools' figures
    # Another category's tool page and the search results are untouched.
    assert revalidate(OTHER_TOOL, before[OTHER_TOOL]) == 304
    assert revalidate("/search/?q=a", before["/search/?q=a"]) == 304
    assert queries(client, OTHER_TOOL)[0] == 1


def test_a_pair_vote_retires_the_comparison_not_the_tool_pages(
    starter_catalog, django_capture_on_commit_callbacks
):
    member = make_member()
    client = Client()
    before = {url: client.get(url) for url in (TOOL, PAIR)}
    claude, smol = Tool.objects.get(slug="claude-4-sonnet"), Tool.objects.get(slug="smolvlm-2-5")
    with django_capture_on_commit_callbacks(execute=True):
        cast_pair_vote(member, claude, smol, smol)
    assert "<strong>100%</strong> SmolVLM 2.5" in client.get(PAIR).content.decode()
    assert revalidate(TOOL, before[TOOL]) == 304


def test_a_review_landing_shows_on_the_next_request(
    starter_catalog, django_capture_on_commit_callbacks
):
    from tests.panel.fakes import ScriptedModel
    from toolverdict.panel.services import review_tools

    client = Client()
    before = {url: client.get(url) for url in (TOOL, OTHER_TOOL)}
    assert "The panel has not reviewed this tool yet." in before[TOOL].content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        review_tools([Tool.objects.get(slug="claude-4-sonnet").pk], ScriptedModel())
    body = client.get(TOOL).content.decode()
    assert "The panel has not reviewed this tool yet." not in body
    assert body.count("verdict-ship") >= 3
    assert revalidate(OTHER_TOOL, before[OTHER_TOOL]) == 304


def test_a_catalog_edit_retires_catalog_pages(starter_catalog, django_capture_on_commit_callbacks):
    client = Client()
    before = client.get(OTHER_TOOL)
    with django_capture_on_commit_callbacks(execute=True):
        tool = Tool.objects.get(slug="cursor")
        tool.tagline = "A freshly edited tagline"
        tool.save()
    assert "A freshly edited tagline" in client.get(OTHER_TOOL).content.decode()
    assert revalidate(OTHER_TOOL, before) == 200


def test_a_sent_digest_issue_retires_the_archive_only(
    starter_catalog, django_capture_on_commit_callbacks
):
    from toolverdict.digest import sending
    from toolverdict.digest.models import Issue

    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        issue = Issue.objects.create(
            iso_year=2026,
            iso_week=40,
            subject="A cached issue",
            status=Issue.Status.SENDING,
            period_start=now - timedelta(days=7),
            period_end=now,
        )
    client = Client()
    archive, tool = client.get("/digest/"), client.get(TOOL)
    feed = client.get("/digest/feed.atom")
    assert feed.status_code == 200 and feed["ETag"]
    assert "A cached issue" not in archive.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        # The sender marks the issue sent with a conditional UPDATE (no post_save).
        sending._finish(issue, sending.SendReport(issue=issue.key))
    assert "A cached issue" in client.get("/digest/").content.decode()
    assert revalidate("/digest/feed.atom", feed) == 200
    assert revalidate(TOOL, tool) == 304


def test_the_api_is_cached_and_retired_by_votes(
    starter_catalog, django_capture_on_commit_callbacks
):
    client = Client()
    first = client.get("/api/tools/claude-4-sonnet")
    assert first.status_code == 200 and first["ETag"]
    assert queries(client, "/api/tools/claude-4-sonnet")[0] == 1
    with django_capture_on_commit_callbacks(execute=True):
        cast_tool_vote(make_member(), Tool.objects.get(slug="claude-4-sonnet"), "skip")
    assert client.get("/api/tools/claude-4-sonnet").json()["community_votes"] == 1


def test_signed_in_readers_get_the_cached_page_with_their_bits_filled_in(starter_catalog):
    member = make_member()
    claude, smol = Tool.objects.get(slug="claude-4-sonnet"), Tool.objects.get(slug="smolvlm-2-5")
    cast_tool_vote(member, claude, "skip")
    cast_pair_vote(member, claude, smol, smol)
    anonymous = Client().get(PAIR)  # stores the page
    assert "Sign in to vote" in anonymous.content.decode()
    client = Client()
    client.force_login(member)
    client.get(reverse("community:profile"))  # warm the session
    count, page = queries(client, PAIR)
    # Versions, session, user, member votes, pair choice: the page itself is not rendered.
    assert count <= 5, count
    assert page["Cache-Control"] == "private, no-cache"
    assert "ETag" not in page
    body = page.content.decode()
    assert 'href="/accounts/me/">My votes</a>' in body
    assert 'action="/accounts/logout/"' in body
    assert 'value="skip" class="vote-skip" aria-pressed="true"' in body
    assert 'value="smolvlm-2-5" class="" aria-pressed="true"' in body
    assert f'<input type="hidden" name="next" value="{PAIR}">' in body
    assert "csrfmiddlewaretoken" in body
    assert 'id="page-bits"' not in body  # nothing left for the script to fetch
    # Everything else is the stored page, byte for byte.
    strip = re.compile(r"<!--pb:([a-z]+(?::[a-z0-9-]+)?)-->.*?<!--/pb:\1-->", re.S)
    assert strip.sub("", body) == strip.sub("", anonymous.content.decode())


def test_a_signed_in_reader_who_renders_the_page_first_still_gets_their_bits(
    starter_catalog,
):
    member = make_member()
    cast_tool_vote(member, Tool.objects.get(slug="claude-4-sonnet"), "ship")
    client = Client()
    client.force_login(member)
    body = client.get(TOOL).content.decode()  # a miss: stored anonymous, then filled in
    assert 'value="ship" class="vote-ship" aria-pressed="true"' in body
    assert 'href="/accounts/me/">My votes</a>' in body
    anonymous = Client().get(TOOL).content.decode()  # the stored copy has no trace of them
    assert "My votes" not in anonymous and "csrfmiddlewaretoken" not in anonymous
    assert "Sign in to vote" in anonymous


def test_the_token_in_a_filled_in_page_is_accepted_for_a_vote(starter_catalog):
    Client().get(TOOL)  # stored
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_member())
    page = client.get(TOOL)
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("community:vote_tool", args=["claude-4-sonnet"]),
        {"value": "ship", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_messages_reach_a_signed_in_reader_of_a_cached_page(starter_catalog):
    member = make_member()
    Client().get(TOOL)
    client = Client()
    client.force_login(member)
    response = client.post(
        reverse("community:vote_tool", args=["claude-4-sonnet"]),
        {"value": "ship", "next": TOOL},
    )
    assert response.status_code == 302
    body = client.get(TOOL).content.decode()
    assert "Your vote on Claude 4 Sonnet is saved: ship." in body
    assert "saved: ship" not in client.get(TOOL).content.decode()  # shown once


def test_the_fragment_carries_a_readers_bits_for_pages_served_from_a_shared_cache(
    starter_catalog, settings
):
    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"  # the setting for a CDN that ignores cookies
    member = make_member()
    cast_tool_vote(member, Tool.objects.get(slug="claude-4-sonnet"), "skip")
    body = Client().get(PAIR).content.decode()
    assert 'id="page-bits"' in body and "/static/site.js" in body
    src = body.split('data-src="')[1].split('"')[0].replace("&amp;", "&")
    assert "tools=claude-4-sonnet%2Csmolvlm-2-5" in src
    assert "pair=claude-4-sonnet%2Csmolvlm-2-5" in src
    client = Client()
    client.force_login(member)
    bits = client.get(src + "&next=" + PAIR, headers={"HX-Request": "true"})
    assert bits.status_code == 200
    assert bits["Cache-Control"] == "private, no-store"
    fragment = bits.content.decode()
    assert 'href="/accounts/me/">My votes</a>' in fragment
    assert 'action="/accounts/logout/"' in fragment
    assert 'value="skip" class="vote-skip" aria-pressed="true"' in fragment
    assert f'<input type="hidden" name="next" value="{PAIR}">' in fragment
    assert "csrfmiddlewaretoken" in fragment and "csrftoken" in bits.cookies
    assert 'hx-swap-oob="innerHTML:.pair-vote .vote-action"' in fragment


def test_the_fragment_token_is_accepted_for_a_vote(starter_catalog):
    member = make_member()
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    bits = client.get(reverse("community:page_bits") + "?tools=claude-4-sonnet&next=/")
    token = bits.cookies["csrftoken"].value
    response = client.post(
        reverse("community:vote_tool", args=["claude-4-sonnet"]),
        {"value": "ship", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_the_fragment_for_an_anonymous_reader_has_no_vote_forms(starter_catalog):
    client = Client()
    client.cookies[MEMBER_COOKIE] = "1"  # a stale marker after the session expired
    bits = client.get(reverse("community:page_bits") + "?tools=claude-4-sonnet")
    assert "Sign in" in bits.content.decode()
    assert 'name="value"' not in bits.content.decode()
    assert bits.cookies[MEMBER_COOKIE].value == ""  # deleted


def test_member_cookie_follows_sign_in_and_sign_out(starter_catalog):
    member = make_member()
    client = Client()
    client.force_login(member)
    response = client.get(reverse("community:profile"))
    assert response.cookies[MEMBER_COOKIE].value == "1"
    assert not response.cookies[MEMBER_COOKIE]["httponly"]
    out = client.post(reverse("community:logout"))
    assert out.cookies[MEMBER_COOKIE].value == ""


def test_a_response_that_sets_a_cookie_is_not_stored():
    from django.http import HttpResponse

    response = HttpResponse("<p>x</p>" * 100, content_type="text/html")
    assert PageCacheMiddleware._entry(response) is not None
    response.set_cookie("csrftoken", "secret")
    assert PageCacheMiddleware._entry(response) is None


def test_unknown_pages_and_posts_bypass_the_cache(starter_catalog):
    assert Client().get("/tools/no-such-tool/").status_code == 404
    response = Client().get("/accounts/login/")
    assert "ETag" not in response
    assert "ETag" not in Client().post(TOOL)


def test_signup_refuses_cross_site_posts_and_takes_same_origin_ones(db, mailoutbox):
    url = reverse("digest:subscribe")
    data = {"email": "reader@example.com"}
    evil = Client().post(url, data, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    fetched = Client().post(url, data, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    ok = Client().post(
        url, data, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    )
    assert ok.status_code == 200
    assert b"Check your inbox" in ok.content


@pytest.mark.integration
@pytest.mark.skipif(not redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_with_redis_pages_and_versions_live_in_redis(
    settings, starter_catalog, django_capture_on_commit_callbacks
):
    import environ
    from django.core.cache import caches

    redis_cache = environ.Env.cache_url_config(REDIS_URL)
    assert redis_cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    redis_cache["BACKEND"] = "toolverdict.core.redis_cache.RedisCache"  # as settings.py does
    settings.CACHES = {"default": redis_cache, "pagecache": {**redis_cache, "KEY_PREFIX": "pages"}}
    caches["pagecache"].clear()
    client = Client()
    before = {url: client.get(url) for url in (TOOL, OTHER_TOOL)}
    assert queries(client, TOOL)[0] == 0  # versions and page both from Redis
    with django_capture_on_commit_callbacks(execute=True):
        cast_tool_vote(make_member(), Tool.objects.get(slug="claude-4-sonnet"), "ship")
    assert caches["pagecache"].get("tv:v:tool:claude-4-sonnet")  # the version is in Redis
    assert "1 community vote" in client.get(TOOL).content.decode()
    assert revalidate(OTHER_TOOL, before[OTHER_TOOL]) == 304
    caches["pagecache"].clear()


@pytest.mark.integration
@pytest.mark.skipif(not redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_with_redis_a_hit_reads_only_the_versions_from_redis_and_still_sees_the_next_vote(
    settings, starter_catalog, django_capture_on_commit_callbacks
):
    import environ
    from django.core.cache import caches

    from toolverdict.pagecache import store

    redis_cache = environ.Env.cache_url_config(REDIS_URL)
    redis_cache["BACKEND"] = "toolverdict.core.redis_cache.RedisCache"  # as settings.py does
    settings.CACHES = {"default": redis_cache, "pagecache": {**redis_cache, "KEY_PREFIX": "pages"}}
    caches["pagecache"].clear()
    client = Client()
    first = client.get(TOOL)
    assert len(store.front.entries) == 1
    # The page leaves Redis (evicted, or flushed): this process still holds its copy, and
    # the key names the page's versions, so the copy is the page as it is now.
    caches["pagecache"].delete_many([k for k in store.front.entries])
    again = client.get(TOOL)
    assert again.content == first.content
    assert caches["pagecache"].get(next(iter(store.front.entries))) is None
    with django_capture_on_commit_callbacks(execute=True):
        cast_tool_vote(make_member(), Tool.objects.get(slug="claude-4-sonnet"), "ship")
    assert "1 community vote" in client.get(TOOL).content.decode()
    assert len(store.front.entries) == 2  # a new key; the old copy is never served
    caches["pagecache"].clear()


def test_with_a_file_cache_an_evicted_version_never_brings_back_an_older_page(
    settings, tmp_path, starter_catalog, django_capture_on_commit_callbacks
):
    from django.core.cache import caches

    from toolverdict.pagecache import versions

    file_cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "cache"),
    }
    settings.CACHES = {"default": file_cache, "pagecache": file_cache}
    client = Client()
    before = client.get(TOOL)
    assert "1 community vote" not in before.content.decode()
    assert versions.get_versions(["tool:claude-4-sonnet"])["tool:claude-4-sonnet"] > 0
    with django_capture_on_commit_callbacks(execute=True):
        cast_tool_vote(make_member(), Tool.objects.get(slug="claude-4-sonnet"), "ship")
    after = client.get(TOOL)
    assert "1 community vote" in after.content.decode()
    # The cache drops the version (culled, evicted): the page gets a key it never had, so
    # neither the page stored before the vote nor the one after is served under it.
    caches["pagecache"].delete(versions.CACHE_PREFIX + "tool:claude-4-sonnet")
    again = client.get(TOOL)
    assert again["ETag"] not in (before["ETag"], after["ETag"])
    assert "1 community vote" in again.content.decode()


def test_the_front_copies_stay_within_their_bound(settings):
    from toolverdict.pagecache.store import Entry, front

    settings.TOOLVERDICT_PAGE_CACHE_FRONT_ENTRIES = 2
    for n in range(3):
        front.put(f"k{n}", Entry(200, [], b"page"), 60)
    assert list(front.entries) == ["k1", "k2"]
    assert front.get("k0") is None
    front.put("k3", Entry(200, [], b"page"), -1)  # already expired
    assert front.get("k3") is None


def test_a_cached_page_is_found_for_its_path_and_other_paths_are_not(starter_catalog):
    from django.test import RequestFactory

    from toolverdict.pagecache.middleware import cached_page

    factory = RequestFactory()
    assert cached_page(factory.get(PAIR)) == (
        "compare:pair",
        {"a": "claude-4-sonnet", "b": "smolvlm-2-5"},
    )
    assert cached_page(factory.get(PAIR)) == cached_page(factory.get(PAIR))
    assert cached_page(factory.get("/healthz")) is None
    assert cached_page(factory.get("/no/such/page/")) is None


def test_confirming_an_address_retires_the_pages_its_votes_count_on(
    starter_catalog, django_capture_on_commit_callbacks
):
    from toolverdict.community.accounts import confirm_email

    user = make_member()
    member = user.member
    member.email_confirmed_at = None
    member.save(update_fields=["email_confirmed_at"])
    cast_tool_vote(user, Tool.objects.get(slug="claude-4-sonnet"), "ship")
    client = Client()
    before = client.get(TOOL).content.decode()
    assert "0 community votes" in before or "1 community vote" not in before
    with django_capture_on_commit_callbacks(execute=True):
        confirm_email(user)
    assert "1 community vote" in client.get(TOOL).content.decode()


# Any script but the JSON-LD data block (share tags), which browsers do not run.
RUNNABLE_SCRIPT = re.compile(r"<script(?![^>]*application/ld\+json)")


def test_anonymous_pages_carry_no_script_and_a_signed_in_readers_copy_gets_them(
    starter_catalog,
):
    anonymous = Client().get(PAIR).content.decode()
    assert not RUNNABLE_SCRIPT.search(anonymous)  # reading needs no JavaScript
    assert "<!--pb:scripts--><!--/pb:scripts-->" in anonymous
    client = Client()
    client.force_login(make_member())
    body = client.get(PAIR).content.decode()  # the stored page, filled in for them
    assert re.search(r'<script src="/static/site\.js\?v=[0-9a-f]{12}" data-htmx=', body)
    assert len(RUNNABLE_SCRIPT.findall(body)) == 1  # site.js only: blind first is CSS
    assert not RUNNABLE_SCRIPT.search(Client().get(PAIR).content.decode())  # stored copy as was
    # A page outside the page cache, rendered for the reader, has them too.
    assert "/static/site.js" in client.get(reverse("community:profile")).content.decode()


def test_the_scripts_setting_gives_anonymous_pages_new_keys(starter_catalog, settings):
    before = Client().get(TOOL)
    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"
    after = Client().get(TOOL)
    assert after["ETag"] != before["ETag"]
    assert "/static/site.js" in after.content.decode()
