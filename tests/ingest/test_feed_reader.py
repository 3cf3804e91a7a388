"""Reading feeds over real HTTP on loopback: the three formats and every way one fails."""

from __future__ import annotations

import json

import pytest

from toolverdict.ingest import feed_reader, fetching

from .conftest import atom, json_feed, rss

LAUNCHES = [
    (
        "Introducing Acme Coder: an AI pair programmer",
        "https://acme.dev/coder",
        "<p>Acme Coder writes <b>tests</b> for you.</p>",
    ),
    (
        "Zeta Vector 1.0",
        "https://zeta.example/vector",
        "An open-source vector store. Fast &amp; small.",
    ),
]


def test_rss_feed_is_read_with_plain_text(feed_server):
    url = feed_server.add("/rss", rss(LAUNCHES))
    entries = feed_reader.read_feed(url)
    assert [e.title for e in entries] == [
        "Introducing Acme Coder: an AI pair programmer",
        "Zeta Vector 1.0",
    ]
    assert entries[0].link == "https://acme.dev/coder"
    assert entries[0].summary == "Acme Coder writes tests for you."  # tags stripped
    assert entries[1].summary == "An open-source vector store. Fast & small."
    assert entries[0].published is not None and entries[0].published.year == 2026


def test_atom_feed_is_read(feed_server):
    url = feed_server.add("/atom", atom(LAUNCHES), content_type="application/atom+xml")
    entries = feed_reader.read_feed(url)
    assert [e.link for e in entries] == ["https://acme.dev/coder", "https://zeta.example/vector"]
    assert entries[0].guid.startswith("urn:entry:0")


def test_json_feed_is_read(feed_server):
    url = feed_server.add("/feed.json", json_feed(LAUNCHES), content_type="application/feed+json")
    entries = feed_reader.read_feed(url)
    assert [e.guid for e in entries] == ["launch-0", "launch-1"]
    assert entries[0].author == "Maker"
    assert entries[1].summary.startswith("An open-source vector store.")


def test_json_feed_prefers_external_url_and_skips_junk_items():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "items": [
                "not an item",
                {
                    "id": 7,
                    "url": "https://hub.example/post/7",
                    "external_url": "https://tool.example/",
                    "title": "Tool",
                },
                {"id": "no-title", "url": "https://x.example/"},
                {
                    "id": "bad-link",
                    "url": "javascript:alert(1)",
                    "title": "Sneaky",
                    "authors": {"name": "not a list"},
                },
            ],
        }
    ).encode()
    entries = feed_reader.parse(body, "application/json")
    assert [(e.guid, e.link) for e in entries] == [("7", "https://tool.example/"), ("bad-link", "")]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<html><body>Not a feed <div></body>", "text/html", "not a feed"),
        (b"\x00\xff\xfe garbage \x00", "application/octet-stream", "not a feed"),
        (b'{"items": [}', "application/json", "not valid JSON"),
        (b'{"title": "x", "items": []}', "application/json", "not a JSON Feed"),
        (b"   ", "application/rss+xml", "empty response"),
    ],
)
def test_malformed_feeds_raise_a_clear_error(feed_server, body, content_type, message):
    url = feed_server.add("/bad", body, content_type=content_type)
    with pytest.raises(feed_reader.FeedError, match=message):
        feed_reader.read_feed(url)


def test_broken_xml_with_entries_keeps_the_entries(feed_server):
    # An unescaped "&" makes the document ill-formed; feedparser still recovers the items.
    text = rss([("Tool & Co", "https://tool.example/", "Ships today")]).replace("&amp;", "&")
    url = feed_server.add("/sloppy", text)
    entries = feed_reader.read_feed(url)
    assert [e.link for e in entries] == ["https://tool.example/"]


def test_oversized_feed_with_declared_length_is_refused(feed_server, settings):
    url = feed_server.add("/huge", b"<rss>" + b"x" * 500_000 + b"</rss>")
    with pytest.raises(feed_reader.FeedError, match="too large: 500,011 bytes"):
        feed_reader.read_feed(url)


def test_oversized_feed_without_length_is_abandoned_while_streaming(feed_server):
    url = feed_server.add("/huge-stream", b"<rss>" + b"x" * 3_000_000, send_length=False)
    with pytest.raises(feed_reader.FeedError, match="too large: more than 200,000 bytes"):
        feed_reader.read_feed(url)


def test_slow_feed_times_out(feed_server):
    url = feed_server.add("/slow", rss(LAUNCHES), delay=5.0)
    with pytest.raises(feed_reader.FeedError, match="timed out after 0.5 s"):
        feed_reader.read_feed(url)


def test_http_errors_and_wrong_content_types_are_reported(feed_server):
    missing = feed_server.url("/nope")
    with pytest.raises(feed_reader.FeedError, match="HTTP 404"):
        feed_reader.read_feed(missing)
    image = feed_server.add("/logo.png", b"\x89PNG....", content_type="image/png")
    with pytest.raises(feed_reader.FeedError, match="content type 'image/png'"):
        feed_reader.read_feed(image)


def test_unreachable_server_is_reported():
    import socket

    with socket.socket() as sock:  # a loopback port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(feed_reader.FeedError, match="cannot fetch: ConnectError"):
        feed_reader.read_feed(f"http://127.0.0.1:{port}/feed")


