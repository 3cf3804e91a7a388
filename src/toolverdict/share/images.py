"""Share images (1200×630 PNG) for link previews, drawn with Pillow.

A tool's image is its card: category, name, tagline, the three figures and the panel's
verdict. A comparison's image is the two cards side by side. The font is Pillow's own
built-in one (``ImageFont.load_default(size)``: Aileron Regular, public domain under CC0,
embedded in Pillow), so nothing is read from the system or fetched at run time and the
images look the same on every machine.

All text comes from the catalog and is untrusted: it is reduced to printable characters
(``share.text.plain``), to the characters the font can draw (``drawable``: the built-in
font covers ASCII and some punctuation, so accents are dropped and the rest shown as "?"),
and cut to the width it has, so no name can overflow the card, reorder the line with bidi
controls, or stop the drawing with a NUL. The images are cached
with the pages they show (pagecache/pages.py), so one is drawn once per version.
"""

from __future__ import annotations

import functools
import io
import unicodedata

from PIL import Image, ImageDraw, ImageFont

from toolverdict.catalog.models import Tool
from toolverdict.community.services import CommunityFigure
from toolverdict.panel.services import PanelSummary

from .text import plain

WIDTH, HEIGHT = 1200, 630
BG = "#fbfaf7"
FG = "#1d1d1f"
MUTED = "#5f6368"
CARD = "#ffffff"
LINE = "#e3e1db"
ACCENT = "#2952cc"
SHIP = "#137333"
SKIP = "#b3261e"
WARN = "#8a5a00"
FIGURE_BG = "#f3f1ec"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def font(size: int) -> Font:
    """Pillow's built-in font at ``size`` pixels (bitmap fallback without FreeType)."""
    return ImageFont.load_default(size=size)


@functools.cache
def _missing_glyph() -> bytes:
    return bytes(font(20).getmask("\uffff"))


@functools.cache
def has_glyph(ch: str) -> bool:
    """Does the built-in font draw ``ch`` (it covers ASCII and some punctuation)?"""
    return ch == " " or bytes(font(20).getmask(ch)) != _missing_glyph()


DASHES = {"\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00d7": "x", "\u2022": "·"}


def drawable(text: str) -> str:
    """``text`` in characters the font has: accents dropped (é → e), dashes made hyphens,
    anything else it cannot draw shown as "?" rather than an empty box."""
    out = []
    for ch in plain(text):
        if has_glyph(ch):
            out.append(ch)
            continue
        ch = DASHES.get(ch, ch)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(has_glyph(c) for c in base) else "?")
    return "".join(out)


def fit(text: str, size: int, width: float, min_size: int | None = None) -> tuple[str, Font]:
    """The text at the largest size from ``size`` down to ``min_size`` that fits ``width``;
    still too wide at the smallest: cut with an ellipsis."""
    text = drawable(text)
    smallest = min_size or size
    for s in range(size, smallest - 1, -2):
        if font(s).getlength(text) <= width:
            return text, font(s)
    face = font(smallest)
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return (text.rstrip() + "…") if text else "…", face


def wrap(text: str, size: int, width: float, lines: int) -> list[str]:
    """Greedy word wrap into at most ``lines`` lines; the last one cut with an ellipsis."""
    face = font(size)
    words = drawable(text).split()
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if face.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        current = word
        if len(out) == lines:
            break
    if current and len(out) < lines:
        out.append(current)
    consumed = " ".join(out).split()
    if out and len(consumed) < len(words):
        out[-1] = fit(out[-1] + " " + words[len(consumed)], size, width)[0]
        if not out[-1].endswith("…"):
            out[-1] += "…"
    # A single word wider than the line.
    return [fit(line, size, width)[0] for line in out]


def verdict_line(panel: PanelSummary) -> tuple[str, str]:
    """(text, colour) of the panel's verdict, by the same rule as the pages."""
    if not panel.reviews:
        return "Not reviewed yet", MUTED
    if panel.verdict == "insufficient":
        return "Not enough evidence to judge", MUTED
    if panel.verdict is None:
        return f"Too few published reviews ({panel.reviewers})", WARN
    counts = f"{panel.ship} ship, {panel.skip} skip"
    if panel.verdict == "split":
        return f"Panel split · {counts}", WARN
    colour = SHIP if panel.verdict == "ship" else SKIP
    return f"Panel says {panel.verdict} · {counts}", colour


def _pct(value: int | None) -> str:
    return "-" if value is None else f"{value}%"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (WIDTH, HEIGHT), BG)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 12), fill=ACCENT)
    return image, draw


def _brand(draw: ImageDraw.ImageDraw, x: int, y: int, size: int = 34) -> None:
    draw.text((x, y), "tool", font=font(size), fill=FG)
    draw.text((x + font(size).getlength("tool"), y), "verdict", font=font(size), fill=ACCENT)


