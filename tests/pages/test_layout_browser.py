"""Every page fits its window and every card holds its content, from a phone to a desktop.

Chromium loads the reading pages at four window widths with realistic content: the starter
catalog, published panel reviews with claims (so the cards show "75% · 4 of 4 reviewers"),
counted community votes, a head-to-head split, a tool with too few published reviews, one
whose panel found not enough evidence, and a tool whose name and vendor are long (one word
of the vendor cannot be broken at a hyphen or space). A page fails when it scrolls sideways
or when anything inside a card, box or text line, lies outside the card's box. A
screenshot of each page at each width goes to test-artifacts/layout/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from toolverdict.catalog.models import Tool
from toolverdict.community.models import Member
from toolverdict.community.services import cast_pair_vote, cast_tool_vote
from toolverdict.panel.models import Claim, Review

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 1024, 768, 390)
LONG_SLUG = "supercalifragilistic-multimodal-coding-assistant"
LONG_NAME = "Supercalifragilistic Multimodal Retrieval-Augmented Coding Assistant Pro Max"
LONG_VENDOR = "Donaudampfschifffahrtsgesellschaft Artificial Intelligence Laboratories"
PAGES = {
    "home": "/",
    "tool": "/tools/claude-4-sonnet/",
    "tool-long-name": f"/tools/{LONG_SLUG}/",
    "compare": "/compare/claude-4-sonnet-vs-smolvlm-2-5/",
    "compare-long-name": f"/compare/claude-4-sonnet-vs-{LONG_SLUG}/",
    "browse": "/tools/",
    "rankings": "/rankings/",
    "category": "/categories/developer-tools/",
}
PERSONAS = {
    "builder": ("Builder", ("primitive", "dx_bet", "first_ten_minutes", "decision")),
    "skeptic": ("Skeptic", ("competitor", "breaks_when", "kills_it", "wrong_if")),
    "futurist": ("Futurist", ("thesis", "dependencies", "second_order")),
    "buyer": ("Buyer", ("buyer", "moat", "survival", "viable_if")),
}
# Panels: the verdict per persona in PERSONAS order; "" leaves that persona's review failed.
PANELS = {
    "claude-4-sonnet": ("ship", "ship", "skip", "ship"),  # 75% · 4 of 4 reviewers
    "smolvlm-2-5": ("ship", "skip", "skip", "skip"),
    "cursor": ("ship", "ship", "ship", "ship"),
    "github-copilot": ("ship", "skip", "ship", "skip"),
    "aider": ("ship", "", "", "skip"),  # too few published reviews (2 of 4 reviewers)
    "continue": ("insufficient", "insufficient", "ship", "insufficient"),  # not enough evidence
    LONG_SLUG: ("ship", "ship", "skip", "ship"),
}

# Everything a card holds, as boxes and as the text's own line boxes, must lie inside the
# card (1px allowed for rounding). Hidden cards (zero size) and content inside a scrolling
# box of the card (which clips it) are left out.
SPILLS = """
() => {
  const slack = 1;
  const out = [];
  const label = (el) => {
    const name = el.tagName.toLowerCase();
    const cls = typeof el.className === "string" ? el.className.trim() : "";
    return cls ? name + "." + cls.split(/\\s+/).join(".") : name;
  };
  const clipped = (el, card) => {
    for (let a = el.parentElement; a && a !== card; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== "visible" || style.overflowY !== "visible") return true;
    }
    return false;
  };
  const px = Math.round;
  const box = (r) => `[${px(r.left)}..${px(r.right)} x ${px(r.top)}..${px(r.bottom)}]`;
  const outside = (r, c) =>
    r.left < c.left - slack || r.right > c.right + slack ||
    r.top < c.top - slack || r.bottom > c.bottom + slack;
  for (const card of document.querySelectorAll(".card")) {
    const c = card.getBoundingClientRect();
    if (c.width === 0 && c.height === 0) continue;
    const where = (card.dataset.tool || card.id || label(card));
    for (const el of card.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (clipped(el, card)) continue;
      if (outside(r, c)) {
        out.push(`${where}: ${label(el)} ${box(r)} outside ${box(c)}`);
      }
    }
    const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || clipped(node, card)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.width === 0 && r.height === 0) continue;
        if (outside(r, c)) {
          out.push(`${where}: text "${node.textContent.trim().slice(0, 40)}" outside its card`);
          break;
        }
      }
    }
  }
  return out;
}
"""


def _member(email: str):
    user = get_user_model().objects.create_user(username=email, email=email)
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    Member.objects.create(user=user, email_confirmed_at=timezone.now())
    return user


def _publish_panel(tool: Tool, verdicts: tuple[str, ...]) -> None:
    """The four current reviews of ``tool``, each with its sections and a few claims."""
    for order, ((slug, (name, keys)), verdict) in enumerate(
        zip(PERSONAS.items(), verdicts, strict=True)
    ):
        review = Review.objects.create(
            tool=tool,
            persona=slug,
            persona_name=name,
            persona_order=order,
            status=Review.Status.PUBLISHED if verdict else Review.Status.FAILED,
            verdict=verdict,
            reason=(
                f"{tool.name} does what its dossier promises for a small team; the pricing "
                "page and the changelog back the main claims [E1][E2]."
                if verdict
                else ""
            ),
            sections={
                key: f"{name}'s answer about {tool.name}, grounded in the evidence [E1]."
                for key in keys
            }
            if verdict
            else {},
            support_rate=1.0 if verdict else None,
            problem="" if verdict else "timed out",
            model_id="test:layout",
            prompt_version="t",
            dossier_hash=f"layout-{order}",
        )
        if verdict:
            Claim.objects.bulk_create(
                Claim(
                    review=review,
                    position=i,
                    kind=kind,
                    text=text,
                    evidence_ids=evidence,
                    support=support,
                )
                for i, (kind, text, evidence, support) in enumerate(
                    [
                        ("fact", f"{tool.name} has a free tier.", ["E1"], "supported"),
                        ("comparison", "It answers faster than most.", ["E2"], "supported"),
                        ("opinion", "Worth a trial week.", [], "not_judged"),
                    ]
                )
            )


@pytest.fixture
def realistic_site(starter_catalog, settings) -> None:
    """The starter catalog with panels, votes, a pair split and a long-named tool."""
    settings.TOOLVERDICT_COMMUNITY_MIN_VOTES = 3
    settings.TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS = 0
    claude = Tool.objects.get(slug="claude-4-sonnet")
    Tool.objects.create(
        slug=LONG_SLUG,
        name=LONG_NAME,
        vendor=LONG_VENDOR,
        category=claude.category,
        tagline="Reads the whole repository, plans the change and writes the pull request.",
        description="A coding assistant with a very long name, here to prove that it wraps.",
        homepage="https://example.com/",
        pricing="open-weights",
        license="Apache-2.0",
    )
    for slug, verdicts in PANELS.items():
        _publish_panel(Tool.objects.get(slug=slug), verdicts)
    voters = [_member(f"reader{i}@example.com") for i in range(6)]
    tools = {t.slug: t for t in Tool.objects.filter(slug__in=PANELS)}
    for i, voter in enumerate(voters):
        for slug in ("claude-4-sonnet", "cursor", LONG_SLUG):
            cast_tool_vote(voter, tools[slug], "ship" if i % 3 else "skip")
        winner = tools["smolvlm-2-5"] if i % 2 else tools["claude-4-sonnet"]
        cast_pair_vote(voter, tools["claude-4-sonnet"], tools["smolvlm-2-5"], winner)


def test_pages_fit_the_window_and_cards_hold_their_content(
    live_server, realistic_site, chromium_browser, artifacts_dir
):
    shots = artifacts_dir / "layout"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width in WIDTHS:
        context = chromium_browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            for name, path in PAGES.items():
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, (name, path)
                page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
                scroll, inner = page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                if scroll > inner:
                    problems.append(f"{name} at {width}px scrolls sideways: {scroll} > {inner}")
                cards = page.locator(".card").count()
                assert cards or name in ("browse", "rankings"), f"{name}: no card on the page"
                problems += [f"{name} at {width}px: {p}" for p in page.evaluate(SPILLS)]
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_the_figures_say_what_the_panel_says(live_server, realistic_site, page):
    """The content the layout test relies on is really on the pages it loads."""
    page.goto(live_server.url + "/")
    claude = page.locator('.tool-card[data-tool="claude-4-sonnet"] .panel-figure')
    assert "75%" in claude.inner_text() and "4 of 4 reviewers" in claude.inner_text()
    aider = page.locator('.tool-card[data-tool="aider"] .panel-figure').inner_text()
    assert "Too few published reviews (2 of 4 reviewers)" in aider
    thin = page.locator('.tool-card[data-tool="continue"] .panel-figure').inner_text()
    assert "Not enough evidence (3 of 4 reviewers)" in thin
    long_card = page.locator(f'.tool-card[data-tool="{LONG_SLUG}"]')
    assert LONG_NAME in long_card.inner_text()
    page.goto(live_server.url + f"/tools/{LONG_SLUG}/")
    assert LONG_VENDOR in page.locator("main").inner_text()
