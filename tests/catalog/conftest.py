"""Catalog fixtures: a real HTTP server on loopback standing in for the cited pages."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


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

    class Handler(BaseHTTPRequestHandler):
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

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def source_settings(settings):
    """Short limits, no pause between requests, and the loopback server let through the
    address guard (the guard's own test turns that off)."""
    settings.TOOLVERDICT_SOURCES_TIMEOUT = 0.5
    settings.TOOLVERDICT_SOURCES_MAX_BYTES = 50_000
    settings.TOOLVERDICT_SOURCES_HOST_INTERVAL = 0.0
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = True
    return settings
