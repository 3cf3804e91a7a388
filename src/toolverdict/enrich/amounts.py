"""Deterministic parsers for what a price line states: amounts with their currency, the
unit the amount buys, and the billing period.

"$20 /user/month, billed annually" → 20 USD, "seat/month", annually;
"€0.50 per 1M input tokens" → 0.50 EUR, "1M input tokens". Nothing is guessed: an amount
with no currency, or a currency with no amount, is not a price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "C$": "CAD",
    "A$": "AUD",
    "CHF": "CHF",
}
CODES = (
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "INR",
    "CAD",
    "AUD",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "BRL",
    "MXN",
    "CNY",
    "KRW",
    "SGD",
    "NZD",
)
_NUMBER = r"\d{1,3}(?:[,.\u202f\u00a0 ]\d{3})+(?:[.,]\d{1,4})?|\d+(?:[.,]\d{1,4})?"
_SYMBOL = r"US\$|C\$|A\$|[$€£¥₹]"
_CODE = "|".join(CODES)
MONEY = re.compile(
    rf"(?P<pre>{_SYMBOL}|\b(?:{_CODE})\b)\s?(?P<a1>{_NUMBER})(?!\s?%)"
    rf"|(?<![\w.,])(?P<a2>{_NUMBER})\s?(?P<post>[€£¥]|\b(?:{_CODE})\b)",
)
_PER = r"(?:/|\bper\b|\ba\b|\beach\b|\bevery\b)"
_SCALE = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000}


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str
    start: int
    end: int
    text: str


def parse_number(text: str, currency: str) -> Decimal | None:
    """ "1,299.00" → 1299.00; "19,99" (a euro price) → 19.99; "1.299,00" → 1299.00."""
    text = re.sub(r"[\u202f\u00a0 ]", "", text)
    if "," in text and "." in text:
        text = (
            text.replace(",", "")
            if text.rfind(".") > text.rfind(",")
            else (text.replace(".", "").replace(",", "."))
        )
    elif "," in text:
        head, _, tail = text.rpartition(",")
        # One comma and two decimals is a decimal comma; three digits are thousands.
        text = f"{head.replace(',', '')}.{tail}" if len(tail) <= 2 else text.replace(",", "")
    elif text.count(".") > 1 or (
        text.count(".") == 1
        and len(text.rpartition(".")[2]) == 3
        and currency in ("EUR",)
        and len(text) > 4
    ):
        text = text.replace(".", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value >= 0 and value < Decimal("1e8") else None


def find_money(line: str) -> list[Money]:
    found = []
    for match in MONEY.finditer(line):
        symbol = match.group("pre") or match.group("post")
        number = match.group("a1") or match.group("a2")
        currency = SYMBOLS.get(symbol, symbol.upper())
        amount = parse_number(number, currency)
        if amount is not None:
            found.append(Money(amount, currency, match.start(), match.end(), match.group(0)))
    return found


_SEAT = r"(?:user|seat|member|editor|developer|agent|licen[cs]e)s?"
_MONTH = r"(?:month|mo|mth|monthly)"
_YEAR = r"(?:year|yr|annum|annually|yearly)"
_TOKENS = (
    r"(?P<qty>\d+(?:\.\d+)?\s?(?:k|m|mn|million|thousand)?|million|thousand|1k|1m)?\s?"
    r"(?P<kind>input|output|prompt|completion|cached input)?\s?tokens?"
)
_UNITS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^\s*{_PER}\s?{_SEAT}\s?(?:{_PER}|,)?\s?{_MONTH}\b", re.I), "seat/month"),
    (re.compile(rf"^\s*{_PER}\s?{_SEAT}\s?(?:{_PER}|,)?\s?{_YEAR}\b", re.I), "seat/year"),
    (re.compile(rf"^\s*{_PER}\s?{_MONTH}\s?(?:{_PER}|,)?\s?{_SEAT}\b", re.I), "seat/month"),
    (re.compile(rf"^\s*{_PER}\s?{_SEAT}\b", re.I), "seat"),
    (re.compile(rf"^\s*{_PER}\s?{_MONTH}\b", re.I), "month"),
    (re.compile(rf"^\s*{_PER}\s?{_YEAR}\b", re.I), "year"),
    (re.compile(rf"^\s*{_PER}\s?{_TOKENS}", re.I), "tokens"),
    (
        re.compile(
            rf"^\s*{_PER}\s?(?P<qty>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?\s?[km]?)?\s?(?:api\s)?(?P<what>requests?|calls?|query|queries|search|searches|credits?)\b",
            re.I,
        ),
        "requests",
    ),
    (
        re.compile(
            rf"^\s*{_PER}\s?(?:generated\s)?(?P<what>images?|minutes?|hours?|pages?|videos?|seconds?)\b",
            re.I,
        ),
        "item",
    ),
]
_MONTHLY_WORDS = re.compile(r"\bbilled monthly\b|\bmonth-to-month\b|\bpaid monthly\b", re.I)
_ANNUAL_WORDS = re.compile(
    r"\bbilled (?:annually|yearly|per year|each year|once a year)\b|\bannual (?:billing|plan)\b"
    r"|\bpaid (?:annually|yearly)\b|\bper year, billed\b",
    re.I,
)


_COUNTED = {
    "request": "requests",
    "requests": "requests",
    "call": "requests",
    "calls": "requests",
    "query": "queries",
    "queries": "queries",
    "search": "searches",
    "searches": "searches",
    "credit": "credits",
    "credits": "credits",
}


def _quantity(text: str | None) -> str:
    if not text:
        return ""
    text = text.lower().replace(" ", "").replace(",", "")
    if text in ("million", "1m", "1mn", "1million"):
        return "1M"
    if text in ("thousand", "1k", "1thousand"):
        return "1K"
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(k|m|mn|million|thousand)?", text)
    if not match:
        return ""
    number, scale = match.groups()
    if not scale:
        value = Decimal(number)
        if value >= 1_000_000 and value % 1_000_000 == 0:
            return f"{value / 1_000_000:f}".rstrip("0").rstrip(".") + "M"
        if value >= 1_000 and value % 1_000 == 0:
            return f"{value / 1_000:f}".rstrip("0").rstrip(".") + "K"
        return number
    suffix = "M" if _SCALE[scale] == 1_000_000 else "K"
    return f"{number}{suffix}"


def unit_after(text: str) -> str:
    """The unit stated right after an amount ("/user/mo" → "seat/month"), or ""."""
    for pattern, unit in _UNITS:
        match = pattern.match(text)
        if not match:
            continue
        if unit == "tokens":
            qty = _quantity(match.group("qty")) or "1"
            kind = (match.group("kind") or "").lower()
            kind = {"prompt": "input", "completion": "output"}.get(kind, kind)
            return (
                f"{qty} {kind} tokens".replace("  ", " ") if qty != "1" else f"{kind} token".strip()
            )
        if unit == "requests":
            qty = _quantity(match.group("qty"))
            what = _COUNTED[match.group("what").lower()]
            return (
                f"{qty} {what}"
                if qty
                else what.removesuffix("es" if what == "searches" else "s").replace(
                    "querie", "query"
                )
            )
        if unit == "item":
            return match.group("what").lower().rstrip("s")
        return unit
    return ""


def billing_period(text: str) -> str:
    """ "monthly" or "annually" when the text says how the amount is billed, else ""."""
    monthly, annual = bool(_MONTHLY_WORDS.search(text)), bool(_ANNUAL_WORDS.search(text))
    if monthly == annual:
        return ""
    return "monthly" if monthly else "annually"


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str
    unit: str
    billing_period: str
    text: str  # the line it was read in


# An amount right after these words is a threshold or an allowance ("volume discounts from
# £50,000 a year", "credits worth $100 per month"), not what a plan costs.
_THRESHOLD_BEFORE = re.compile(
    r"\b(?:discounts?|credits?|volume|spend(?:ing)?|commit(?:ment)?s?|threshold)\b"
    r"[^$€£¥\d]{0,30}$",
    re.I,
)


def prices_in_line(line: str, context: str = "") -> list[Price]:
    """Every amount in ``line`` that states what it buys. ``context`` (the rest of a card)
    may say how it is billed; the unit must be on the line itself."""
    prices = []
    money = find_money(line)
    for i, found in enumerate(money):
        if _THRESHOLD_BEFORE.search(line[: found.start]):
            continue
        following = line[found.end : money[i + 1].start if i + 1 < len(money) else len(line)]
        unit = unit_after(following[:60])
        if not unit:
            continue
        period = billing_period(following[:80]) or billing_period(line)
        if not period and context:
            period = billing_period(context)
        prices.append(Price(found.amount, found.currency, unit, period, line))
    return prices
