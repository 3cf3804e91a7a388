"""Every rate limit of the site, one function per action it authorises.

Each ``authorize_*`` function counts one attempt and answers True while the attempt is
within its limit, False once the limit is spent; callers never touch the cache. The limits
are fixed windows aligned to the clock (a "10/3600" limit allows 10 attempts per clock
hour), set in settings as "count/seconds" (TOOLVERDICT_RATE_LIMITS) or per hour, and a count
of 0 refuses every attempt.

Counters live in Django's default cache. The default local-memory cache is per process, so a
deployment running several web processes must point ``CACHE_URL`` at a shared cache (Redis,
Memcached or the database cache) for a limit to hold across processes. Keys carry a hash of
the client address or account, never the address itself.

A client address is counted as the unit one client holds (``address_key``): an IPv4
address alone, but an IPv6 address's whole /64, since one subscriber routinely gets a /64
and can pick any of its 2**64 addresses per request. An IPv4-mapped IPv6 address
(``::ffff:192.0.2.1``, as a dual-stack listener reports IPv4 clients) is its IPv4 address.

The admin's failed-sign-in throttle (core/login_throttle.py) is a different kind of limit: it
counts failures, not attempts, and blocks before the password is checked.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache

# Limits set as a number per hour, under their own settings.
_PER_HOUR = {
    "digest_signup_ip": "TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR",
    "submission_ip": "TOOLVERDICT_SUBMISSIONS_PER_HOUR",
}


def address_key(address: str) -> str:
    """The unit a client address is limited as: ``192.0.2.7`` for IPv4 (and IPv4-mapped
    IPv6), ``2001:db8:1:2::/64`` for any address in that IPv6 /64. Text that is not an
    address (empty, or a proxy's odd header) is its own unit."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def limit(action: str) -> tuple[int, int]:
    """(attempts allowed, window seconds) for a named action."""
    if action in _PER_HOUR:
        return int(getattr(settings, _PER_HOUR[action])), 3600
    count, seconds = str(settings.TOOLVERDICT_RATE_LIMITS[action]).split("/", 1)
    return int(count), max(int(seconds), 1)


def _within(action: str, ident: str) -> bool:
    """Count one attempt by ``ident`` at ``action``; True while within the limit."""
    allowed, window = limit(action)
    slot = int(time.time() // window)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
    key = f"tv:rl:{action}:{digest}:{slot}"
    # add() is a no-op when the key exists, so concurrent first hits do not reset it;
    # incr() is atomic in every cache backend Django ships.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add() and incr()
        cache.add(key, 1, timeout=window + 1)
        count = 1
    return count <= allowed


def authorize_vote(user_id: int, ip: str) -> bool:
    """A vote by this account from this address (TOOLVERDICT_COMMUNITY_RATE_VOTE_USER and
    _VOTE_IP). Both limits count every attempt, so one busy address cannot hide behind
    fresh accounts and one account cannot hide behind fresh addresses."""
    by_user = _within("vote_user", str(user_id))
    by_ip = _within("vote_ip", address_key(ip))
    return by_user and by_ip


def authorize_sign_in_email(ip: str, email: str) -> bool:
    """Mailing a sign-in link to ``email`` at the request of ``ip``: per address asking and
    per address mailed (no mail bombing). The address limit is counted only once the
    client's own limit lets the attempt through."""
    return _within("signin_ip", address_key(ip)) and _within("signin_email", email)


def authorize_digest_signup(ip: str) -> bool:
    """A digest sign-up attempt from ``ip`` (TOOLVERDICT_DIGEST_SIGNUPS_PER_HOUR)."""
    return _within("digest_signup_ip", address_key(ip) or "unknown")


def authorize_submission(ip: str) -> bool:
    """A maker submission from ``ip`` (TOOLVERDICT_SUBMISSIONS_PER_HOUR)."""
    return _within("submission_ip", address_key(ip))