def _figures(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    items: list[tuple[str, str]],
    columns: int,
    value_size: int,
) -> None:
    """Figure boxes ("Panel ship" / "75%") in a grid inside ``box``."""
    left, top, right, bottom = box
    gap = 14
    rows = (len(items) + columns - 1) // columns
    cell_w = (right - left - gap * (columns - 1)) / columns
    cell_h = (bottom - top - gap * (rows - 1)) / rows
    for i, (label, value) in enumerate(items):
        col, row = i % columns, i // columns
        x0 = left + col * (cell_w + gap)
        y0 = top + row * (cell_h + gap)
        draw.rounded_rectangle((x0, y0, x0 + cell_w, y0 + cell_h), radius=12, fill=FIGURE_BG)
        draw.text((x0 + 16, y0 + 12), label, font=font(22), fill=MUTED)
        text, face = fit(value, value_size, cell_w - 32, min_size=22)
        draw.text((x0 + 16, y0 + 42), text, font=face, fill=FG)


def tool_image(tool: Tool, panel: PanelSummary, community: CommunityFigure) -> bytes:
    """The tool's card as a 1200×630 PNG."""
    image, draw = _canvas()
    _brand(draw, 60, 40)
    draw.text((WIDTH - 60, 48), "Ship or skip?", font=font(26), fill=MUTED, anchor="ra")
    card = (40, 110, WIDTH - 40, HEIGHT - 40)
    draw.rounded_rectangle(card, radius=24, fill=CARD, outline=LINE, width=2)
    inner = card[2] - card[0] - 96
    x = card[0] + 48
    eyebrow, face = fit(tool.category.name.upper(), 24, inner)
    draw.text((x, card[1] + 34), eyebrow, font=face, fill=MUTED)
    name, face = fit(tool.name, 72, inner, min_size=40)
    draw.text((x, card[1] + 70), name, font=face, fill=FG)
    for i, line in enumerate(wrap(tool.tagline, 30, inner, 2)):
        draw.text((x, card[1] + 162 + i * 40), line, font=font(30), fill=MUTED)
    _figures(
        draw,
        (x, card[1] + 256, card[2] - 48, card[1] + 366),
        [
            ("Panel ship", _pct(panel.ship_pct)),
            ("Community", _pct(community.pct)),
            ("Entry price", tool.entry_price),
        ],
        columns=3,
        value_size=48,
    )
    text, colour = verdict_line(panel)
    line, face = fit(text, 30, inner)
    draw.text((x, card[1] + 396), line, font=face, fill=colour)
    return _png(image)


def pair_image(
    sides: list[tuple[Tool, PanelSummary, CommunityFigure]],
) -> bytes:
    """Two tools' cards side by side as a 1200×630 PNG."""
    image, draw = _canvas()
    _brand(draw, 60, 34, size=30)
    (left, *_), (right, *_) = sides
    title, face = fit(f"{left.name} vs {right.name}", 44, WIDTH - 120, 26)
    draw.text((60, 78), title, font=face, fill=FG)
    gap, top = 24, 150
    card_w = (WIDTH - 80 - gap) / 2
    for i, (tool, panel, community) in enumerate(sides):
        x0 = 40 + i * (card_w + gap)
        box = (x0, top, x0 + card_w, HEIGHT - 40)
        draw.rounded_rectangle(box, radius=22, fill=CARD, outline=LINE, width=2)
        inner = card_w - 64
        x = x0 + 32
        eyebrow, face = fit(tool.category.name.upper(), 20, inner)
        draw.text((x, top + 24), eyebrow, font=face, fill=MUTED)
        name, face = fit(tool.name, 46, inner, min_size=26)
        draw.text((x, top + 52), name, font=face, fill=FG)
        _figures(
            draw,
            (x, top + 124, box[2] - 32, top + 334),
            [
                ("Panel ship", _pct(panel.ship_pct)),
                ("Community", _pct(community.pct)),
                ("Entry price", tool.entry_price),
            ],
            columns=2,
            value_size=40,
        )
        text, colour = verdict_line(panel)
        line, face = fit(text, 24, inner, min_size=18)
        draw.text((x, top + 364), line, font=face, fill=colour)
    return _png(image)


def site_image() -> bytes:
    """The site's own card, for pages without one of their own."""
    image, draw = _canvas()
    _brand(draw, 80, 190, size=96)
    draw.text((82, 330), "Which AI tool should you ship with?", font=font(44), fill=FG)
    draw.text(
        (82, 400),
        "Side-by-side verdicts from a grounded reviewer panel and readers.",
        font=font(30),
        fill=MUTED,
    )
    return _png(image)
