"""Turning announcement text into catalog input: a tool's name from a launch title, a
free slug, the first sentence of a summary, and pydantic errors as readable lines."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.text import slugify
from pydantic import ValidationError

from toolverdict.catalog.models import Tool

from . import dedupe, feed_reader

_LAUNCH_PREFIX = re.compile(
    r"^(?:introducing|announcing|launching|launched|launch|show hn|new|meet|released?)\b"
    r"\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(r"\s+[–—|-]\s+|:\s+|,\s+|\s+\(")


def name_from_title(title: str) -> str:
    """ "Introducing Acme Coder: an AI pair programmer" → "Acme Coder"."""
    name = _LAUNCH_PREFIX.sub("", title.strip()).strip()
    name = _NAME_SPLIT.split(name, maxsplit=1)[0].strip(" .!?\"'")
    if len(name) > 80:
        name = name[:80].rsplit(" ", 1)[0]
    return name or title[:80]


def first_sentence(text: str, limit: int = 140) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return feed_reader.plain(sentence, limit)


def domain_of(url: str) -> str:
    host = dedupe.normalise_url(url).split("/", 1)[0]
    return host[:80] or "unknown"


def unique_slug(name: str, taken: Callable[[str], bool] | None = None) -> str:
    """A catalog slug for ``name``: never containing "-vs-", at most 60 characters, unused."""
    # "GPT-4.1" → "gpt-4-1", as the catalog spells versions.
    base = _without_vs(slugify(re.sub(r"[._/+]+", "-", name))[:60].strip("-")) or "tool"
    taken = taken or (lambda slug: Tool.objects.filter(slug=slug).exists())
    slug, n = base, 2
    while taken(slug):
        suffix = f"-{n}"
        slug = _without_vs(base[: 60 - len(suffix)].rstrip("-")) + suffix
        n += 1
    return slug


def _without_vs(slug: str) -> str:
    """``slug`` with no "vs" segment anywhere, as the catalog requires.

    Each "vs" segment becomes "v": replacing "-vs-" once is not enough ("a-vs-vs-b" →
    "a-v-vs-b"), and a leading or trailing "vs" ("vs-code", "foo-vs") is refused too.
    """
    parts = ["v" if part == "vs" else part for part in slug.split("-")]
    return "-".join(part for part in parts if part)


def pydantic_errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'tool'}: {e['msg']}" for e in exc.errors()]
