"""Who is asking: the client address, the one way every rate limit in the project reads it."""

from __future__ import annotations

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
