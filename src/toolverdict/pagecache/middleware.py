"""The page cache: every reader gets the anonymous page, from the cache, compressed.

``PageCacheMiddleware`` sits before the session middleware. For a GET or HEAD of a page
named in pages.PAGES it looks up the versions of the page's scopes (one query, or one
cache round trip with Redis) and then:

* answers a conditional request whose ETag or date still matches with 304, no body;
* serves the stored page (gzip when the client accepts it) with ETag, Last-Modified and
  ``Cache-Control: public, max-age=…, stale-while-revalidate=…``;
* otherwise renders the page as an anonymous reader would see it (the request's cookies
  are withheld from the view), stores it and serves it.

A query parameter the page does not read (pages.PARAMS) is answered with a redirect to
the URL without it, so made-up parameters cannot fill the cache with copies of one page.

The stored page never carries a cookie, a CSRF token or anything of one reader: a render
that sets a cookie is served but not stored. Signed-in readers get the same page; their
own bits (account menu, their votes with CSRF tokens, flash messages) arrive from
``community:page_bits`` by one htmx request (see templatetags/pagecache.py). Only these
anonymous pages are compressed, so BREACH has no secret to guess.

``MemberCookieMiddleware`` keeps a non-secret ``tv_member=1`` cookie in step with the
session, so the page's script knows whether to fetch the personal fragment.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import get_conditional_response
from django.utils.encoding import escape_uri_path
from django.utils.functional import empty
from django.utils.http import http_date

from . import build, versions
from .pages import PAGES, PARAMS

MEMBER_COOKIE = "tv_member"
PAGE_PREFIX = "tv:page:"
STATUSES = {200, 301, 404}
DROPPED_HEADERS = {
    "set-cookie",
    "vary",
    "content-length",
    "cache-control",
    "expires",
    "etag",
    "last-modified",
    "content-encoding",
}
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/atom+xml",
    "application/xml",
    "image/svg+xml",
)


def enabled() -> bool:
    return getattr(settings, "TOOLVERDICT_PAGE_CACHE", True)


def timeout() -> int:
    """Seconds a stored page lives at most; 0: until its scopes change."""
    return int(getattr(settings, "TOOLVERDICT_PAGE_CACHE_TIMEOUT", 600))


def cache_control() -> str:
    max_age = int(getattr(settings, "TOOLVERDICT_PAGE_MAX_AGE", 60))
    swr = int(getattr(settings, "TOOLVERDICT_PAGE_STALE_WHILE_REVALIDATE", 600))
    return f"public, max-age={max_age}, stale-while-revalidate={swr}"


@dataclass
class Entry:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    gzipped: bytes | None = None
    extra: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=4096)
def _cached_page(
    urlconf: object, path_info: str
) -> tuple[str, tuple[tuple[str, object], ...]] | None:
    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        return None
    if match.view_name not in PAGES:
        return None
    return match.view_name, tuple(match.kwargs.items())


def cached_page(request: HttpRequest) -> tuple[str, dict] | None:
    """(URL name, keyword arguments) when the request is for a cached page, else None.

    Resolving a path costs about as much as serving a stored page, so the answer is kept
    per process for the most recent paths (the URL configuration does not change while a
    process runs; a test that swaps it gets its own entries).
    """
    urlconf = getattr(request, "urlconf", None) or get_urlconf() or settings.ROOT_URLCONF
    found = _cached_page(urlconf, request.path_info)
    if found is None:
        return None
    name, kwargs = found
    return name, dict(kwargs)


setting_changed.connect(lambda **kwargs: _cached_page.cache_clear())


class _FrontCopies:
    """The most recently served stored pages of this process, in front of a shared cache.

    A key names the versions of everything the page shows, so a copy can never be stale:
    a write gives the page a new key. Keeping one here saves a shared cache round trip per
    hit (the version lookup is still made every time). Bounded by entry count.
    """

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            expires, entry = found
            if expires < time.monotonic():
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry, seconds: int) -> None:
        size = int(getattr(settings, "TOOLVERDICT_PAGE_CACHE_FRONT_ENTRIES", 256))
        if size <= 0:
            return
        with self.lock:
            self.entries[key] = (time.monotonic() + seconds, entry)
            self.entries.move_to_end(key)
            while len(self.entries) > size:
                self.entries.popitem(last=False)

    def clear(self, **kwargs: object) -> None:
        with self.lock:
            self.entries.clear()


front = _FrontCopies()
setting_changed.connect(front.clear)


def stored_page(key: str) -> Entry | None:
    """The stored page under ``key``: this process's copy, else the cache's."""
    shared = not versions.per_process_cache()
    if shared:
        entry = front.get(key)
        if entry is not None:
            return entry
    entry = caches["pages"].get(key)
    if entry is not None and shared:
        front.put(key, entry, timeout() or 86400)
    return entry


def store_page(key: str, entry: Entry) -> None:
    seconds = timeout() or 86400  # unvisited pages leave in a day at most
    caches["pages"].set(key, entry, seconds)
    if not versions.per_process_cache():
        front.put(key, entry, seconds)


def _accepts_gzip(request: HttpRequest) -> bool:
    """Whether Accept-Encoding allows gzip (RFC 9110, 12.5.3).

    ``q=0`` means "not acceptable": ``gzip;q=0`` refuses gzip, and so does ``*;q=0`` when
    gzip is not named itself. A q value that is not a number counts as 0.
    """
    header = request.META.get("HTTP_ACCEPT_ENCODING", "")
    if not header:
        return False
    named: float | None = None
    wildcard: float | None = None
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if coding in ("gzip", "x-gzip"):
            named = weight if named is None else max(named, weight)
        elif coding == "*":
            wildcard = weight
    chosen = named if named is not None else wildcard
    return chosen is not None and chosen > 0


def canonical_query(request: HttpRequest, name: str) -> tuple[str, bool]:
    """(the query string the page is stored under, whether the request named only
    parameters the page reads).

    Only the parameters the page reads (pages.PARAMS) are kept, in the order given and
    encoded one way, so ``?q=a%20b`` and ``?q=a+b``, or ``?&&`` and none, name one entry.
    A request naming any other parameter is redirected to the URL with the kept ones.
    """
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return "", True
    pairs = parse_qsl(raw, keep_blank_values=True)
    allowed = PARAMS.get(name, ())
    kept = [(k, v) for k, v in pairs if k in allowed]
    return urlencode(kept), len(kept) == len(pairs)


def page_state(
    request: HttpRequest, scopes: list[str], full_path: str | None = None
) -> tuple[str, int]:
    """(ETag value without quotes, Last-Modified as a Unix time) of the page now.

    ``full_path``: the path with its canonical query string (default: the request's).
    """
    full_path = request.get_full_path() if full_path is None else full_path
    current = versions.get_versions(scopes)
    ttl = timeout()
    bucket = int(time.time() // ttl) if ttl else 0
    digest = hashlib.sha256(
        "\n".join(
            # Host and scheme too: feeds and the API build absolute links from them.
            [build.salt(), str(bucket), request.scheme, request.get_host(), full_path]
            + [f"{s}={v}" for s, v in sorted(current.items())]
        ).encode()
    ).hexdigest()[:32]
    newest = max([build.code_time(), bucket * ttl, *(v // 1_000_000_000 for v in current.values())])
    return digest, int(newest)


class PageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not enabled():
            return self.get_response(request)
        if "\x00" in request.path_info:
            # Its scopes would name the NUL, which PostgreSQL refuses in a version read:
            # left to RejectNulPathMiddleware's 404, as for every other page.
            return self.get_response(request)
        page = cached_page(request)
        if page is None:
            return self.get_response(request)
        name, kwargs = page
        query, clean = canonical_query(request, name)
        if not clean:
            # A parameter the page does not read: one redirect to the page's own entry,
            # rather than a new render and a new entry per made-up parameter.
            path = escape_uri_path(request.path)
            return HttpResponsePermanentRedirect(path + (f"?{query}" if query else ""))
        full_path = escape_uri_path(request.path) + (f"?{query}" if query else "")
        # No view answers an htmx GET differently, so HX-Request needs no entry of its own.
        tag, last_modified = page_state(request, PAGES[name](**kwargs), full_path)
        personal = _is_personal(request)
        etag = f'W/"{tag}"'
        headers = {
            "ETag": etag,
            "Last-Modified": http_date(last_modified),
            "Cache-Control": cache_control(),
            "Vary": "Accept-Encoding",
        }
        if not personal:
            # Django's precondition rules (RFC 9110); with no response given it answers
            # None unless the request's validators match.
            conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
            if conditional is not None and conditional.status_code == 304:
                for key, value in headers.items():
                    conditional.headers[key] = value
                request._page_cache = "304"
                return conditional
        key = PAGE_PREFIX + tag
        entry = stored_page(key)
        request._page_cache = "hit"
        if entry is None:
            request._page_cache = "miss"
            response, rendered = self._render(request, query)
            entry = self._entry(response, rendered)
            if entry is None:
                # Not storable: a signed-in reader gets the page rendered for them.
                return self._for_reader(request) if personal else response
            store_page(key, entry)
        if personal and entry.status == 200:
            parts = entry.extra.get("parts")
            if parts is None:
                # HTML whose markers are not exactly its template's: rendered for the
                # reader instead of filled in (never stored).
                return self._for_reader(request)
            if parts:
                # The stored page with this reader's bits filled in (PersonalPageMiddleware,
                # after sessions, CSRF, auth and messages have run): no view, no re-render.
                request._page_entry = entry
                response = self.get_response(request)
                response["Cache-Control"] = "private, no-cache"
                return response
            # JSON, XML, text, images: the same for every reader, nothing of theirs in it.
        return self._serve(request, entry, headers)

    def _for_reader(self, request: HttpRequest) -> HttpResponse:
        """The page rendered for this reader: it holds their account and CSRF token."""
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-cache"
        return response

    def _render(
        self, request: HttpRequest, query: str | None = None
    ) -> tuple[HttpResponse, HttpRequest]:
        """Render as an anonymous reader would see it, on a copy of the request.

        The copy has no cookies, so the view never sees this reader's session, and what
        the middlewares attach to it (session, user, messages, CSRF state) stays off the
        real request, which may still go on to get its personal bits filled in.
        """
        anonymous = copy.copy(request)
        anonymous.META = {k: v for k, v in request.META.items() if k != "HTTP_COOKIE"}
        anonymous.COOKIES = {}
        if query is not None and query != request.META.get("QUERY_STRING", ""):
            # What is stored under the canonical query must be what that query renders.
            anonymous.META["QUERY_STRING"] = query
            anonymous.GET = QueryDict(query)
        anonymous._page_cache_render = True
        for leftover in ("session", "user", "_cached_user", "_messages"):
            anonymous.__dict__.pop(leftover, None)
        return self.get_response(anonymous), anonymous

    @staticmethod
    def _entry(response: HttpResponse, request: HttpRequest | None = None) -> Entry | None:
        if response.status_code not in STATUSES or response.streaming or response.cookies:
            return None
        if "no-store" in response.get("Cache-Control", "") or "private" in response.get(
            "Cache-Control", ""
        ):
            return None
        if response.has_header("Content-Encoding"):
            return None
        body = response.content
        kept = [(k, v) for k, v in response.items() if k.lower() not in DROPPED_HEADERS]
        gzipped = None
        content_type = response.get("Content-Type", "")
        if len(body) > 200 and content_type.startswith(COMPRESSIBLE):
            gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        extra = {
            "tools": list(getattr(request, "_page_vote_tools", {}).values()),
            "pair": getattr(request, "_page_vote_pair", None),
            "scripts": getattr(request, "_page_scripts", None),
        }
        entry = Entry(response.status_code, kept, body, gzipped, extra)
        # Found once, when stored: where this reader's bits go (PersonalPageMiddleware).
        entry.extra["parts"] = personal_parts(entry)
        return entry

    @staticmethod
    def _serve(request: HttpRequest, entry: Entry, headers: dict[str, str]) -> HttpResponse:
        body = entry.body
        response = HttpResponse(status=entry.status)
        for key, value in entry.headers:
            response[key] = value
        if entry.gzipped is not None and _accepts_gzip(request):
            body = entry.gzipped
            response["Content-Encoding"] = "gzip"
        response.content = body
        if entry.status == 200:
            for key, value in headers.items():
                response[key] = value
        else:
            response["Cache-Control"] = headers["Cache-Control"]
            response["Vary"] = headers["Vary"]
        response["Content-Length"] = str(len(body))
        return response


def _is_personal(request: HttpRequest) -> bool:
    """Does the request carry a session or pending messages (so it may have own bits)?"""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or MESSAGES_COOKIE in cookies


MESSAGES_COOKIE = getattr(settings, "MESSAGE_COOKIE_NAME", "messages")
PERSONAL_PART = re.compile(rb"<!--pb:([a-z]+(?::[a-z0-9-]+)?)-->.*?<!--/pb:\1-->", re.S)
# The personal parts a page's templates put at most once: base.html's account menu and
# messages, the page_scripts and page_bits tags, and a comparison's pair box.
SINGLE_PARTS = {"nav", "messages", "scripts", "bits", "pair"}

Span = tuple[str, int, int]


def personal_parts(entry: Entry) -> tuple[Span, ...] | None:
    """Where a stored page's personal parts are: (name, start, end) in its body.

    Only HTML has them: ``()`` for JSON, XML, text and images, which are never filled in,
    whatever their text holds (a tool named ``<!--pb:nav-->`` is just a name there).
    In HTML, autoescaping turns the ``<`` of any catalog text into ``&lt;`` (JSON-LD
    escapes it as ``\\u003C``), so a marker can only come from a template. As a second
    line, the markers must be exactly what the templates put: each single part at most
    once, a pair box only on a page that rendered one, a tool box only for a tool whose
    box the render recorded, and no opening or closing marker outside a matched part.
    Anything else gives None: the page is then rendered for each signed-in reader instead
    of filled in.
    """
    content_type = next((v for k, v in entry.headers if k.lower() == "content-type"), "")
    if not content_type.startswith("text/html"):
        return ()
    body = entry.body
    tools = {f"tool:{t['slug']}" for t in entry.extra.get("tools") or []}
    has_pair = bool(entry.extra.get("pair"))
    spans: list[Span] = []
    seen: set[str] = set()
    for match in PERSONAL_PART.finditer(body):
        name = match.group(1).decode()
        if name in SINGLE_PARTS:
            if name in seen or (name == "pair" and not has_pair):
                return None
            seen.add(name)
        elif name not in tools:
            return None
        spans.append((name, match.start(), match.end()))
    if body.count(b"<!--pb:") != len(spans) or body.count(b"<!--/pb:") != len(spans):
        return None  # a marker outside the matched parts: not the templates' own
    return tuple(spans)


class PersonalPageMiddleware:
    """Fills a reader's own bits into a stored page: the last middleware before the view.

    The stored page marks each personal part (account menu, vote boxes, messages) with
    ``<!--pb:name-->…<!--/pb:name-->``; each is replaced by the same include rendered for
    this reader (with their CSRF token), which costs the session, the user and one query
    for their votes instead of the page's dozen. Works without JavaScript.
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


def personal_body(request: HttpRequest, entry: Entry) -> bytes:
    from django.contrib import messages as flash
    from django.template.loader import render_to_string

    from toolverdict.community.models import PairVote
    from toolverdict.community.services import user_tool_votes

    from .templatetags.pagecache import script_tags

    user = request.user
    next_url = request.get_full_path()
    parts: dict[str, str] = {"bits": ""}
    context = {"next_url": next_url}
    parts["nav"] = render_to_string("includes/account_nav.html", context, request=request)
    stored = list(flash.get_messages(request))
    parts["messages"] = (
        render_to_string("pagecache/_messages.html", {"flash": stored}) if stored else ""
    )
    scripts = entry.extra.get("scripts")
    if scripts is not None and user.is_authenticated:
        # Anonymous pages carry no script by default; a signed-in reader's votes use them.
        parts["scripts"] = str(script_tags(scripts))
    tools = entry.extra.get("tools") or []
    votes = user_tool_votes(user) if tools and user.is_authenticated else {}
    for tool in tools:
        parts[f"tool:{tool['slug']}"] = render_to_string(
            "community/_tool_vote_action.html",
            {**context, "tool": tool, "mine": votes.get(tool["pk"])},
            request=request,
        )
    pair = entry.extra.get("pair")
    if pair:
        left, right = pair
        mine = None
        if user.is_authenticated:
            mine = (
                PairVote.objects.filter(user=user, tool_a_id=left["pk"], tool_b_id=right["pk"])
                .values_list("winner_id", flat=True)
                .first()
            )
        from toolverdict.community.blind import button_order

        box = {"mine": mine, "order": button_order(user, left, right)}
        parts["pair"] = render_to_string(
            "community/_pair_vote_action.html",
            {**context, "left": left, "right": right, "box": box},
            request=request,
        )

    # Spliced at the places recorded when the page was stored (personal_parts), so
    # nothing in the page's text decides where a reader's bits go.
    out: list[bytes] = []
    position = 0
    body = entry.body
    for name, start, end in entry.extra.get("parts") or ():
        if name not in parts:
            continue
        out.append(body[position:start])
        out.append(f"<!--pb:{name}-->{parts[name]}<!--/pb:{name}-->".encode())
        position = end
    out.append(body[position:])
    return b"".join(out)


class MemberCookieMiddleware:
    """Sets ``tv_member=1`` while a session is signed in, deletes it when not.

    Only when the request already looked at its user: pages that never load the session
    stay free of it. The cookie is no credential; it only tells the cached page's script
    that a personal fragment is worth fetching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "_page_cache_render", False):
            return response
        user = getattr(request, "user", None)
        if user is None or getattr(user, "_wrapped", None) is empty:
            return response
        has = request.COOKIES.get(MEMBER_COOKIE) == "1"
        if user.is_authenticated and not has:
            response.set_cookie(
                MEMBER_COOKIE,
                "1",
                max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
                httponly=False,  # read by static/site.js; not a credential
            )
        elif not user.is_authenticated and MEMBER_COOKIE in request.COOKIES:
            response.delete_cookie(MEMBER_COOKIE, samesite="Lax")
        return response
