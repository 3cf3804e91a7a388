"""The embeddable SVG badge: "toolverdict | panel ship 75% · readers 62%".

Figures follow the pages' rules exactly: the panel's percentage only from three published
reviews on (``PanelSummary.ship_pct``), the readers' only from the community minimum
(``CommunityFigure.pct``). The tool's name appears in the badge's accessible title; it is
untrusted and is reduced to printable characters and escaped for XML.

Text widths are estimated, and each text element carries ``textLength`` so a renderer
whose font is wider or narrower still fits the text in its box (the usual badge technique).
"""

from __future__ import annotations

from django.utils.html import escape, format_html

from toolverdict.catalog.models import Tool
from toolverdict.community.services import CommunityFigure
from toolverdict.panel.services import PanelSummary

from .images import font
from .text import plain

LABEL = "toolverdict"
LABEL_BG = "#444d56"
COLOURS = {
    "ship": "#137333",
    "skip": "#b3261e",
    "split": "#8a5a00",
    "readers": "#2952cc",
    "none": "#5f6368",
}
HEIGHT = 20
PAD = 7


def message(panel: PanelSummary, community: CommunityFigure) -> str:
    """ "panel ship 75% · readers 62%", the figures that exist, or why there are none."""
    parts = []
    if panel.ship_pct is not None:
        parts.append(f"panel ship {panel.ship_pct}%")
    if community.pct is not None:
        parts.append(f"readers {community.pct}%")
    if parts:
        return " · ".join(parts)
    if panel.not_enough_evidence:
        return "not enough evidence"
    return "too few reviews yet" if panel.reviews else "not yet reviewed"


def colour(panel: PanelSummary, community: CommunityFigure) -> str:
    if panel.verdict in COLOURS:
        return COLOURS[panel.verdict]
    return COLOURS["readers"] if community.pct is not None else COLOURS["none"]


def text_width(text: str) -> int:
    """Width of ``text`` at 11px in a Verdana-like face (measured with the built-in font,
    widened to Verdana's proportions)."""
    return round(font(11).getlength(text) * 1.18)


def _widths(right: str) -> tuple[int, int]:
    return text_width(LABEL) + 2 * PAD, text_width(right) + 2 * PAD


def badge_size(panel: PanelSummary, community: CommunityFigure) -> tuple[int, int]:
    """(width, height) of the badge, for the page's <img> (no layout shift)."""
    return sum(_widths(message(panel, community))), HEIGHT


def badge_svg(tool: Tool, panel: PanelSummary, community: CommunityFigure) -> str:
    right = message(panel, community)
    left_w, right_w = _widths(right)
    total = left_w + right_w
    title = escape(f"{plain(tool.name, 80)} on {LABEL}: {right}")
    fill = colour(panel, community)

    def text(x: float, width: int, value: str) -> str:
        value = escape(value)
        # A darker copy one pixel down: the text stays readable on any page background.
        return (
            f'<text x="{x:.1f}" y="15" fill="#010101" fill-opacity=".3" '
            f'textLength="{width}" lengthAdjust="spacingAndGlyphs">{value}</text>'
            f'<text x="{x:.1f}" y="14" textLength="{width}" '
            f'lengthAdjust="spacingAndGlyphs">{value}</text>'
        )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" '
        f'viewBox="0 0 {total} {HEIGHT}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<clipPath id="r"><rect width="{total}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)">'
        f'<rect width="{left_w}" height="{HEIGHT}" fill="{LABEL_BG}"/>'
        f'<rect x="{left_w}" width="{right_w}" height="{HEIGHT}" fill="{fill}"/>'
        f"</g>"
        f'<g fill="#fff" text-anchor="start" '
        f'font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11">'
        f"{text(PAD, left_w - 2 * PAD, LABEL)}"
        f"{text(left_w + PAD, right_w - 2 * PAD, right)}"
        f"</g></svg>"
    )


def _markdown_text(text: str) -> str:
    """Link text for Markdown: brackets, parentheses and backslashes escaped, angle
    brackets dropped, so a name cannot close the image or point the link elsewhere."""
    text = plain(text, 80).replace("<", "").replace(">", "")
    for ch in "\\[]()*_`!":
        text = text.replace(ch, "\\" + ch)
    return text


def embed_snippets(tool: Tool, page_url: str, badge_url: str) -> dict[str, str]:
    """The HTML and Markdown a maker pastes to show the badge, as plain text.

    The HTML is escaped for the embedding page here; the template escapes it once more to
    show it as text.
    """
    alt = f"{plain(tool.name, 80)} on {LABEL}"
    return {
        "html": str(
            format_html('<a href="{}"><img src="{}" alt="{}"></a>', page_url, badge_url, alt)
        ),
        "markdown": f"[![{_markdown_text(alt)}]({badge_url})]({page_url})",
    }
