"""The page cache middleware: every reader gets the anonymous page, from the cache.

``PageCacheMiddleware`` sits before the session middleware. For a GET or HEAD of a page
an app declared cached (registry.py) it looks up the versions of the page's scopes (one
query, or one cache round trip with Redis) and then:

* answers a conditional request whose ETag or date still matches with 304, no body;
* serves the stored page (store.py; gzip when the client accepts it) with ETag,
  Last-Modified and ``Cache-Control: public, max-age=…, stale-while-revalidate=…``;
* otherwise renders the page as an anonymous reader would see it (the request's cookies
  are withheld from the view), stores it and serves it.

A query parameter the page does not read (its declared ``params``) is answered with a
redirect to the URL without it, so made-up parameters cannot fill the cache with copies
of one page.

The stored page never carries a cookie, a CSRF token or anything of one reader: a render
that sets a cookie is served but not stored. A signed-in reader gets the same page with
their own parts filled in (personal.py). Only these anonymous pages are compressed, so
BREACH has no secret to guess.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import get_conditional_response
from django.utils.encoding import escape_uri_path
from django.utils.http import http_date

from . import build, registry, versions
from .personal import is_personal, personal_parts
from .store import PAGE_PREFIX, Entry, store_page, stored_page, timeout

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
    return settings.TOOLVERDICT_PAGE_CACHE


def cache_control() -> str:
    max_age = settings.TOOLVERDICT_PAGE_MAX_AGE
    swr = settings.TOOLVERDICT_PAGE_STALE_WHILE_REVALIDATE
    return f"public, max-age={max_age}, stale-while-revalidate={swr}"


@functools.lru_cache(maxsize=4096)
def _cached_page(
    urlconf: object, path_info: str
) -> tuple[str, tuple[tuple[str, object], ...]] | None:
    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        return None
    if registry.page(match.view_name) is None:
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
# A page declared after a path was resolved (a view module imported late): ask again.
registry.on_pages_changed(_cached_page.cache_clear)


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

    Only the parameters the page reads (its declared ``params``) are kept, in the order given and
    encoded one way, so ``?q=a%20b`` and ``?q=a+b``, or ``?&&`` and none, name one entry.
    A request naming any other parameter is redirected to the URL with the kept ones.
    """
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return "", True
    pairs = parse_qsl(raw, keep_blank_values=True)
    declared = registry.page(name)
    allowed = declared.params if declared is not None else ()
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
        scopes = list(registry.page(name).scopes(**kwargs))
        tag, last_modified = page_state(request, scopes, full_path)
        personal = is_personal(request)
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
        extra = {"recorded": registry.recorded(request)}
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
