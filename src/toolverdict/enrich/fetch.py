"""Fetching a tool's own pages, politely and within bounds.

Every request goes through the ingest's fetch (ingest/fetching.py): the address guard on
every connection and redirect hop, a connect/read timeout and an overall deadline, a size
limit. On top of it, here:

- **robots.txt** is read once per host (per ``Fetcher``) and obeyed for our agent name
  (RFC 9309: a missing robots.txt, any 4xx, allows everything; a 5xx or an unreachable
  one disallows everything until the next run), for the first URL and for every redirect
  target (its own host's robots.txt), before that target is requested;
- **a pace per host, across processes**: requests to one host start at least
  ``TOOLVERDICT_ENRICH_HOST_INTERVAL`` seconds apart, or the host's ``Crawl-delay`` if it
  asks for longer (capped), whichever worker or machine makes them (pace.py keeps each
  host's next slot in the database);
- only HTML (or plain text) pages are read.

A refused or failed fetch is a ``PageFetch`` with an outcome, never an exception: the
enrichment records it and goes on with the other pages.
"""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from toolverdict import __version__
from toolverdict.ingest import fetching

from .pace import reserve

AGENT = "toolverdict-enrich"
MAX_CRAWL_DELAY = 30.0
ROBOTS_MAX_BYTES = 512_000  # RFC 9309 asks crawlers to read at least 500 KiB
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def user_agent() -> str:
    return (
        f"{AGENT}/{__version__} (+{settings.SITE_URL}/data/; reads a tool's own pages for its "
        "prices and licence)"
    )


@dataclass(frozen=True)
class PageFetch:
    url: str
    outcome: str  # ok | robots | refused | too_large | timeout | http_error | not_html | error
    fetched_at: datetime
    final_url: str = ""
    status: int | None = None
    body: bytes = b""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def record(self) -> dict[str, object]:
        """What the tool's enrichment record keeps of this fetch (no body)."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "outcome": self.outcome,
            "status": self.status,
            "fetched_at": self.fetched_at.isoformat(),
            "detail": self.detail[:300],
        }


class Disallowed(fetching.FetchError):
    """A redirect led to a page the target host's robots.txt keeps from us."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Fetcher:
    """One enrichment run's fetches: robots.txt per host, a per-host pace, the limits.

    Safe to share between threads: each host has its own lock, so two threads never
    request from one host at once.
    """

    def __init__(
        self,
        *,
        timeout: float | None = None,
        max_bytes: int | None = None,
        interval: float | None = None,
    ) -> None:
        self.timeout = settings.TOOLVERDICT_ENRICH_TIMEOUT if timeout is None else timeout
        self.max_bytes = settings.TOOLVERDICT_ENRICH_MAX_BYTES if max_bytes is None else max_bytes
        self.interval = settings.TOOLVERDICT_ENRICH_HOST_INTERVAL if interval is None else interval
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}
        self._refused: set[str] = set()  # hosts the address guard refused
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.requests = 0

    def _lock(self, origin: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(origin, threading.Lock())

    def _pace(self, origin: str, delay: float) -> None:
        """Wait for this host's next slot (shared with every other process)."""
        wait = reserve(origin, delay)
        if wait > 0:
            time.sleep(wait)

    def _get(
        self, url: str, max_bytes: int, before_redirect: Callable[[str], None] | None = None
    ) -> fetching.Fetched:
        self.requests += 1
        return fetching.fetch(
            url,
            timeout=self.timeout,
            max_bytes=max_bytes,
            user_agent=user_agent(),
            accept="text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5",
            before_redirect=before_redirect,
        )

    def _delay(self, rules: urllib.robotparser.RobotFileParser) -> float:
        return max(self.interval, min(float(rules.crawl_delay(AGENT) or 0), MAX_CRAWL_DELAY))

    def _check_redirect(self, first_origin: str) -> Callable[[str], None]:
        """Before a redirect is followed: the target host's robots.txt (read first if the
        redirect leaves ``first_origin``) and its pace. Raises ``Disallowed`` to keep the
        target unrequested."""

        def check(target: str) -> None:
            origin = origin_of(target)
            rules = self._robots_for(origin)
            if origin in self._refused:  # the address guard's refusal, named as such
                raise fetching.AddressRefused(f"redirected to {origin}: {rules}")
            if isinstance(rules, str):
                raise Disallowed(f"redirected to {origin}: {rules}")
            if not rules.can_fetch(AGENT, target):
                where = "its" if origin != first_origin else "the site's"
                raise Disallowed(
                    f"redirected to {target[:200]}, which {where} robots.txt disallows"
                )
            self._pace(origin, self._delay(rules))

        return check

    def _robots_for(self, origin: str) -> urllib.robotparser.RobotFileParser | str:
        """The host's rules, or a string saying why the whole host is off limits."""
        if origin in self._robots:
            return self._robots[origin]
        self._pace(origin, self.interval)
        parser = urllib.robotparser.RobotFileParser()
        rules: urllib.robotparser.RobotFileParser | str
        try:
            fetched = self._get(f"{origin}/robots.txt", ROBOTS_MAX_BYTES)
        except fetching.TooLarge:
            parser.parse([])  # RFC 9309: past the limit, what was read counts; we read none
            rules = parser
        except fetching.AddressRefused as exc:
            rules = f"robots.txt could not be read ({exc}); the site is not fetched"
            self._refused.add(origin)
        except fetching.FetchError as exc:
            rules = f"robots.txt could not be read ({exc}); the site is not fetched"
        else:
            if fetched.status >= 500:
                rules = f"robots.txt answered HTTP {fetched.status}; the site is not fetched"
            elif fetched.status >= 400:
                parser.parse([])  # no robots.txt: everything is allowed
                rules = parser
            else:
                parser.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
                rules = parser
        self._robots[origin] = rules
        return rules

    def get(self, url: str) -> PageFetch:
        """Fetch one page of a tool's site, obeying robots.txt and the host's pace."""
        origin = origin_of(url)
        with self._lock(origin):
            rules = self._robots_for(origin)
            if isinstance(rules, str):
                return PageFetch(url, "robots", timezone.now(), detail=rules)
            if not rules.can_fetch(AGENT, url):
                return PageFetch(
                    url, "robots", timezone.now(), detail="disallowed by the site's robots.txt"
                )
            self._pace(origin, self._delay(rules))
            fetched_at = timezone.now()
            try:
                fetched = self._get(url, self.max_bytes, self._check_redirect(origin))
            except Disallowed as exc:
                return PageFetch(url, "robots", fetched_at, detail=str(exc))
            except fetching.AddressRefused as exc:
                return PageFetch(url, "refused", fetched_at, detail=str(exc))
            except fetching.TooLarge as exc:
                return PageFetch(url, "too_large", fetched_at, detail=str(exc))
            except fetching.FetchTimeout as exc:
                return PageFetch(url, "timeout", fetched_at, detail=str(exc))
            except fetching.FetchError as exc:
                return PageFetch(url, "error", fetched_at, detail=str(exc))
            if fetched.status >= 400:
                return PageFetch(
                    url,
                    "http_error",
                    fetched_at,
                    fetched.url,
                    fetched.status,
                    detail=f"HTTP {fetched.status}",
                )
            if fetched.content_type not in _PAGE_TYPES:
                return PageFetch(
                    url,
                    "not_html",
                    fetched_at,
                    fetched.url,
                    fetched.status,
                    detail=f"not a web page: {fetched.content_type[:80]}",
                )
            return PageFetch(url, "ok", fetched_at, fetched.url, fetched.status, fetched.body)
