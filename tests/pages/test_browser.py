"""A real browser opens the seed comparison and finds both cards with their entry prices."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.mark.django_db(transaction=True)
def test_seed_comparison_in_chromium(live_server, starter_catalog, page, artifacts_dir):
    page.goto(f"{live_server.url}/compare/smolvlm-2-5-vs-claude-4-sonnet/")
    # the non-canonical order redirected
    assert page.url.endswith("/compare/claude-4-sonnet-vs-smolvlm-2-5/")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == (
        "Claude 4 Sonnet vs SmolVLM 2.5 — Which one should you ship with?"
    )
    # Not signed in, so nothing to answer first: the cards with the verdicts are open.
    claude = page.locator("article.tool-card[data-tool='claude-4-sonnet']")
    smol = page.locator("article.tool-card[data-tool='smolvlm-2-5']")
    assert claude.locator(".entry-price").inner_text() == "Paid"
    assert smol.locator(".entry-price").inner_text() == "Free"
    assert "Developer Tools" in claude.inner_text().title()
    # side by side on a desktop viewport: same row, Claude on the left
    a, b = claude.bounding_box(), smol.bounding_box()
    assert abs(a["y"] - b["y"]) < 2 and a["x"] < b["x"]
    page.screenshot(path=str(artifacts_dir / "compare-claude-vs-smolvlm.png"), full_page=True)
    assert (artifacts_dir / "compare-claude-vs-smolvlm.png").stat().st_size > 10_000


@pytest.mark.django_db(transaction=True)
def test_comparison_stacks_cards_on_a_phone(live_server, starter_catalog, chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/compare/claude-4-sonnet-vs-smolvlm-2-5/")
        a = page.locator("article.tool-card[data-tool='claude-4-sonnet']").bounding_box()
        b = page.locator("article.tool-card[data-tool='smolvlm-2-5']").bounding_box()
        assert b["y"] > a["y"] + a["height"] - 1  # stacked, not squeezed side by side
        # nothing overflows the phone's width
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 390
    finally:
        context.close()
