"""Reading feeds over real HTTP on loopback: the three formats and every way one fails."""

from __future__ import annotations

import json

import pytest

from toolverdict.ingest import feeds

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
    entries = feeds.read_feed(url)
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
    entries = feeds.read_feed(url)
    assert [e.link for e in entries] == ["https://acme.dev/coder", "https://zeta.example/vector"]
    assert entries[0].guid.startswith("urn:entry:0")


def test_json_feed_is_read(feed_server):
    url = feed_server.add("/feed.json", json_feed(LAUNCHES), content_type="application/feed+json")
    entries = feeds.read_feed(url)
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
    entries = feeds.parse(body, "application/json")
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
    with pytest.raises(feeds.FeedError, match=message):
        feeds.read_feed(url)


def test_broken_xml_with_entries_keeps_the_entries(feed_server):
    # An unescaped "&" makes the document ill-formed; feedparser still recovers the items.
    text = rss([("Tool & Co", "https://tool.example/", "Ships today")]).replace("&amp;", "&")
    url = feed_server.add("/sloppy", text)
    entries = feeds.read_feed(url)
    assert [e.link for e in entries] == ["https://tool.example/"]


def test_oversized_feed_with_declared_length_is_refused(feed_server, settings):
    url = feed_server.add("/huge", b"<rss>" + b"x" * 500_000 + b"</rss>")
    with pytest.raises(feeds.FeedError, match="too large: 500,011 bytes"):
        feeds.read_feed(url)


def test_oversized_feed_without_length_is_abandoned_while_streaming(feed_server):
    url = feed_server.add("/huge-stream", b"<rss>" + b"x" * 3_000_000, send_length=False)
    with pytest.raises(feeds.FeedError, match="too large: more than 200,000 bytes"):
        feeds.read_feed(url)


def test_slow_feed_times_out(feed_server):
    url = feed_server.add("/slow", rss(LAUNCHES), delay=5.0)
    with pytest.raises(feeds.FeedError, match="timed out after 0.5 s"):
        feeds.read_feed(url)


def test_http_errors_and_wrong_content_types_are_reported(feed_server):
    missing = feed_server.url("/nope")
    with pytest.raises(feeds.FeedError, match="HTTP 404"):
        feeds.read_feed(missing)
    image = feed_server.add("/logo.png", b"\x89PNG....", content_type="image/png")
    with pytest.raises(feeds.FeedError, match="content type 'image/png'"):
        feeds.read_feed(image)


def test_unreachable_server_is_reported():
    import socket

    with socket.socket() as sock:  # a loopback port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(feeds.FeedError, match="cannot fetch: ConnectError"):
        feeds.read_feed(f"http://127.0.0.1:{port}/feed")


def test_plain_bounds_and_flattens_text():
    assert feeds.plain("<p>a\n\n b</p>", 100) == "a b"
    assert feeds.plain("word " * 50, 20) == "word word word…"  # whole words only
    assert feeds.plain(None, 10) == ""