def test_plain_bounds_and_flattens_text():
    assert feed_reader.plain("<p>a\n\n b</p>", 100) == "a b"
    assert feed_reader.plain("word " * 50, 20) == "word word word…"  # whole words only
    assert feed_reader.plain(None, 10) == ""


def test_a_dripping_feed_is_cut_off_by_the_overall_deadline(feed_server, settings):
    # One byte every 0.2 s never trips the 0.5 s read timeout; only the per-feed deadline
    # (three times the timeout) stops it, long before the body is complete.
    settings.TOOLVERDICT_INGEST_TIMEOUT = 0.5
    url = feed_server.add("/drip", rss(LAUNCHES), drip=0.2)
    with pytest.raises(feed_reader.FeedError, match="too slow: not complete after 1.5 s"):
        feed_reader.read_feed(url)


# --- the address guard (server-side request forgery) --------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - the unspecified address, as a resolver answer
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:8.8.8.8",  # IPv4-mapped, refused whatever it maps to
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused(address):
    assert feed_reader.address_refusal(address) != ""
    with pytest.raises(
        feed_reader.AddressRefused, match=f"feeds.example.test resolves to {address}"
    ):
        feed_reader.checked_addresses(
            "feeds.example.test", 443, resolve=lambda host, port: ["93.184.216.34", address]
        )


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass_the_guard(address):
    assert feed_reader.address_refusal(address) == ""
    resolved = feed_reader.checked_addresses(
        "feeds.example.test", 443, resolve=lambda h, p: [address]
    )
    assert resolved == [address]


def test_the_setting_lets_private_addresses_through():
    assert feed_reader.checked_addresses(
        "db.internal", 5432, resolve=lambda h, p: ["10.0.0.5"], allow_private=True
    ) == ["10.0.0.5"]


def test_a_loopback_feed_is_refused_without_a_request(feed_server, settings):
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    url = feed_server.add("/rss", rss(LAUNCHES))
    with pytest.raises(feed_reader.AddressRefused, match=r"127\.0\.0\.1 \(loopback address\)"):
        feed_reader.read_feed(url)
    assert feed_server.hits == {}


@pytest.fixture
def loopback_counts_as_public(monkeypatch, settings):
    """Guard on, but the test server's 127.0.0.1 passes as if it were a public address,
    and feeds.example.test resolves to it: so a redirect hop can be tested on loopback."""
    settings.TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES = False
    real_refusal, real_resolve = fetching.address_refusal, fetching.resolve_host
    names = {"feeds.example.test": ["127.0.0.1"], "intranet.example.test": ["10.1.2.3"]}
    resolved: list[str] = []

    def refusal(address: str) -> str:
        return "" if address == "127.0.0.1" else real_refusal(address)

    def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return names.get(host) or real_resolve(host, port)

    # The guard lives in fetching.py, shared by every fetch; it is patched where it is read.
    monkeypatch.setattr(fetching, "address_refusal", refusal)
    monkeypatch.setattr(fetching, "resolve_host", resolve)
    return resolved


def test_the_checked_address_is_the_one_connected_to(feed_server, loopback_counts_as_public):
    # feeds.example.test exists only in the stand-in resolver: the request can only reach
    # the server through the address the guard checked, and keeps its own Host header.
    feed_server.add("/rss", rss(LAUNCHES))
    port = feed_server.base.rsplit(":", 1)[1]
    entries = feed_reader.read_feed(f"http://feeds.example.test:{port}/rss")
    assert len(entries) == 2
    assert feed_server.hosts == [f"feeds.example.test:{port}"]
    assert loopback_counts_as_public == ["feeds.example.test"]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", r"169\.254\.169\.254 \(private address\)"),
        ("http://intranet.example.test:5432/", r"intranet\.example\.test resolves to 10\.1\.2\.3"),
        ("http://[::ffff:127.0.0.1]:5432/", "IPv4-mapped IPv6 address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused(
    feed_server, loopback_counts_as_public, location, message
):
    feed_server.add("/moved", b"", status=302, headers={"Location": location})
    port = feed_server.base.rsplit(":", 1)[1]
    with pytest.raises(feed_reader.AddressRefused, match=message):
        feed_reader.read_feed(f"http://feeds.example.test:{port}/moved")
    assert feed_server.hits == {"/moved": 1}


def test_redirects_are_followed_within_bounds(feed_server, loopback_counts_as_public):
    feed_server.add("/rss", rss(LAUNCHES))
    feed_server.add("/old", b"", status=301, headers={"Location": "/rss"})
    assert len(feed_reader.read_feed(feed_server.url("/old"))) == 2
    feed_server.add("/loop", b"", status=302, headers={"Location": "/loop"})
    with pytest.raises(feed_reader.FeedError, match="too many redirects"):
        feed_reader.read_feed(feed_server.url("/loop"))
    assert feed_server.hits["/loop"] == feed_reader.MAX_REDIRECTS + 1
    feed_server.add("/ftp", b"", status=302, headers={"Location": "ftp://example.test/x"})
    with pytest.raises(feed_reader.FeedError, match="'ftp' is not http or https"):
        feed_reader.read_feed(feed_server.url("/ftp"))
