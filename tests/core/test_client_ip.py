"""One rule for the client address, shared by every rate limit."""

from __future__ import annotations

from django.test import RequestFactory

from toolverdict.core.net import client_ip


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
