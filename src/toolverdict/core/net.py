"""Who is asking: the client address, the one way every rate limit in the project reads it,
and the keyed hash under which an address is stored."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind a reverse proxy the right-most entry of its address header.

    Only the right-most entry was written by our own proxy; anything left of it is whatever
    the client sent, so trusting it would let anyone pick a fresh address per request.
    Configure the header with TOOLVERDICT_IP_HEADER (e.g. HTTP_X_FORWARDED_FOR).
    """
    header = settings.TOOLVERDICT_IP_HEADER
    if header:
        value = request.META.get(header, "")
        if value:
            return value.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def client_hash(address: str, *, length: int = 64) -> str:
    """A keyed hash of a client address (HMAC-SHA256 under SECRET_KEY, hex): enough to see
    many requests from one address, without storing the address. ``length`` shortens it
    for a column that keeps fewer characters (a prefix of the full hash); no address
    hashes to ""."""
    if not address:
        return ""
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256)
    return digest.hexdigest()[:length]
