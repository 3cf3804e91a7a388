"""Fetch and parse one feed (RSS, Atom or JSON Feed) into plain, bounded entries.

Everything a feed sends is untrusted. The fetch (fetching.py) goes through the address
guard, streams the body and abandons it past a size limit, and bounds the whole exchange,
status line and headers included, by a deadline (a server that drips one byte a second
cannot hold the run); here the content type and the bytes are both checked, and each
entry's text is reduced to plain, length-bounded strings. Any problem raises
``FeedError`` with a message an editor can act on; the pipeline records it for that feed
and goes on with the others.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from typing import Any

import feedparser
import httpx2 as httpx
from django.conf import settings
from django.utils.html import strip_tags

from . import fetching
from .fetching import (  # noqa: F401 - the guard's names, long imported from here
    MAX_REDIRECTS,
    AddressRefused,
    Fetched,
    address_refusal,
    checked_addresses,
    guarded_transport,
    resolve_host,
)

USER_AGENT = "toolverdict-ingest/1.0 (+feed reader)"
MAX_ENTRIES = 200
_FEEDISH_TYPES = ("xml", "rss", "atom", "json", "text/plain", "text/html", "octet-stream")
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json, "
    "application/xml;q=0.9, */*;q=0.5"
)

# The feed could not be read; the message says why, for the run record. Every fetch
# failure (the guard's refusal, a timeout, a size limit) is one.
FeedError = fetching.FetchError


@dataclass(frozen=True)
class RawEntry:
    guid: str
    title: str
    link: str
    summary: str
    author: str
    published: dt.datetime | None


def _check_feed_response(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise FeedError(f"HTTP {response.status_code} from the feed server")
    kind = fetching.content_type(response)
    if kind and not any(t in kind for t in _FEEDISH_TYPES):
        raise FeedError(f"not a feed: content type {kind[:80]!r}")


def fetch(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> Fetched:
    """GET ``url`` with timeouts, an overall deadline, a size limit and the address guard
    (``fetching.fetch``), refusing error statuses and content types that are no feed."""
    timeout = settings.TOOLVERDICT_INGEST_TIMEOUT if timeout is None else timeout
    max_bytes = settings.TOOLVERDICT_INGEST_MAX_BYTES if max_bytes is None else max_bytes
    return fetching.fetch(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        user_agent=USER_AGENT,
        accept=_ACCEPT,
        check=_check_feed_response,
    )


def plain(text: Any, limit: int) -> str:
    """Feed HTML or text to one plain line of at most ``limit`` characters."""
    if not isinstance(text, str):
        return ""
    text = html.unescape(strip_tags(text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    return text


def _http_url(value: Any) -> str:
    if isinstance(value, str) and re.match(r"^https?://[^\s/]+", value.strip()):
        return value.strip()[:500]
    return ""


def _guid(*parts: str) -> str:
    for part in parts:
        if part:
            return part[:500]
    return ""


def _struct_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime(*value[:6], tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def _iso(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_json_feed(body: bytes) -> list[RawEntry]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1); feedparser does not read it."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("JSON but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("JSON Feed without an items list")
    entries = []
    for item in items[:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        title = plain(item.get("title"), 300)
        link = _http_url(item.get("external_url")) or _http_url(item.get("url"))
        summary = plain(
            item.get("summary") or item.get("content_text") or item.get("content_html"), 1500
        )
        authors = item.get("authors") or [item.get("author")]  # 1.1, or 1.0's single author
        first = authors[0] if isinstance(authors, list) and authors else None
        author = plain(first.get("name"), 80) if isinstance(first, dict) else ""

        guid = _guid(str(item.get("id") or "")[:500], link, title)
        if title and guid:
            entries.append(
                RawEntry(guid, title, link, summary, author, _iso(item.get("date_published")))
            )
    return entries


def parse_xml_feed(body: bytes, content_type: str = "") -> list[RawEntry]:
    """RSS or Atom through feedparser; a broken document with no entries is an error."""
    parsed = feedparser.parse(body, response_headers={"content-type": content_type or "text/xml"})
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = parsed.get("bozo_exception")
            raise FeedError(f"not a feed: {type(reason).__name__}: {str(reason)[:200]}")
        if not parsed.get("version"):
            raise FeedError("not a feed: no RSS or Atom document found")
        return []
    entries = []
    for item in parsed.entries[:MAX_ENTRIES]:
        title = plain(item.get("title"), 300)
        link = _http_url(item.get("link"))
        summary = plain(item.get("summary") or item.get("description"), 1500)
        author = plain(item.get("author"), 80)
        guid = _guid(str(item.get("id") or "")[:500], link, title)
        published = _struct_time(item.get("published_parsed") or item.get("updated_parsed"))
        if title and guid:
            entries.append(RawEntry(guid, title, link, summary, author, published))
    return entries


def parse(body: bytes, content_type: str = "") -> list[RawEntry]:
    """Entries of a feed document, whichever of the three formats it is."""
    head = body.lstrip()[:1]
    if "json" in content_type or head in (b"{", b"["):
        return parse_json_feed(body)
    if not body.strip():
        raise FeedError("empty response")
    return parse_xml_feed(body, content_type)


def read_feed(url: str) -> list[RawEntry]:
    """Fetch and parse; raises FeedError for anything that stops it."""
    fetched = fetch(url)
    return parse(fetched.body, fetched.content_type)
