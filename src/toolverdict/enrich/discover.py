"""Which of a tool's pages to read: its homepage, then the few same-site pages it links
that state prices, docs, the licence or the model card, found from each link's address
and its text."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .page import Link

# (kind, pattern on the link's path and text); the first kind that matches names the link.
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pricing", re.compile(r"\bpric(e|es|ing)\b|\bplans?\b|\bbilling\b|\bsubscribe\b", re.I)),
    ("licence", re.compile(r"\blicen[cs]es?\b|\blicense\.(md|txt)\b", re.I)),
    (
        "model card",
        re.compile(r"\bmodel[- ]?card\b|\bmodels?\b|\bspecs?\b|\bspecifications\b", re.I),
    ),
    (
        "docs",
        re.compile(
            r"\bdocs?\b|\bdocumentation\b|\bapi\b|\bdevelopers?\b|\breference\b|\bdownloads?\b",
            re.I,
        ),
    ),
)
_SKIP = re.compile(
    r"\b(login|log-in|signin|sign-in|signup|sign-up|register|careers|jobs|blog|news|press|"
    r"privacy|terms|cookie|legal|status|contact|about|changelog)\b",
    re.I,
)
_NOT_PAGES = re.compile(r"\.(png|jpe?g|gif|svg|webp|pdf|zip|gz|dmg|exe|mp4|css|js|json|xml)$", re.I)


def same_site(url: str, home: str) -> bool:
    """Same host, or one of its subdomains (``docs.acme.dev`` for ``acme.dev``)."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    base = (urlsplit(home).hostname or "").lower().removeprefix("www.")
    if urlsplit(url).port != urlsplit(home).port:
        return False
    return bool(base) and (host == base or host.endswith("." + base))


def discover(home: str, links: list[Link], limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` (kind, url) pairs worth reading, at most one or two per kind, in
    the order pricing, licence, model card, docs."""
    picked: dict[str, list[str]] = {kind: [] for kind, _ in KINDS}
    seen = {home.rstrip("/")}
    for link in links:
        url = link.url.rstrip("/")
        if url in seen or not same_site(link.url, home) or _NOT_PAGES.search(urlsplit(url).path):
            continue
        path = urlsplit(link.url).path.replace("/", " ").replace("-", " ").replace("_", " ")
        label = f"{path} {link.text}"
        if _SKIP.search(label):
            continue
        for kind, pattern in KINDS:
            if pattern.search(label):
                if len(picked[kind]) < (2 if kind == "pricing" else 1):
                    picked[kind].append(link.url)
                    seen.add(url)
                break
    ordered = [(kind, url) for kind, _ in KINDS for url in picked[kind]]
    return ordered[:limit]
