"""Fixtures for ingestion tests: a real HTTP feed server on loopback, feeds, a recording
panel stand-in for tests of the pipeline's own logic, and task backends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.loopback import QuietHandler, loopback_http
from toolverdict.ingest import dedupe


@dataclass
class Route:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    delay: float = 0.0
    send_length: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # seconds between single bytes of the body (a trickling server)


@dataclass
class FeedServer:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)  # the Host header of each request

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, **kwargs) -> str:
        self.routes[path] = Route(body.encode() if isinstance(body, str) else body, **kwargs)
        return self.url(path)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """http.server in a thread on 127.0.0.1, OS-assigned port."""
    release = threading.Event()
    server_state = FeedServer(base="")

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            route = server_state.routes.get(self.path)
            server_state.hits[self.path] = server_state.hits.get(self.path, 0) + 1
            server_state.hosts.append(self.headers.get("Host", ""))
            if route is None:
                self.send_error(404)
                return
            if route.delay:
                release.wait(route.delay)
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if route.drip:
                    for i in range(len(route.body)):
                        self.wfile.write(route.body[i : i + 1])
                        self.wfile.flush()
                        if release.wait(route.drip):
                            return  # the test is over
                    return
                for start in range(0, len(route.body), 65536):
                    self.wfile.write(route.body[start : start + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (size limit, timeout): expected

    with loopback_http(Handler, release) as base:
        server_state.base = base
        yield server_state


@pytest.fixture(autouse=True)
def ingest_settings(settings):
    """Short network limits, and the n-gram embedder unless a test asks for MiniLM."""
    settings.TOOLVERDICT_INGEST_TIMEOUT = 0.5
    settings.TOOLVERDICT_INGEST_MAX_BYTES = 200_000
    settings.TOOLVERDICT_INGEST_EMBEDDER = "ngram"
    # The test feed server is on loopback; tests of the address guard turn this off.
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = True
    settings.TOOLVERDICT_SUBMISSIONS_PER_HOUR = 5
    # The entries link to made-up sites: reading them is tested with the fixture web
    # (tests/enrich/), not here.
    settings.TOOLVERDICT_ENRICH_ON_ARRIVAL = False
    dedupe._load_embedder.cache_clear()
    yield settings
    dedupe._load_embedder.cache_clear()


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "panel", "digest", "ingest"],
        }
    }
    return settings


@dataclass
class PanelCalls:
    calls: list[list[int]] = field(default_factory=list)
    enqueued: list[list[int]] = field(default_factory=list)
    fail: bool = False

    def enqueue(self, tool_ids) -> list:
        self.enqueued.append(list(tool_ids))
        return []

    def __call__(self, tool_ids: list[int], model=None) -> None:
        self.calls.append(list(tool_ids))
        if self.fail:
            raise RuntimeError("model server down")

    @property
    def reviewed(self) -> list[int]:
        return [pk for call in self.calls for pk in call]


@pytest.fixture
def fake_panel(monkeypatch) -> PanelCalls:
    """Stands in for the panel's review_tools and enqueue_panel in tests of the pipeline's
    own logic (the panel's tools_changed receiver enqueues through the latter)."""
    from toolverdict.panel import services as panel_services

    calls = PanelCalls()
    monkeypatch.setattr(panel_services, "review_tools", calls, raising=False)
    monkeypatch.setattr(panel_services, "enqueue_panel", calls.enqueue, raising=False)
    return calls


# --- feed documents ------------------------------------------------------------------


def rss(items: list[tuple[str, str, str]], title: str = "Launches") -> str:
    """items: (title, link, description)."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}#{i}</guid>"
        f"<description>{d}</description><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate></item>"
        for i, (t, link, d) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://launches.example/</link>"
        f"<description>Launches</description>{body}</channel></rss>"
    )


def atom(items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f'<entry><title>{t}</title><link href="{link}"/><id>urn:entry:{i}:{link}</id>'
        f"<updated>2026-11-24T08:00:00Z</updated><summary>{d}</summary></entry>"
        for i, (t, link, d) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Model hub releases</title><id>urn:hub</id>"
        f"<updated>2026-11-24T08:00:00Z</updated>{body}</feed>"
    )


def json_feed(items: list[tuple[str, str, str]]) -> str:
    import json

    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Launch site",
            "items": [
                {
                    "id": f"launch-{i}",
                    "url": link,
                    "title": t,
                    "content_text": d,
                    "date_published": "2026-11-24T08:00:00Z",
                    "authors": [{"name": "Maker"}],
                }
                for i, (t, link, d) in enumerate(items)
            ],
        }
    )
