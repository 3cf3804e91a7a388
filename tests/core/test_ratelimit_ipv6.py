"""Rate limits count an IPv6 client by its /64 (one subscriber's allocation), an IPv4 client
by its address, and an IPv4-mapped IPv6 address as the IPv4 address it carries."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from toolverdict.core import ratelimit

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:7", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        (" 192.0.2.7 ", "192.0.2.7"),
        ("", ""),
        ("unknown", "unknown"),
    ],
)
def test_the_unit_an_address_is_limited_as(address, key):
    assert ratelimit.address_key(address) == key


def spend(authorize, first: str, *, times: int) -> None:
    """``times`` allowed attempts from ``first``'s /64, each from a fresh address in it."""
    prefix = first.rsplit(":", 1)[0]
    for i in range(times):
        assert authorize(f"{prefix}:{i + 1:x}"), i


@pytest.mark.parametrize(
    ("action", "authorize"),
    [
        ("vote_ip", lambda ip: ratelimit.authorize_vote(hash(ip) % 10_000, ip)),
        ("signin_ip", lambda ip: ratelimit.authorize_sign_in_email(ip, f"{ip}@example.com")),
        ("digest_signup_ip", ratelimit.authorize_digest_signup),
        ("submission_ip", ratelimit.authorize_submission),
    ],
)
def test_fresh_addresses_in_one_ipv6_64_share_one_count(settings, action, authorize):
    settings.TOOLVERDICT_RATE_LIMITS = {
        "vote_user": "100/3600",
        "vote_ip": "3/3600",
        "signin_ip": "3/3600",
        "signin_email": "100/3600",
    }
    settings.TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR = 3
    settings.TOOLVERDICT_SUBMISSIONS_PER_HOUR = 3
    assert ratelimit.limit(action)[0] == 3
    spend(authorize, "2001:db8:aa:1::1", times=3)
    assert not authorize("2001:db8:aa:1:dead:beef:cafe:1")  # same /64, another address
    assert authorize("2001:db8:aa:2::1")  # the next /64 is another client


def test_an_ipv4_mapped_address_counts_as_the_ipv4_address(settings):
    settings.TOOLVERDICT_SUBMISSIONS_PER_HOUR = 2
    assert ratelimit.authorize_submission("192.0.2.7")
    assert ratelimit.authorize_submission("::ffff:192.0.2.7")
    assert not ratelimit.authorize_submission("192.0.2.7")
    assert ratelimit.authorize_submission("192.0.2.8")  # IPv4 stays per address


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.com", PASSWORD)


def sign_in(client, password: str, ip: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_the_admin_throttle_counts_failures_per_ipv6_64(client, editor, settings):
    settings.TOOLVERDICT_ADMIN_LOGIN_LIMIT = "5/900"
    for i in range(5):
        assert sign_in(client, "wrong-password", f"2001:db8:77:1::{i + 1:x}").status_code == 200
    # A fresh address in the same /64 is still the same client: refused unchecked.
    assert sign_in(client, PASSWORD, "2001:db8:77:1:1234:5678:9abc:def0").status_code == 429
    assert sign_in(client, PASSWORD, "2001:db8:77:2::1").status_code == 302
