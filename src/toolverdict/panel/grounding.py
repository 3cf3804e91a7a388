"""Lexical reading of model text: numbers, dates and names, as the claim check needs them.

Numbers are read with their scale ("1M" is 1,000,000, and also 1 where a unit follows),
dates in the forms people write them, and names as the words a sentence capitalises
mid-sentence, writes in CamelCase or with digits. ``repeats_rules`` finds a model that
recites the panel's instructions. Everything here is deterministic, so every label the
claim check (``claimcheck.py``) gives can be explained.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from .prompts import RULES

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})\b", re.I)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])(\d+(?:,\d{3})*(?:\.\d+)?)\s*(k|m|b|thousand|million|billion)?(?![A-Za-z0-9])",
    re.I,
)
_SCALE = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
_SCALE |= {"b": 1_000_000_000, "billion": 1_000_000_000}
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-+.'][A-Za-z0-9]+)*\+*")
_POSSESSIVE = re.compile(r"['’]s$")  # "QuillCoder's" names QuillCoder
_SENTENCE_BREAK = re.compile(r"(?:^|[.!?:;\"(]\s+|\n)")
_VERIFIED = re.compile(
    r"\b(verified|we tested|was tested|were tested|confirmed|benchmarked|hands-on)\b", re.I
)
# "cannot be verified", "hard to confirm", "not tested": doubt, not a claim of a check.
_NEGATED = re.compile(
    r"(\bnot|n't|\bcannot|\bno|\bunable to|\bhard to|\bdifficult to)\s+(be\s+)?$", re.I
)
_EVIDENCE_ID = re.compile(r"^[EC]\d+$")

# Capitalised words that are not product names. Kept short on purpose: anything else
# capitalised mid-sentence is treated as a name and must be found in the evidence.
GENERIC_WORDS = frozenset(
    """i a an the it its this that these they we you api apis ai llm llms sdk sdks cli ide ides
    gpu gpus cpu cpus json http https url usd eur gbp ok yes no ship skip pro free paid open
    builder skeptic futurist buyer mac os ios saas oss faq ux dx mvp roi vs etc
    monday tuesday wednesday thursday friday saturday sunday
    python javascript typescript java rust go ruby php swift kotlin sql html css markdown
    linux windows macos android docker kubernetes git rest graphql openapi oauth sso saml
    gdpr soc hipaa eu us uk english however overall""".split()  # noqa: SIM905
) | frozenset(_MONTHS)


def read_dates(text: str) -> tuple[set[tuple[int, int, int]], set[tuple[int, int]], str]:
    """(full dates, month-year pairs, text with the dates removed)."""
    full: set[tuple[int, int, int]] = set()
    months: set[tuple[int, int]] = set()

    def iso(m: re.Match) -> str:
        full.add((int(m[1]), int(m[2]), int(m[3])))
        return " "

    def dmy(m: re.Match) -> str:
        full.add((int(m[3]), _MONTHS[m[2].lower()], int(m[1])))
        return " "

    def mdy(m: re.Match) -> str:
        full.add((int(m[3]), _MONTHS[m[1].lower()], int(m[2])))
        return " "

    def my(m: re.Match) -> str:
        months.add((int(m[2]), _MONTHS[m[1].lower()]))
        return " "

    text = _ISO_DATE.sub(iso, text)
    text = _DAY_MONTH_YEAR.sub(dmy, text)
    text = _MONTH_DAY_YEAR.sub(mdy, text)
    text = _MONTH_YEAR.sub(my, text)
    return full, months, text


def read_numbers(text: str, *, both_forms: bool) -> set[Decimal]:
    """Numbers in the text; "1M" counts as 1000000 (and also as 1 when ``both_forms``)."""
    found: set[Decimal] = set()
    for m in _NUMBER.finditer(text):
        try:
            value = Decimal(m[1].replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex only matches numbers
            continue
        scale = _SCALE.get((m[2] or "").lower())
        if scale:
            found.add((value * scale).normalize())
            if both_forms:
                found.add(value.normalize())
        else:
            found.add(value.normalize())
    return found


def names_in(text: str) -> list[str]:
    """Words that look like names: capitalised mid-sentence, CamelCase, or letters+digits."""
    names: list[str] = []
    for sentence in _SENTENCE_BREAK.split(text):
        for position, m in enumerate(_TOKEN.finditer(sentence)):
            word = _POSSESSIVE.sub("", m[0]).rstrip(".'")
            if _EVIDENCE_ID.match(word) or word.lower() in GENERIC_WORDS:
                continue
            inner_caps = any(c.isupper() for c in word[1:])
            has_digit = any(c.isdigit() for c in word)
            if (word[0].isupper() and position > 0) or inner_caps or has_digit:
                names.append(word)
    return names


def contains_word(haystack: str, word: str) -> bool:
    pattern = r"(?<![a-z0-9])" + re.escape(word.lower()) + r"(?![a-z0-9])"
    return re.search(pattern, haystack.lower()) is not None


def says_verified(text: str) -> bool:
    return any(not _NEGATED.search(text[: m.start()]) for m in _VERIFIED.finditer(text))


def _shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


_RULE_SHINGLES = _shingles(RULES)


def repeats_rules(texts: Iterable[str]) -> bool:
    """True when any output text reproduces six consecutive words of the panel's rules."""
    return any(_shingles(t) & _RULE_SHINGLES for t in texts)
