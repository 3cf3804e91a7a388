"""Catalog fixtures: a real HTTP server on loopback standing in for the cited pages."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.loopback import QuietHandler, loopback_http


@dataclass
class Page:
    body: bytes = b"<html><body>The page</body></html>"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send_length: bool = True


@dataclass
class SourceServer:
    base: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)

    def add(self, path: str, page: Page | None = None) -> str:
        self.pages[path] = page or Page()
        return self.base + path


@pytest.fixture
def source_server() -> Iterator[SourceServer]:
    """http.server in a thread on 127.0.0.1, OS-assigned port."""
    release = threading.Event()
    state = SourceServer()

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            state.agents.append(self.headers.get("User-Agent", ""))
            page = state.pages.get(self.path)
            if page is None:
                self.send_error(404)
                return
            if page.delay and release.wait(page.delay):
                return  # the test is over
            try:
                self.send_response(page.status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                if page.send_length:
                    self.send_header("Content-Length", str(len(page.body)))
                for name, value in page.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                for start in range(0, len(page.body), 65536):
                    self.wfile.write(page.body[start : start + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (size limit, timeout): expected

    with loopback_http(Handler, release) as base:
        state.base = base
        yield state


@pytest.fixture
def source_settings(settings):
    """Short limits, no pause between requests, and the loopback server let through the
    address guard (the guard's own test turns that off)."""
    settings.TOOLVERDICT_SOURCES_TIMEOUT = 0.5
    settings.TOOLVERDICT_SOURCES_MAX_BYTES = 50_000
    settings.TOOLVERDICT_SOURCES_HOST_INTERVAL = 0.0
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = True
    return settings
