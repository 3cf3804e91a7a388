"""A signed-in reader's own parts, filled into the stored anonymous page.

The stored page marks each personal part ``<!--pb:name-->…<!--/pb:name-->`` (a family,
such as a vote box per tool, ``<!--pb:name:key-->``). The apps register their parts
(registry.personal_part); ``PersonalPageMiddleware``, the last middleware before the
view, renders each for this reader (with their CSRF token) and splices it in at the
places found when the page was stored: the page itself is not rendered again.

The page cache's own parts are here: flash messages, the scripts (signed-in readers
only, by default) and the fragment request's placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from . import registry
from .store import Entry

MESSAGES_COOKIE = getattr(settings, "MESSAGE_COOKIE_NAME", "messages")
PERSONAL_PART = re.compile(rb"<!--pb:([a-z]+(?::[a-z0-9-]+)?)-->.*?<!--/pb:\1-->", re.S)

Span = tuple[str, int, int]


def is_personal(request: HttpRequest) -> bool:
    """Does the request carry a session or pending messages (so it may have own bits)?"""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or MESSAGES_COOKIE in cookies


def personal_parts(entry: Entry) -> tuple[Span, ...] | None:
    """Where a stored page's personal parts are: (name, start, end) in its body.

    Only HTML has them: ``()`` for JSON, XML, text and images, which are never filled in,
    whatever their text holds (a tool named ``<!--pb:nav-->`` is just a name there).
    In HTML, autoescaping turns the ``<`` of any catalog text into ``&lt;`` (JSON-LD
    escapes it as ``\\u003C``), so a marker can only come from a template. As a second
    line, the markers must be exactly what the templates put: a registered part, each
    single part at most once, a part that needs recording only on a page whose render
    recorded it, one of a family only for a key the render recorded, and no opening or
    closing marker outside a matched part. Anything else gives None: the page is then
    rendered for each signed-in reader instead of filled in.
    """
    content_type = next((v for k, v in entry.headers if k.lower() == "content-type"), "")
    if not content_type.startswith("text/html"):
        return ()
    body = entry.body
    known = registry.personal_parts_registered()
    recorded = entry.extra.get("recorded") or {}
    spans: list[Span] = []
    seen: set[str] = set()
    for match in PERSONAL_PART.finditer(body):
        name = match.group(1).decode()
        base, _, key = name.partition(":")
        part = known.get(base)
        if part is None or part.family != bool(key):
            return None
        if part.family:
            if key not in (recorded.get(base) or {}):
                return None
        else:
            if name in seen or (part.needs_record and not recorded.get(base)):
                return None
            seen.add(name)
        spans.append((name, match.start(), match.end()))
    if body.count(b"<!--pb:") != len(spans) or body.count(b"<!--/pb:") != len(spans):
        return None  # a marker outside the matched parts: not the templates' own
    return tuple(spans)


def personal_body(request: HttpRequest, entry: Entry) -> bytes:
    """The stored page with this reader's parts spliced in."""
    next_url = request.get_full_path()
    recorded = entry.extra.get("recorded") or {}
    spans = entry.extra.get("parts") or ()
    on_page = {name.partition(":")[0] for name, _, _ in spans}
    parts: dict[str, str] = {}
    for name, part in registry.personal_parts_registered().items():
        if name in on_page:
            parts.update(part.render(request, recorded.get(name), next_url))
    # Spliced at the places recorded when the page was stored (personal_parts), so
    # nothing in the page's text decides where a reader's bits go.
    out: list[bytes] = []
    position = 0
    body = entry.body
    for name, start, end in spans:
        if name not in parts:
            continue
        out.append(body[position:start])
        out.append(f"<!--pb:{name}-->{parts[name]}<!--/pb:{name}-->".encode())
        position = end
    out.append(body[position:])
    return b"".join(out)


class PersonalPageMiddleware:
    """Fills a reader's own bits into a stored page: the last middleware before the view.

    The page cache hands it the stored page (``request._page_entry``) when the request
    carries a session; each part costs what its app's render needs (the account menu the
    session and user, the vote boxes one query) instead of the page's dozen. Works
    without JavaScript.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        entry = getattr(request, "_page_entry", None)
        if entry is None:
            return self.get_response(request)
        request._page_entry = None
        return HttpResponse(
            personal_body(request, entry), status=entry.status, headers=dict(entry.headers)
        )


# --- the page cache's own parts ---------------------------------------------------------


def _messages(request: HttpRequest, recorded: Any, next_url: str) -> dict[str, str]:
    from django.contrib import messages as flash

    stored = list(flash.get_messages(request))
    html = render_to_string("pagecache/_messages.html", {"flash": stored}) if stored else ""
    return {"messages": html}


def _scripts(request: HttpRequest, recorded: Any, next_url: str) -> dict[str, str]:
    from .templatetags.pagecache import script_tags

    if recorded is None or not request.user.is_authenticated:
        return {}  # left as stored: anonymous pages carry no script by default
    return {"scripts": str(script_tags(recorded))}


def _bits(request: HttpRequest, recorded: Any, next_url: str) -> dict[str, str]:
    return {"bits": ""}  # filled in already: no fragment request to make


def register_own_parts() -> None:
    registry.personal_part("messages", _messages)
    registry.personal_part("scripts", _scripts)
    registry.personal_part("bits", _bits)
