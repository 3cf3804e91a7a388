"""The fetch deadline covers the whole exchange: a server that drips its status line or
headers is cut off like one that drips its body (feeds and source checks alike)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.loopback import QuietHandler, loopback_http
from toolverdict.catalog.models import Source
from toolverdict.ingest import feed_reader, fetching, source_checks

INTERVAL = 0.2  # seconds between two pieces: well under the 0.5 s read timeout
PIECES = 300  # so the whole head takes 60 s to arrive
# The deadline is 1.5 s; this bound is only there to tell "cut off" from "waited for the
# whole 60 s head", far from both on a loaded machine.
BOUND = 30.0


def _head(pieces: int, by: str) -> list[bytes]:
    lines = [b"HTTP/1.1 200 OK\r\n", b"Content-Type: application/rss+xml\r\n"]
    lines += [f"X-Drip-{i}: {i}\r\n".encode() for i in range(pieces)]
    if by == "line":
        return lines[:pieces]
    data = b"".join(lines)
    return [data[i : i + 1] for i in range(pieces)]


@pytest.fixture(params=["line", "byte"])
def dripping_server(request) -> Iterator[str]:
    """Sends its response head one line (or one byte) every INTERVAL seconds, 60 s in all,
    then an empty body; never silent long enough for a read timeout."""
    release = threading.Event()
    pieces = _head(PIECES, request.param)

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            try:
                for piece in pieces:
                    self.wfile.write(piece)
                    if release.wait(INTERVAL):
                        return  # the test is over
                self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: expected

    with loopback_http(Handler, release) as base:
        yield base + "/feed"


def test_a_feed_dripping_its_headers_is_cut_off_at_the_deadline(dripping_server, settings):
    settings.TOOLVERDICT_INGEST_TIMEOUT = 0.5
    started = time.monotonic()
    with pytest.raises(feed_reader.FeedError, match=r"too slow: not complete after 1\.5 s"):
        feed_reader.read_feed(dripping_server)
    assert time.monotonic() - started < BOUND


def test_a_source_dripping_its_headers_is_unreachable_at_the_deadline(dripping_server):
    started = time.monotonic()
    result = source_checks.fetch_source(dripping_server, timeout=0.5)
    assert time.monotonic() - started < BOUND
    assert result.outcome == Source.Outcome.UNREACHABLE
    assert result.detail == "too slow: not complete after 1.5 s"
    assert result.http_status is None  # the head never arrived


def test_each_fetch_on_a_shared_client_has_its_own_deadline(dripping_server):
    # A client reused for several fetches (source checks share one per host): each fetch
    # gets its own deadline, not the first one's, and none is unbounded.
    client = fetching.guarded_client(timeout=0.5, user_agent="test")
    try:
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(fetching.FetchTimeout, match="too slow"):
                fetching.fetch(
                    dripping_server, timeout=0.5, max_bytes=1000, user_agent="test", client=client
                )
            assert time.monotonic() - started < BOUND
    finally:
        client.close()


def test_no_deadline_is_left_behind_after_a_fetch(dripping_server):
    with pytest.raises(fetching.FetchTimeout):
        fetching.fetch(dripping_server, timeout=0.5, max_bytes=1000, user_agent="test")
    assert fetching._deadline.get() is None  # noqa: SLF001 - the state under test
