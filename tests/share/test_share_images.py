"""Share images: real PNGs of the right size, untrusted text drawn safely, cached with the
page and retired by the same writes."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from tests.share.conftest import add_reviews, add_votes, hostile_tool
from toolverdict.catalog.models import Category, Tool
from toolverdict.community.services import CommunityFigure
from toolverdict.panel.services import PanelSummary
from toolverdict.share import images

pytestmark = pytest.mark.django_db

TOOL_IMAGE = "/share/tools/claude-4-sonnet.png"
PAIR_IMAGE = "/share/compare/claude-4-sonnet-vs-smolvlm-2-5.png"


def png(response) -> Image.Image:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_tool_comparison_and_site_images_are_1200_by_630_pngs(client, starter_catalog):
    for url in (TOOL_IMAGE, PAIR_IMAGE, "/share/site.png"):
        image = png(client.get(url))
        assert (image.format, image.size) == ("PNG", (1200, 630))


def test_a_reversed_pair_redirects_to_the_canonical_image(client, starter_catalog):
    response = client.get("/share/compare/smolvlm-2-5-vs-claude-4-sonnet.png")
    assert response.status_code == 301
    assert response["Location"] == PAIR_IMAGE


def test_unknown_or_hidden_tools_have_no_image(client, starter_catalog):
    assert client.get("/share/tools/nope.png").status_code == 404
    assert client.get("/share/compare/claude-4-sonnet-vs-nope.png").status_code == 404
    Tool.objects.filter(slug="claude-4-sonnet").update(is_published=False)
    assert client.get(TOOL_IMAGE).status_code == 404


def test_the_image_shows_the_figures_so_it_changes_with_them(client, starter_catalog):
    before = client.get(TOOL_IMAGE).content
    tool = Tool.objects.get(slug="claude-4-sonnet")
    add_reviews(tool, ["ship", "ship", "skip"])
    after = client.get(TOOL_IMAGE).content
    assert after != before
    assert png(client.get(TOOL_IMAGE)).size == (1200, 630)


def test_a_hostile_tool_renders_to_a_valid_image(client, starter_catalog):
    tool = hostile_tool()
    add_reviews(tool, ["ship", "skip", "skip"])
    image = png(client.get(f"/share/tools/{tool.slug}.png"))
    assert image.size == (1200, 630)
    pair = sorted([tool.slug, "claude-4-sonnet"])
    assert png(client.get(f"/share/compare/{pair[0]}-vs-{pair[1]}.png")).size == (1200, 630)


def test_text_the_font_cannot_draw_is_reduced_to_what_it_can():
    assert images.drawable("Café — naïve\u202e\x00 日本") == "Cafe - naive ??"
    assert images.drawable("plain ASCII: 75% · ok…") == "plain ASCII: 75% · ok…"


def test_names_of_any_length_or_script_fit_the_card_without_errors():
    category = Category(slug="c", name="Ca\x00tegory \u202e" * 10)
    for name in ["W" * 80, "\x00\x01\x02", "日本語のツール" * 10, "🧨" * 40, "", " \t\n"]:
        tool = Tool(slug="t", name=name, vendor="v", category=category, tagline=name * 3)
        tool.pricing = "free"
        data = images.tool_image(tool, PanelSummary(), CommunityFigure())
        assert Image.open(io.BytesIO(data)).size == (1200, 630)
        text, face = images.fit(name, 72, 1000, min_size=40)
        assert face.getlength(text) <= 1000


def test_fit_shrinks_then_cuts_with_an_ellipsis():
    text, face = images.fit("A short name", 72, 1000)
    assert (text, face.size) == ("A short name", 72)
    text, face = images.fit("W" * 200, 72, 500, min_size=40)
    assert face.size == 40 and text.endswith("…") and face.getlength(text) <= 500


def test_wrap_keeps_to_the_line_count_and_marks_what_was_cut():
    lines = images.wrap("word " * 200, 30, 600, 2)
    assert len(lines) == 2
    assert lines[-1].endswith("…")
    assert all(images.font(30).getlength(line) <= 600 for line in lines)


@pytest.mark.page_cache
def test_images_are_cached_and_retired_with_their_page(
    starter_catalog, django_capture_on_commit_callbacks, settings
):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    first = client.get(TOOL_IMAGE)
    assert first["Cache-Control"].startswith("public, max-age=")
    with CaptureQueriesContext(connection) as ctx:
        again = client.get(TOOL_IMAGE)
    assert len(ctx.captured_queries) == 1  # the version lookup only: not drawn again
    assert again.content == first.content
    assert client.get(TOOL_IMAGE, headers={"If-None-Match": first["ETag"]}).status_code == 304
    pair_first = client.get(PAIR_IMAGE)
    with django_capture_on_commit_callbacks(execute=True):
        add_votes(Tool.objects.get(slug="claude-4-sonnet"), ship=1)
    after = client.get(TOOL_IMAGE)
    assert after["ETag"] != first["ETag"]
    assert after.content != first.content  # Community now shows 100%
    assert client.get(PAIR_IMAGE)["ETag"] != pair_first["ETag"]


@pytest.mark.page_cache
def test_a_signed_in_reader_gets_the_stored_image_unchanged(starter_catalog, settings):
    settings.TOOLVERDICT_PAGE_CACHE_TIMEOUT = 0
    from django.contrib.auth import get_user_model

    anonymous = Client().get(TOOL_IMAGE)
    reader = Client()
    reader.force_login(get_user_model().objects.create_user("r@example.com", "r@example.com"))
    response = reader.get(TOOL_IMAGE)
    assert response.status_code == 200
    assert response.content == anonymous.content
    assert response["Content-Type"] == "image/png"
