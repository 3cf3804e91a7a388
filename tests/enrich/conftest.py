"""Enrichment tests: the fixture web on loopback, the real fetch, parsers and storage."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from tests.loopback import QuietHandler, loopback_http

from .fixtures.web import serve_sites


@pytest.fixture(autouse=True)
def enrich_settings(settings):
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = True  # the fixture web is loopback
    settings.TOOLVERDICT_ENRICH_HOST_INTERVAL = 0.0
    settings.TOOLVERDICT_ENRICH_TIMEOUT = 2.0
    settings.TOOLVERDICT_ENRICH_MAX_BYTES = 200_000
    return settings


@pytest.fixture(scope="module")
def web() -> Iterator[dict[str, str]]:
    with serve_sites() as urls:
        yield urls


class Route:
    def __init__(self, status: int = 200, body: bytes = b"", headers=None, delay: float = 0):
        self.status, self.body, self.headers, self.delay = status, body, headers or {}, delay


class Hits(list):
    """The paths requested, in order; ``at``: when each request arrived (monotonic)."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []


@contextlib.contextmanager
def routed_site() -> Iterator[tuple[str, dict[str, Route], list[str]]]:
    """A site whose answers a test sets: (base URL, routes by path, paths requested)."""
    routes: dict[str, Route] = {}
    hits = Hits()
    release = threading.Event()

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            hits.at.append(time.monotonic())
            hits.append(self.path)
            route = routes.get(self.path, Route(404, b"missing"))
            if route.delay:
                release.wait(route.delay)
            self.send_response(route.status)
            headers = {"Content-Type": "text/html", **route.headers}
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (size, timeout tests)
                self.wfile.write(route.body)

    with loopback_http(Handler, release) as base:
        yield base, routes, hits


@pytest.fixture
def odd_site() -> Iterator[tuple[str, dict[str, Route], list[str]]]:
    with routed_site() as site:
        yield site


@pytest.fixture
def other_site() -> Iterator[tuple[str, dict[str, Route], list[str]]]:
    """A second host, for redirects that leave the first."""
    with routed_site() as site:
        yield site
