"""robots.txt and the sitemap: absolute on SITE_URL, every public page, nothing hidden."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.digest.models import Issue
from toolverdict.ingest.models import DailyComparison

pytestmark = pytest.mark.django_db

SITE = "https://verdicts.example.com"
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def locations(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own sitemap
    return [loc.text for loc in root.iter(f"{NS}loc")]


def test_robots_txt_points_at_the_sitemap_and_keeps_private_paths_out(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    for path in ("/admin/", "/accounts/", "/editor/", "/ingest/", "/votes/", "/search/"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /tools/" not in lines and "Disallow: /" not in lines


def test_the_index_lists_each_section_on_site_url(client, starter_catalog):
    assert locations(client, "/sitemap.xml") == [
        f"{SITE}/sitemap-{s}.xml" for s in ("pages", "tools", "categories", "comparisons", "digest")
    ]


def test_tools_section_lists_every_published_tool_and_no_hidden_one(client, starter_catalog):
    Tool.objects.filter(slug="cursor").update(is_published=False)
    found = locations(client, "/sitemap-tools.xml")
    expected = {
        f"{SITE}/tools/{slug}/" for slug in Tool.objects.published().values_list("slug", flat=True)
    }
    assert set(found) == expected and len(found) == len(expected)
    assert f"{SITE}/tools/cursor/" not in found


def test_categories_and_pages_sections(client, starter_catalog):
    assert f"{SITE}/categories/developer-tools/" in locations(client, "/sitemap-categories.xml")
    pages = locations(client, "/sitemap-pages.xml")
    assert {f"{SITE}/", f"{SITE}/tools/", f"{SITE}/rankings/", f"{SITE}/digest/"} == set(pages)


def test_comparisons_are_same_category_pairs_plus_the_ingest_choices(client, starter_catalog):
    found = set(locations(client, "/sitemap-comparisons.xml"))
    assert f"{SITE}/compare/claude-4-sonnet-vs-smolvlm-2-5/" in found
    cross = f"{SITE}/compare/claude-4-sonnet-vs-ollama/"  # different categories
    assert cross not in found
    developer_tools = Tool.objects.published().filter(category__slug="developer-tools").count()
    per_category = sum(
        n * (n - 1) // 2
        for n in (
            Tool.objects.published().filter(category=c).count()
            for c in {t.category for t in Tool.objects.published()}
        )
    )
    assert len(found) == per_category and developer_tools >= 2
    claude, ollama = Tool.objects.get(slug="claude-4-sonnet"), Tool.objects.get(slug="ollama")
    DailyComparison.objects.create(
        day=dt.date(2026, 12, 1),
        tool=ollama,
        rival=claude,
        similarity=0.5,
        left_slug="claude-4-sonnet",
        right_slug="ollama",
    )
    assert cross in set(locations(client, "/sitemap-comparisons.xml"))


def test_digest_section_lists_sent_issues_only(client):
    now = timezone.now()
    common = {"period_start": now, "period_end": now, "subject": "Week"}
    Issue.objects.create(iso_year=2026, iso_week=47, status="sent", sent_at=now, **common)
    Issue.objects.create(iso_year=2026, iso_week=48, status="draft", **common)
    assert locations(client, "/sitemap-digest.xml") == [f"{SITE}/digest/2026-w47/"]


def test_an_unknown_section_is_404(client):
    assert Client().get("/sitemap-nope.xml").status_code == 404


@pytest.mark.page_cache
def test_the_sitemap_is_cached_and_retired_by_a_catalog_edit(
    starter_catalog, django_capture_on_commit_callbacks, settings
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    client = Client()
    first = client.get("/sitemap-tools.xml")
    assert (
        client.get("/sitemap-tools.xml", headers={"If-None-Match": first["ETag"]}).status_code
        == 304
    )
    with django_capture_on_commit_callbacks(execute=True):
        tool = Tool.objects.get(slug="cursor")
        tool.is_published = False
        tool.save()
    assert f"{SITE}/tools/cursor/" not in locations(client, "/sitemap-tools.xml")
