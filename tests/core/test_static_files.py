"""Static files: versioned URLs cached for a year, gzip for text, a favicon on every page."""

from __future__ import annotations

import gzip
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scripts_on_every_page(settings):
    settings.TOOLVERDICT_PAGE_SCRIPTS = "all"  # so the anonymous page names every asset


def asset_urls(client: Client) -> list[str]:
    body = client.get("/").content.decode()
    return re.findall(r'(?:href|src|data-htmx)="(/static/[^"]+)"', body)


def test_every_page_asset_has_a_content_version_and_a_long_cache():
    client = Client()
    urls = asset_urls(client)
    names = {u.split("?")[0] for u in urls}
    assert {
        "/static/toolverdict.css",
        "/static/site.js",
        "/static/htmx.min.js",
        "/static/favicon.svg",
    } <= names
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_text_assets_are_served_gzipped():
    client = Client()
    for url in asset_urls(client):
        if not url.split("?")[0].endswith((".css", ".js")):
            continue
        plain = b"".join(client.get(url).streaming_content)
        packed = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert packed["Content-Encoding"] == "gzip"
        assert gzip.decompress(b"".join(packed.streaming_content)) == plain


def test_an_unversioned_url_keeps_a_short_cache():
    response = Client().get("/static/toolverdict.css")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]


def test_the_page_names_its_favicon():
    body = Client().get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg?v=' in body
