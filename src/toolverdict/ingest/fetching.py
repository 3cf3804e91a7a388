"""Fetching a URL this server does not trust: the address guard, a deadline, a size limit.

Every outbound page fetch (feeds in feed_reader.py, cited sources in source_checks.py, and
anything else that reads a URL an editor or a stranger chose) goes through here:

- ``open_response`` GETs a URL, following at most ``MAX_REDIRECTS`` redirects to http(s)
  only, and bounds the whole exchange (connect, request, status line, headers, body) by
  one deadline, three times the per-read timeout;
- ``iter_body`` streams the body and stops past a size limit, whether or not the server
  declared its length;
- ``fetch`` puts the two together for a caller that wants the bytes.

The deadline is enforced inside the socket layer: every connect, write and read gets the
smaller of its own timeout and the time left, so a server that drips its status line or
its headers one byte a second is cut off at the deadline, like one that drips its body.

A server may also redirect to, or resolve to, an address inside our own network (the
cloud metadata service, the database). Every connection, the first and each redirect
hop, goes through ``_GuardedBackend``, which resolves the host once, refuses any address
that is not globally routable and connects to exactly the address it checked, so a
second DNS answer cannot swap it (DNS rebinding). TLS still verifies the certificate for
the host name (SNI), and the Host header is the name.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore2
import httpx2 as httpx
from django.conf import settings

MAX_REDIRECTS = 5
DEADLINE_FACTOR = 3  # the whole fetch may take this many times the per-read timeout
_REDIRECT_CODES = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The URL could not be read; the message says why, for a person to act on."""


class AddressRefused(FetchError):
    """The host resolves to an address this server must not be made to reach."""


class FetchTimeout(FetchError):
    """A read timed out, or the whole fetch passed its deadline."""


