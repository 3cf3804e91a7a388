"""Fetch and parse one feed (RSS, Atom or JSON Feed) into plain, bounded entries.

Everything a feed sends is untrusted: the body is streamed and abandoned past a size
limit, the whole fetch has a deadline (a server that drips one byte a second cannot hold
the run), the content type and the bytes are both checked, and each entry's text is
reduced to plain, length-bounded strings. Any problem raises ``FeedError`` with a message
an editor can act on; the pipeline records it for that feed and goes on with the others.

A feed URL is chosen by an editor but its server is not trusted: it may redirect to, or
resolve to, an address inside our own network (the cloud metadata service, the database).
Every connection, the first and each redirect hop, goes through ``_GuardedBackend``, which
resolves the host once, refuses any address that is not globally routable and connects to
exactly the address it checked, so a second DNS answer cannot swap it (DNS rebinding).
TLS still verifies the certificate for the host name (SNI), and the Host header is the name.
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import feedparser
import httpcore2
import httpx2 as httpx
from django.conf import settings
from django.utils.html import strip_tags

USER_AGENT = "toolverdict-ingest/1.0 (+feed reader)"
MAX_ENTRIES = 200
MAX_REDIRECTS = 5
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_FEEDISH_TYPES = ("xml", "rss", "atom", "json", "text/plain", "text/html", "octet-stream")


class FeedError(Exception):
    """The feed could not be read; the message says why, for the run record."""


@dataclass(frozen=True)
class RawEntry:
    guid: str
    title: str
    link: str
    summary: str
    author: str
    published: dt.datetime | None


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str
    url: str


class AddressRefused(FeedError):
    """The feed's host resolves to an address this server must not be made to reach."""


Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FeedError(f"cannot resolve host {host[:100]!r}: {exc}") from exc
    # An IPv6 link-local answer may carry a zone ("fe80::1%eth0"); the zone is not an address.
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def address_refusal(address: str) -> str:
    """Why ``address`` must not be connected to, or "" when it is a public address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 inside IPv6 reaches the IPv4 network; ipaddress on Python 3.11 calls some of
        # these global whatever the IPv4 address is, so they are refused or unwrapped here.
        if ip.ipv4_mapped is not None:
            return "IPv4-mapped IPv6 address"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # NAT64
        if embedded is not None and address_refusal(str(embedded)):
            return "IPv6 address wrapping a non-public IPv4 address"
    # is_global alone lets multicast and some reserved ranges through on 3.11: check each.
    for flag in (
        "is_loopback",
        "is_private",
        "is_link_local",
        "is_multicast",
        "is_reserved",
        "is_unspecified",
    ):
        if getattr(ip, flag):
            return flag.removeprefix("is_").replace("_", "-") + " address"
    if not ip.is_global:
        return "non-global address"
    return ""


def checked_addresses(
    host: str, port: int, *, resolve: Resolver | None = None, allow_private: bool = False
) -> list[str]:
    """The addresses of ``host`` to connect to, all of them public.

    Raises ``AddressRefused`` if any answer is not public: a name that resolves to a
    public and a private address is refused as a whole rather than filtered, since the
    private answer says the name is not what it claims to be.
    """
    addresses = (resolve or resolve_host)(host, port)
    if not addresses:
        raise FeedError(f"cannot resolve host {host[:100]!r}: no address")
    if allow_private:
        return addresses
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise AddressRefused(
                f"refused: {host[:100]} resolves to {address} ({reason}); "
                "feeds are only fetched from public addresses"
            )
    return addresses


class _GuardedBackend(httpcore2.SyncBackend):
    """httpcore's socket backend, connecting only to the checked address of each host."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        # resolve_host is looked up at call time so tests can stand in a resolver.
        addresses = checked_addresses(
            host, port, resolve=resolve_host, allow_private=self.allow_private
        )
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


def _transport(allow_private: bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its connection pool without a way to pass a network backend; the pool is
    # rebuilt with the same TLS context and the guarded backend (tests cover that it is used).
    ssl_context = transport._pool._ssl_context  # noqa: SLF001
    transport._pool = httpcore2.ConnectionPool(  # noqa: SLF001
        ssl_context=ssl_context, network_backend=_GuardedBackend(allow_private)
    )
    return transport


def guarded_transport(allow_private: bool | None = None) -> httpx.HTTPTransport:
    """An httpx transport whose every connection passes the address guard (see above).

    ``allow_private`` defaults to ``TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES``. Used by the
    feed reader here and by the source checks (catalog/sources.py).
    """
    if allow_private is None:
        allow_private = settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES
    return _transport(allow_private)


def fetch(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> Fetched:
    """GET ``url`` with timeouts, an overall deadline, a size limit and the address guard.

    Redirects are followed here, at most ``MAX_REDIRECTS`` of them, each to http(s) only,
    and each hop's connection passes the address check again.
    """
    timeout = settings.TOOLVERDICT_INGEST_TIMEOUT if timeout is None else timeout
    max_bytes = settings.TOOLVERDICT_INGEST_MAX_BYTES if max_bytes is None else max_bytes
    allow_private = settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES
    deadline = time.monotonic() + 3 * timeout
    try:
        with httpx.Client(
            transport=_transport(allow_private),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/rss+xml, application/atom+xml, "
                "application/feed+json, application/json, application/xml;q=0.9, */*;q=0.5",
            },
            trust_env=False,
        ) as client:
            target = httpx.URL(url)
            for _hop in range(MAX_REDIRECTS + 1):
                if target.scheme not in ("http", "https"):
                    raise FeedError(f"refused: {target.scheme!r} is not http or https")
                with client.stream("GET", target) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECT_CODES and location:
                        target = response.url.join(location)
                        continue
                    return _read_body(response, max_bytes, deadline, timeout)
            raise FeedError(f"too many redirects (more than {MAX_REDIRECTS})")
    except httpx.TimeoutException as exc:
        raise FeedError(f"timed out after {timeout:g} s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot fetch: {type(exc).__name__}: {str(exc)[:200]}") from exc


def _read_body(
    response: httpx.Response, max_bytes: int, deadline: float, timeout: float
) -> Fetched:
    if response.status_code >= 400:
        raise FeedError(f"HTTP {response.status_code} from the feed server")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not any(t in content_type for t in _FEEDISH_TYPES):
        raise FeedError(f"not a feed: content type {content_type[:80]!r}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedError(f"too large: {int(declared):,} bytes (limit {max_bytes:,})")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"too large: more than {max_bytes:,} bytes")
        if time.monotonic() > deadline:
            raise FeedError(f"too slow: not complete after {3 * timeout:g} s")
        chunks.append(chunk)
    return Fetched(b"".join(chunks), content_type, str(response.url))


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
