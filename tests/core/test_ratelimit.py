"""One rate limiter: each authorize_* function counts an attempt and says whether it may go on."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from toolverdict.core import ratelimit


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def limits(settings, **changed: str) -> None:
    # Hour-long windows: no window edge falls inside a test.
    settings.TOOLVERDICT_RATE_LIMITS = {**settings.TOOLVERDICT_RATE_LIMITS, **changed}


def test_votes_from_one_address_are_refused_past_the_limit_whatever_the_account(settings):
    limits(settings, vote_user="100/3600", vote_ip="2/3600")
    assert ratelimit.authorize_vote(1, "192.0.2.7")
    assert ratelimit.authorize_vote(2, "192.0.2.7")
    assert not ratelimit.authorize_vote(3, "192.0.2.7")
    assert ratelimit.authorize_vote(3, "192.0.2.8")  # another address has its own count


def test_a_vote_counts_against_both_limits_even_when_one_refuses_it(settings):
    limits(settings, vote_user="2/3600", vote_ip="1/3600")
    assert ratelimit.authorize_vote(1, "192.0.2.1")
    assert not ratelimit.authorize_vote(1, "192.0.2.1")  # the address is spent...
    # ...and the refused attempt still counted for the account: its next one is its third.
    assert not ratelimit.authorize_vote(1, "192.0.2.2")


def test_sign_in_mails_are_limited_per_client_and_per_address_mailed(settings):
    limits(settings, signin_ip="1/3600", signin_email="3/3600")
    assert ratelimit.authorize_sign_in_email("192.0.2.1", "a@example.com")
    # The client's limit refuses before the address is counted.
    assert not ratelimit.authorize_sign_in_email("192.0.2.1", "a@example.com")
    assert ratelimit.authorize_sign_in_email("192.0.2.2", "a@example.com")
    assert ratelimit.authorize_sign_in_email("192.0.2.3", "a@example.com")
    assert not ratelimit.authorize_sign_in_email("192.0.2.4", "a@example.com")
    assert ratelimit.authorize_sign_in_email("192.0.2.5", "b@example.com")


def test_hourly_limits_read_their_own_settings(settings):
    settings.TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR = 2
    settings.TOOLVERDICT_SUBMISSIONS_PER_HOUR = 1
    assert ratelimit.limit("digest_signup_ip") == (2, 3600)
    assert [ratelimit.authorize_digest_signup("") for _ in range(3)] == [True, True, False]
    assert ratelimit.authorize_submission("192.0.2.9")
    assert not ratelimit.authorize_submission("192.0.2.9")
    # Separate actions keep separate counts for the same address.
    assert ratelimit.authorize_digest_signup("192.0.2.9")


def test_a_limit_of_zero_refuses_every_attempt(settings):
    settings.TOOLVERDICT_SUBMISSIONS_PER_HOUR = 0
    limits(settings, vote_user="0/60")
    assert not ratelimit.authorize_submission("192.0.2.9")
    assert not ratelimit.authorize_vote(1, "192.0.2.9")


def test_count_slash_seconds_limits_are_parsed(settings):
    limits(settings, vote_ip="120/60")
    assert ratelimit.limit("vote_ip") == (120, 60)
