"""One fetched HTML page, reduced to what extraction may read: the text a visitor sees,
its tables, the structured data it publishes and its links.

Page text is untrusted. What a visitor cannot see is removed before anything reads the
page: comments, scripts and styles, ``hidden``/``aria-hidden`` elements, inline
``display:none``/``visibility:hidden``/zero-size text, classes a ``<style>`` block hides,
and cookie banners. A fake price in a comment or an invisible block is therefore never
extracted; and a visible line addressed to a language model ("ignore previous
instructions…") is set aside (``instruction_lines``), so nothing is read from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

BLOCK_TAGS = (
    "address,article,aside,blockquote,br,dd,details,dialog,div,dl,dt,fieldset,figcaption,"
    "figure,footer,form,h1,h2,h3,h4,h5,h6,header,hr,li,main,nav,ol,p,pre,section,summary,"
    "table,tbody,td,tfoot,th,thead,tr,ul,option,button,label"
)
_INVISIBLE_TAGS = "script,style,noscript,template,iframe,svg,canvas,object,embed,head"
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|em|rem|%)?\s*(?:;|$)"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)|(?:left|top|text-indent)\s*:\s*-\d{3,}",
    re.I,
)
# Class names common CSS frameworks use for "not shown".
_HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "invisible", "sr-only", "visually-hidden"}
_NOISE_MARKERS = ("cookie", "consent", "gdpr")
# Lines that speak to a language model rather than to a reader: never read for values.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instruction|prompt|rule|above|previous)s?\b"
    r"|\b(you are|act as)\b.{0,30}\b(assistant|model|ai|chatbot|gpt|llm)\b"
    r"|\bsystem prompt\b|\b(language model|ai model|llm|assistant|ai agents?|crawlers?|scrapers?)"
    r"\b.{0,40}\b(must|should|shall|report|say|output|respond|answer|record|set)\b"
    r"|\b(report|record|output|state)\b.{0,30}\b(the )?(price|pricing|licen[cs]e)\b.{0,15}\bas\b",
    re.I,
)


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class Card:
    """A heading and the visible lines of the block it heads (a pricing plan's card)."""

    heading: str
    lines: tuple[str, ...]


@dataclass
class Page:
    url: str
    title: str = ""
    lines: list[str] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    json_ld: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    instruction_lines: list[str] = field(default_factory=list)
    # JSON-LD and meta values as published, for checking structured values against.
    structured_text: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def states(self, snippet: str) -> bool:
        """Whether ``snippet`` is on the page: in its visible text or its structured data."""
        needle = _norm(snippet)
        return bool(needle) and (
            needle in _norm(self.text) or needle in _norm(self.structured_text)
        )


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def clean_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _flatten_ld(data: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 8:
        return
    if isinstance(data, list):
        for item in data[:200]:
            _flatten_ld(item, out, depth + 1)
    elif isinstance(data, dict):
        out.append(data)
        if "@graph" in data:
            _flatten_ld(data["@graph"], out, depth + 1)


def _hidden_classes_from_css(tree: LexborHTMLParser) -> set[str]:
    hidden: set[str] = set()
    for style in tree.css("style"):
        css = style.text() or ""
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            if _HIDDEN_STYLE.search(body):
                for selector in selectors.split(","):
                    match = re.fullmatch(r"\s*\.([\w-]+)\s*", selector)
                    if match:
                        hidden.add(match.group(1))
    return hidden


def _is_hidden(node: LexborNode, hidden_classes: set[str]) -> bool:
    attrs = node.attributes
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    if _HIDDEN_STYLE.search(attrs.get("style") or ""):
        return True
    classes = set((attrs.get("class") or "").split())
    return bool(classes & (_HIDDEN_CLASSES | hidden_classes))


def _is_noise(node: LexborNode) -> bool:
    ident = f"{node.attributes.get('id') or ''} {node.attributes.get('class') or ''}".lower()
    return any(marker in ident for marker in _NOISE_MARKERS)


def _lines(node: LexborNode | None) -> list[str]:
    if node is None:
        return []
    raw = node.text(separator="")
    return [line for line in (clean_line(part) for part in raw.split("\n")) if line]


def parse_page(html: str | bytes, url: str) -> Page:
    """Parse ``html`` fetched from ``url`` into a ``Page`` (never raises on bad markup)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    tree = LexborHTMLParser(html)
    page = Page(url=url)
    title = tree.css_first("title")
    page.title = clean_line(title.text()) if title else ""
    structured: list[str] = []
    for script in tree.css('script[type="application/ld+json"]'):
        raw = script.text() or ""
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            continue
        structured.append(raw)
        _flatten_ld(data, page.json_ld)
    for meta in tree.css("meta"):
        key = meta.attributes.get("property") or meta.attributes.get("name") or ""
        content = meta.attributes.get("content") or ""
        if key and content:
            page.meta[key.lower()[:100]] = clean_line(content)[:500]
            structured.append(f"{key}: {content}")
    page.structured_text = "\n".join(structured)

    hidden_classes = _hidden_classes_from_css(tree)
    for node in tree.css(_INVISIBLE_TAGS):
        node.decompose()
    body = tree.body
    if body is None:
        return page
    for node in list(body.traverse(include_text=False)):
        if node.tag and not node.tag.startswith("#") and _is_hidden(node, hidden_classes):
            node.decompose()
    for anchor in body.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        if href and not href.startswith(("#", "mailto:", "javascript:", "tel:")):
            absolute = urljoin(url, href)
            if urlsplit(absolute).scheme in ("http", "https"):
                page.links.append(Link(absolute.split("#", 1)[0], clean_line(anchor.text())[:200]))
    for node in body.css("nav"):
        node.decompose()
    for node in list(body.traverse(include_text=False)):
        if node.tag in ("div", "section", "aside", "dialog", "footer") and _is_noise(node):
            node.decompose()
    for table in body.css("table"):
        rows = []
        for tr in table.css("tr"):
            cells = [clean_line(c.text(separator=" ")) for c in tr.css("th,td")]
            if any(cells):
                rows.append(cells)
        if rows:
            page.tables.append(rows)
    for block in body.css(BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    for heading in body.css("h2,h3,h4"):
        container = heading
        # The largest ancestor that still heads only this one heading: the plan's card.
        while container.parent is not None and container.parent.tag not in ("body", "html"):
            if len(container.parent.css("h1,h2,h3,h4")) > 1:
                break
            container = container.parent
        lines = [line for line in _lines(container) if not INSTRUCTION.search(line)]
        heading_text = clean_line(heading.text())
        if heading_text and not INSTRUCTION.search(heading_text):
            page.cards.append(Card(heading_text[:60], tuple(lines[:40])))
    for line in _lines(body):
        if INSTRUCTION.search(line):
            page.instruction_lines.append(line[:300])
        else:
            page.lines.append(line)
    return page
