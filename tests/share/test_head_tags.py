"""Canonical links and OpenGraph/Twitter tags on every page, on SITE_URL, escaped once."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.share.conftest import HOSTILE, hostile_tool

pytestmark = pytest.mark.django_db

SITE = "https://verdicts.example.com"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["testserver", "other.example.com"]


class Head(HTMLParser):
    """The <head>'s meta and link tags, with attribute values as a browser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.meta[key] = attrs.get("content", "")
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def head(client, url: str, **extra) -> Head:
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    parsed = Head()
    parsed.feed(response.content.decode())
    return parsed


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/tools/",
        "/tools/claude-4-sonnet/",
        "/compare/claude-4-sonnet-vs-smolvlm-2-5/",
        "/categories/developer-tools/",
        "/rankings/",
        "/digest/",
        "/search/?q=claude",
        "/accounts/login/",
        "/submit/",
    ],
)
def test_every_page_has_a_canonical_link_and_share_tags(client, starter_catalog, url):
    tags = head(client, url)
    path = url.split("?")[0]
    assert tags.canonical == [f"{SITE}{path}"]
    assert tags.meta["og:url"] == f"{SITE}{path}"
    assert tags.meta["og:title"] == tags.title
    assert tags.meta["twitter:title"] == tags.title
    assert tags.meta["og:description"] == tags.meta["description"] != ""
    assert tags.meta["og:image"].startswith(f"{SITE}/share/")
    assert tags.meta["twitter:image"] == tags.meta["og:image"]
    assert tags.meta["twitter:card"] == "summary_large_image"


def test_canonical_uses_site_url_whatever_host_the_request_came_to(client, starter_catalog):
    tags = head(client, "/tools/claude-4-sonnet/?utm_source=x", HTTP_HOST="other.example.com")
    assert tags.canonical == [f"{SITE}/tools/claude-4-sonnet/"]


def test_tool_and_comparison_pages_point_og_image_at_their_own_share_image(client, starter_catalog):
    tool = head(client, "/tools/claude-4-sonnet/")
    assert tool.meta["og:image"] == f"{SITE}/share/tools/claude-4-sonnet.png"
    pair = head(client, "/compare/claude-4-sonnet-vs-smolvlm-2-5/")
    assert pair.meta["og:image"] == f"{SITE}/share/compare/claude-4-sonnet-vs-smolvlm-2-5.png"
    for url in (tool.meta["og:image"], pair.meta["og:image"]):
        image = client.get(url.removeprefix(SITE))
        assert image.status_code == 200
        assert image["Content-Type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert head(client, "/").meta["og:image"] == f"{SITE}/share/site.png"


def test_a_not_found_page_has_share_tags_but_no_canonical_link(client, starter_catalog):
    response = client.get("/tools/no-such-tool/")
    assert response.status_code == 404
    parsed = Head()
    parsed.feed(response.content.decode())
    assert parsed.canonical == []
    assert parsed.meta["og:title"].startswith("Not found")


def test_a_hostile_tool_name_is_escaped_once_in_title_and_share_tags(client, starter_catalog):
    tool = hostile_tool()
    response = client.get(tool.get_absolute_url())
    body = response.content.decode()
    head_html = body.split("</head>")[0]
    assert "<script>alert(1)" not in head_html
    assert "</title><!--" not in head_html.split("<title>", 1)[1].split("</title>", 1)[1]
    tags = Head()
    tags.feed(body)
    expected_name = HOSTILE.replace("\u202e", "")  # bidi override dropped
    assert tags.meta["og:title"].startswith(expected_name)
    assert tags.meta["og:description"].startswith("</script><script>alert('tagline')")
    assert "&amp;amp;" not in head_html and "&amp;lt;" not in head_html  # escaped once
