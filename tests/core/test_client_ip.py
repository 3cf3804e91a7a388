"""One rule for the client address, shared by every rate limit, and one hash to store it."""

from __future__ import annotations

import hashlib
import hmac

from django.test import RequestFactory

from toolverdict.core.net import client_hash, client_ip


def test_remote_addr_without_a_proxy_header(settings):
    settings.TOOLVERDICT_IP_HEADER = ""
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    # without a configured proxy, a client-sent X-Forwarded-For is ignored
    assert client_ip(request) == "203.0.113.9"


def test_behind_a_proxy_the_rightmost_entry_counts(settings):
    settings.TOOLVERDICT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    # the left entry is whatever the client sent; the right one was added by our proxy
    assert client_ip(request) == "198.51.100.7"


def test_missing_header_falls_back_to_remote_addr(settings):
    settings.TOOLVERDICT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_the_client_hash_is_the_keyed_hmac_of_the_address(settings):
    settings.SECRET_KEY = "k" * 50 + "another key entirely"
    expected = hmac.new(settings.SECRET_KEY.encode(), b"198.51.100.7", hashlib.sha256).hexdigest()
    assert client_hash("198.51.100.7") == expected
    assert len(expected) == 64 and "198.51.100.7" not in expected


def test_the_short_client_hash_is_a_prefix_of_the_full_one(settings):
    # Vote events keep 16 characters, submissions 64: one hash, so both stay comparable
    # with what was stored before they shared a helper.
    full = client_hash("203.0.113.9")
    assert client_hash("203.0.113.9", length=16) == full[:16]
    assert client_hash("203.0.113.10") != full


def test_no_address_hashes_to_nothing():
    assert client_hash("") == ""
