"""Every way a page is refused: robots.txt, an unreadable robots.txt, size, timeout, a
redirect to a private address, a file that is not a page. Real fetches on loopback."""

from __future__ import annotations

import pytest

from toolverdict.enrich.fetch import Fetcher
from toolverdict.enrich.services import read_site
from toolverdict.ingest import fetching

from .conftest import Route

PAGE = b"<html><body><h1>Tool</h1><p>Pro $20 per month</p></body></html>"


def test_robots_txt_keeps_a_disallowed_page_unrequested(web):
    fetches, pages = read_site(web["privatepilot"], Fetcher(interval=0))
    outcomes = {f.url.rsplit("/", 1)[1]: f.outcome for f in fetches}
    assert outcomes["pricing"] == "robots"
    assert "robots.txt" in next(f.detail for f in fetches if f.outcome == "robots")
    assert all("$49" not in line for page in pages for line in page.lines)


def test_a_robots_txt_server_error_keeps_the_whole_site_unread(odd_site):
    base, routes, hits = odd_site
    routes["/robots.txt"] = Route(503, b"down")
    routes["/"] = Route(200, PAGE)
    fetched = Fetcher(interval=0).get(base + "/")
    assert fetched.outcome == "robots"
    assert "HTTP 503" in fetched.detail
    assert hits == ["/robots.txt"]


def test_a_missing_robots_txt_allows_everything(odd_site):
    base, routes, hits = odd_site
    routes["/"] = Route(200, PAGE)
    assert Fetcher(interval=0).get(base + "/").ok
    assert hits == ["/robots.txt", "/"]


def test_a_page_over_the_size_limit_is_not_read(odd_site):
    base, routes, _ = odd_site
    routes["/big"] = Route(200, b"<p>" + b"x" * 5000 + b"</p>")
    routes["/declared"] = Route(200, b"", headers={"Content-Length": "999999"})
    fetcher = Fetcher(interval=0, max_bytes=1000)
    big = fetcher.get(base + "/big")
    assert big.outcome == "too_large" and big.body == b""
    assert fetcher.get(base + "/declared").outcome == "too_large"


def test_a_slow_page_times_out(odd_site):
    base, routes, _ = odd_site
    routes["/slow"] = Route(200, PAGE, delay=5)
    fetched = Fetcher(interval=0, timeout=0.3).get(base + "/slow")
    assert fetched.outcome == "timeout"


def test_a_download_is_not_a_page(odd_site):
    base, routes, _ = odd_site
    routes["/app.zip"] = Route(200, b"PK", headers={"Content-Type": "application/zip"})
    assert Fetcher(interval=0).get(base + "/app.zip").outcome == "not_html"


@pytest.fixture
def loopback_counts_as_public(monkeypatch, settings):
    """Guard on; the test server's 127.0.0.1 passes as public and tool.example.test
    resolves to it, so a redirect hop to a private address can be tested on loopback."""
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    real_refusal, real_resolve = fetching.address_refusal, fetching.resolve_host
    names = {"tool.example.test": ["127.0.0.1"], "intranet.example.test": ["10.1.2.3"]}
    monkeypatch.setattr(
        fetching, "address_refusal", lambda a: "" if a == "127.0.0.1" else real_refusal(a)
    )
    monkeypatch.setattr(
        fetching, "resolve_host", lambda host, port: names.get(host) or real_resolve(host, port)
    )


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://intranet.example.test:5432/"],
)
def test_a_redirect_to_a_private_address_is_refused(odd_site, loopback_counts_as_public, location):
    base, routes, hits = odd_site
    port = base.rsplit(":", 1)[1]
    routes["/pricing"] = Route(302, b"", headers={"Location": location})
    fetched = Fetcher(interval=0).get(f"http://tool.example.test:{port}/pricing")
    assert fetched.outcome == "refused"
    assert "only public addresses" in fetched.detail
    assert hits == ["/robots.txt", "/pricing"]


def test_the_guard_refuses_a_private_homepage_before_any_request(odd_site, settings):
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    base, routes, hits = odd_site
    routes["/"] = Route(200, PAGE)
    fetched = Fetcher(interval=0).get(base + "/")
    assert fetched.outcome == "robots"  # robots.txt itself could not be fetched
    assert "only public addresses" in fetched.detail
    assert hits == []


def test_one_host_is_paced(odd_site, monkeypatch):
    from toolverdict.enrich import fetch as fetch_module

    base, routes, _ = odd_site
    routes["/"] = Route(200, PAGE)
    waits: list[float] = []
    monkeypatch.setattr(fetch_module.time, "sleep", waits.append)
    fetcher = Fetcher(interval=30.0)
    fetcher.get(base + "/")
    fetcher.get(base + "/")
    # robots.txt, then two pages: the host is asked to wait before each page.
    assert fetcher.requests == 3
    assert len(waits) == 2 and all(0 < wait <= 30.0 for wait in waits)