class TooLarge(FetchError):
    """The body is larger than the limit; ``detail`` says by how much, without a prefix."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"too large: {detail}")
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    body: bytes
    content_type: str
    url: str
    status: int = 200


Resolver = Callable[[str, int], list[str]]


# --- the address guard ----------------------------------------------------------------


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host[:100]!r}: {exc}") from exc
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
        raise FetchError(f"cannot resolve host {host[:100]!r}: no address")
    if allow_private:
        return addresses
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise AddressRefused(
                f"refused: {host[:100]} resolves to {address} ({reason}); "
                "only public addresses are fetched"
            )
    return addresses


# --- the deadline ---------------------------------------------------------------------

# The monotonic time by which the fetch running in this thread must be over. A context
# variable rather than a transport attribute, because one client (and its kept-alive
# connections) serves several fetches, each with its own deadline.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "toolverdict_fetch_deadline", default=None
)


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Bound every network operation of guarded transports inside the block to end within
    ``seconds`` from now (an enclosing, earlier deadline still applies). Yields the
    deadline as a ``time.monotonic()`` value."""
    at = time.monotonic() + seconds
    outer = _deadline.get()
    if outer is not None:
        at = min(at, outer)
    token = _deadline.set(at)
    try:
        yield at
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the time left before the deadline; raises ``expired`` once
    none is left (a zero socket timeout would mean non-blocking, not "give up")."""
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise expired("the fetch's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    """A network stream whose every read and write ends by the current deadline."""

    def __init__(self, stream: httpcore2.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        upgraded = self._stream.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore2.ConnectTimeout)
        )
        return _DeadlineStream(upgraded)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore2.SyncBackend):
    """httpcore's socket backend, connecting only to the checked address of each host,
    and handing out streams bounded by the current deadline."""

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
        _bounded(timeout, httpcore2.ConnectTimeout)  # no resolving once the time is up
        # resolve_host is looked up at call time so tests can stand in a resolver.
        addresses = checked_addresses(
            host, port, resolve=resolve_host, allow_private=self.allow_private
        )
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = super().connect_tcp(
                    address,
                    port,
                    _bounded(timeout, httpcore2.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        assert failure is not None
        raise failure


def guarded_transport(allow_private: bool | None = None) -> httpx.HTTPTransport:
    """An httpx transport whose every connection passes the address guard (see above) and
    whose every socket operation ends by the current ``deadline``.

    ``allow_private`` defaults to ``TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES``.
    """
    if allow_private is None:
        allow_private = settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its connection pool without a way to pass a network backend; the pool is
    # rebuilt with the same TLS context and the guarded backend (tests cover that it is used).
    ssl_context = transport._pool._ssl_context  # noqa: SLF001
    transport._pool = httpcore2.ConnectionPool(  # noqa: SLF001
        ssl_context=ssl_context, network_backend=_GuardedBackend(allow_private)
    )
    return transport


def guarded_client(
    *, timeout: float, user_agent: str, accept: str = "*/*", allow_private: bool | None = None
) -> httpx.Client:
    """An httpx client on a guarded transport, redirects off (``open_response`` follows
    them, each hop through the guard), no proxy or credentials from the environment."""
    return httpx.Client(
        transport=guarded_transport(allow_private),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent, "Accept": accept},
        trust_env=False,
    )


# --- fetching -------------------------------------------------------------------------


@contextmanager
def open_response(
    url: str,
    *,
    client: httpx.Client,
    timeout: float,
    max_redirects: int = MAX_REDIRECTS,
    before_redirect: Callable[[str], None] | None = None,
) -> Iterator[httpx.Response]:
    """GET ``url`` with ``client`` (one from ``guarded_client``) and yield the final
    response, its body not yet read.

    Redirects are followed here, to http(s) only and at most ``max_redirects`` of them;
    ``before_redirect`` sees each redirect's target before it is requested and may raise
    ``FetchError`` to refuse it (the enrichment's robots.txt for another host).
    Everything from the first connection until the block ends, reading the body inside
    it included, must finish within ``DEADLINE_FACTOR`` × ``timeout``. Network problems
    inside the block come out as ``FetchError``: ``FetchTimeout`` for a read timeout or
    the deadline, ``AddressRefused`` for the guard, plain ``FetchError`` for the rest.
    """
    total = DEADLINE_FACTOR * timeout
    with deadline(total) as at:
        try:
            target = httpx.URL(url)
            for _hop in range(max_redirects + 1):
                if target.scheme not in ("http", "https"):
                    raise FetchError(f"refused: {target.scheme!r} is not http or https")
                with client.stream("GET", target) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECT_CODES and location:
                        target = response.url.join(location)
                        if before_redirect is not None and target.scheme in ("http", "https"):
                            before_redirect(str(target))
                        continue
                    yield response
                    return
            raise FetchError(f"too many redirects (more than {max_redirects})")
        except httpx.TimeoutException as exc:
            # A read cut short by the deadline ends a hair before it on some clocks.
            if time.monotonic() >= at - 0.05:
                raise FetchTimeout(f"too slow: not complete after {total:g} s") from exc
            raise FetchTimeout(f"timed out after {timeout:g} s ({type(exc).__name__})") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"cannot fetch: {type(exc).__name__}: {str(exc)[:200]}") from exc


def iter_body(response: httpx.Response, max_bytes: int) -> Iterator[bytes]:
    """The body of ``response`` in chunks; raises ``TooLarge`` as soon as it is known to
    be larger than ``max_bytes`` (declared, or counted while streaming)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"{int(declared):,} bytes (limit {max_bytes:,})")
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"more than {max_bytes:,} bytes")
        yield chunk


def content_type(response: httpx.Response) -> str:
    """The media type of ``response``, lower case, without parameters."""
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    user_agent: str,
    accept: str = "*/*",
    check: Callable[[httpx.Response], None] | None = None,
    client: httpx.Client | None = None,
    before_redirect: Callable[[str], None] | None = None,
) -> Fetched:
    """GET ``url`` through the guard, within the deadline and the size limit; the body.

    ``check`` sees the final response before its body is read and may raise
    ``FetchError`` to refuse it (a wrong status or content type); ``before_redirect`` sees
    each redirect's target first (``open_response``). Without a ``client``
    one is made and closed here. Raises ``FetchError`` (or a subclass) for any failure.
    """
    own = client is None
    if client is None:
        client = guarded_client(timeout=timeout, user_agent=user_agent, accept=accept)
    try:
        with open_response(
            url, client=client, timeout=timeout, before_redirect=before_redirect
        ) as response:
            if check is not None:
                check(response)
            body = b"".join(iter_body(response, max_bytes))
            return Fetched(body, content_type(response), str(response.url), response.status_code)
    finally:
        if own:
            client.close()
