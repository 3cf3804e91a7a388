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


@pytest.mark.django_db
def test_one_host_is_paced(odd_site, monkeypatch):
    from toolverdict.enrich import fetch as fetch_module

    base, routes, _ = odd_site
    routes["/"] = Route(200, PAGE)
    waits: list[float] = []
    monkeypatch.setattr(fetch_module.time, "sleep", waits.append)
    fetcher = Fetcher(interval=30.0)
    fetcher.get(base + "/")
    fetcher.get(base + "/")
    # robots.txt, then two pages: each reserves the host's next slot, 30 s after the last
    # one (sleep is recorded, not slept, so the slots add up).
    assert fetcher.requests == 3
    assert len(waits) == 2
    assert 29 < waits[0] <= 30 and 59 < waits[1] <= 60


@pytest.mark.django_db
def test_the_pace_holds_across_fetchers_as_across_workers(odd_site, monkeypatch):
    """Two fetchers (two workers) share the host's slots through the database: the second
    one waits for the first one's reservation, though it has never seen that fetcher."""
    from toolverdict.enrich import fetch as fetch_module

    base, routes, _ = odd_site
    routes["/"] = Route(200, PAGE)
    waits: list[float] = []
    monkeypatch.setattr(fetch_module.time, "sleep", waits.append)
    Fetcher(interval=20.0).get(base + "/")  # robots.txt at once, the page 20 s on
    Fetcher(interval=20.0).get(base + "/")  # its robots.txt 40 s on, its page 60 s on
    assert [round(w) for w in waits] == [20, 40, 60]


@pytest.mark.django_db(transaction=True)
def test_two_fetchers_in_parallel_never_ask_one_host_closer_than_the_interval(odd_site):
    """Real sleeps, two threads with their own fetchers and connections: the host sees the
    requests spaced by the interval, not two at once."""
    import threading

    from django.db import connection

    base, routes, hits = odd_site
    routes["/"] = Route(200, PAGE)
    interval = 0.4

    def worker() -> None:
        try:
            fetcher = Fetcher(interval=interval)
            for _ in range(3):
                assert fetcher.get(base + "/").ok
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    gaps = [b - a for a, b in zip(hits.at, hits.at[1:], strict=False)]
    assert len(hits) == 8  # two robots.txt and six pages
    # Slots are 0.4 s apart; arrival times also carry the load's jitter, so the checks
    # leave room for it: without a shared pace two fetchers overlap (gaps near 0), and
    # eight requests could not take the seven intervals they do.
    assert min(gaps) >= interval / 2, gaps
    assert hits.at[-1] - hits.at[0] >= 7 * interval - 0.2, gaps


def test_a_redirect_to_another_host_obeys_that_hosts_robots_txt(odd_site, other_site):
    base, routes, _ = odd_site
    other, other_routes, other_hits = other_site
    routes["/pricing"] = Route(302, b"", headers={"Location": other + "/private/prices"})
    other_routes["/robots.txt"] = Route(
        200, b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"}
    )
    other_routes["/private/prices"] = Route(200, PAGE)
    fetched = Fetcher(interval=0).get(base + "/pricing")
    assert fetched.outcome == "robots"
    assert "robots.txt disallows" in fetched.detail
    assert other_hits == ["/robots.txt"]  # the disallowed page was never requested


def test_a_redirect_to_another_host_that_allows_it_is_read(odd_site, other_site):
    base, routes, _ = odd_site
    other, other_routes, other_hits = other_site
    routes["/pricing"] = Route(302, b"", headers={"Location": other + "/prices"})
    other_routes["/prices"] = Route(200, PAGE)
    fetched = Fetcher(interval=0).get(base + "/pricing")
    assert fetched.ok and fetched.final_url == other + "/prices"
    assert other_hits == ["/robots.txt", "/prices"]


def test_a_redirect_within_the_site_to_a_disallowed_path_is_not_followed(odd_site):
    base, routes, hits = odd_site
    routes["/robots.txt"] = Route(
        200, b"User-agent: *\nDisallow: /internal/\n", headers={"Content-Type": "text/plain"}
    )
    routes["/pricing"] = Route(302, b"", headers={"Location": "/internal/prices"})
    routes["/internal/prices"] = Route(200, PAGE)
    fetched = Fetcher(interval=0).get(base + "/pricing")
    assert fetched.outcome == "robots"
    assert hits == ["/robots.txt", "/pricing"]
