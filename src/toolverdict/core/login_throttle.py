"""Failed password sign-ins (the admin login) are throttled per client address and username.

Every password check that fails on a throttled view counts one failure against the client
address (core.net.client_ip; for IPv6 its whole /64, see core/ratelimit.py) and one against
the username. Once the address has reached TOOLVERDICT_ADMIN_LOGIN_LIMIT ("count/seconds",
default 5 per 15 minutes), or the username
TOOLVERDICT_ADMIN_LOGIN_USERNAME_LIMIT (default 20 per 15 minutes: higher, so that a
stranger cannot lock an editor out as cheaply, yet still a stop to guessing one account
from many addresses), further sign-in POSTs are answered 429 without checking the
password until the failures age out (one to two windows). Counters live in Django's cache;
several web processes need a shared CACHE_URL for a limit to hold across them.
"""

from __future__ import annotations

import hashlib
import logging
import time
import unicodedata
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from .errors import too_many_requests
from .net import client_ip
from .ratelimit import address_key

log = logging.getLogger(__name__)

# Set on a request by the throttled view so that only its failures are counted.
_FLAG = "_toolverdict_login_throttled"


# The setting of each kind's limit (its default is in settings.py).
_SETTINGS = {
    "ip": "TOOLVERDICT_ADMIN_LOGIN_LIMIT",
    "user": "TOOLVERDICT_ADMIN_LOGIN_USERNAME_LIMIT",
}


def limit(kind: str = "ip") -> tuple[int, int]:
    """(failures allowed, window seconds) per address or username; count 0 switches it off."""
    count, seconds = str(getattr(settings, _SETTINGS[kind])).split("/", 1)
    return int(count), max(int(seconds), 1)


def _idents(ip: str, username: str) -> list[tuple[str, str]]:
    # An IPv6 client is counted by its /64, as every rate limit counts it (core/ratelimit.py).
    idents = [("ip", address_key(ip))]
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    if name:
        idents.append(("user", name))
    return idents


def _key(kind: str, ident: str, slot: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
    return f"tv:login-fail:{kind}:{digest}:{slot}"


def _failures(kind: str, ident: str, window: int) -> int:
    # Fixed windows, read as this one plus the one before: failures straddling a window
    # boundary still add up, and a block lasts at least one full window.
    slot = int(time.time() // window)
    values = cache.get_many([_key(kind, ident, slot), _key(kind, ident, slot - 1)])
    return sum(int(v) for v in values.values())


def is_blocked(ip: str, username: str) -> bool:
    for kind, ident in _idents(ip, username):
        count, window = limit(kind)
        if count > 0 and _failures(kind, ident, window) >= count:
            return True
    return False


def record_failure(ip: str, username: str) -> None:
    for kind, ident in _idents(ip, username):
        count, window = limit(kind)
        if count <= 0:
            continue
        key = _key(kind, ident, int(time.time() // window))
        cache.add(key, 0, timeout=2 * window + 1)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add() and incr()
            cache.add(key, 1, timeout=2 * window + 1)


@receiver(user_login_failed, dispatch_uid="toolverdict.core.login_throttle")
def _count_failure(sender, credentials=None, request=None, **kwargs) -> None:
    if request is None or not getattr(request, _FLAG, False):
        return
    record_failure(client_ip(request), request.POST.get("username", ""))


def too_many_attempts(request: HttpRequest) -> HttpResponse:
    window = max(limit("ip")[1], limit("user")[1])
    minutes = max(1, round(window / 60))
    return too_many_requests(
        request,
        "There have been too many failed sign-ins from here or for this account. "
        f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=window,
    )


def throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a password sign-in view: refuse POSTs from throttled addresses or usernames."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            ip = client_ip(request)
            if is_blocked(ip, request.POST.get("username", "")):
                log.warning("sign-in refused: too many failed attempts (path %s)", request.path)
                return too_many_attempts(request)
            setattr(request, _FLAG, True)
        return view(request, *args, **kwargs)

    return wrapper
