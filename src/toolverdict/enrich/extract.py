"""What a tool's pages state, read by deterministic parsers: structured data first
(schema.org JSON-LD offers, licence, operating systems), then pricing tables, plan cards
and plain lines.

Every value keeps ``evidence``: the exact pieces of page text (or published structured
data) it was read from. ``grounded`` checks each piece against the page before a value
is kept, so a value that is not on the page cannot come out of here, whichever parser
(or model) proposed it. Where a tool's pages state two different values for the same
thing (a plan at two prices, two licences), neither is kept: a wrong value is worse than
none.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .amounts import billing_period, find_money, prices_in_line, unit_after
from .licences import licences_in_line, spdx_for_name
from .page import INSTRUCTION, Page, clean_line

FACT_KEYS = (
    "pricing_model",
    "free_tier",
    "license",
    "open_weights",
    "context_window",
    "api",
    "function_calling",
    "platforms",
)


@dataclass(frozen=True)
class PriceValue:
    tier: str
    amount: Decimal
    currency: str
    unit: str
    billing_period: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (f"{self.amount.normalize():f}", self.currency, self.unit, self.billing_period)


@dataclass(frozen=True)
class Extracted:
    """One value a page states. ``value`` is the fact's text (for a price: its amount)."""

    key: str  # "price" or one of FACT_KEYS
    value: str
    url: str
    evidence: tuple[str, ...]
    method: str  # structured | table | card | text
    price: PriceValue | None = None

    @property
    def snippet(self) -> str:
        return " … ".join(self.evidence)[:500]


@dataclass
class Extraction:
    """All a tool's pages stated, reconciled: one value per fact key, price points."""

    prices: list[Extracted] = field(default_factory=list)
    facts: list[Extracted] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fact(self, key: str) -> Extracted | None:
        return next((f for f in self.facts if f.key == key), None)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def grounded(item: Extracted, page: Page) -> bool:
    """Every piece of evidence is on the page, and the value is in its evidence."""
    if not item.evidence or not all(page.states(piece) for piece in item.evidence):
        return False
    said = _norm(" ".join(item.evidence))
    if item.price is not None:
        digits = re.sub(r"[^\d]", "", f"{item.price.amount.normalize():f}")
        return digits.lstrip("0")[:6] in re.sub(r"[^\d]", "", said) or item.price.amount == 0
    if item.key == "context_window":
        return any(
            re.sub(r"[^\d]", "", tok).lstrip("0")
            and re.sub(r"[^\d]", "", tok) in re.sub(r"[^\d]", "", said)
            for tok in _context_tokens(item.value)
        )
    return True


def _context_tokens(value: str) -> list[str]:
    number = int(value)
    forms = [str(number)]
    if number % 1_000_000 == 0:
        forms.append(str(number // 1_000_000))
    if number % 1_000 == 0:
        forms.append(str(number // 1_000))
    if number % 1024 == 0:
        forms.append(str(number // 1024))
    return forms


# --- prices ---------------------------------------------------------------------------

_GENERIC_LABEL = re.compile(
    r"^(price|pricing|cost|fee|monthly|annual|annually|yearly|per\b|/|billed|plan price)", re.I
)
_PER_FRAGMENT = re.compile(r"(/|\bper\b).*$", re.I)


def _tier_name(text: str) -> str:
    text = clean_line(re.sub(r"[*†‡]+", "", text))
    text = re.sub(
        r"\s*\((?:most popular|popular|recommended|best value)\)\s*", "", text, flags=re.I
    )
    return text[:60]


def _tier_key(tier: str) -> str:
    return re.sub(r"^the\b|\b(plan|tier|edition)\b|[^a-z0-9 ]", "", tier.lower()).strip()


def _offers(node: dict[str, Any]) -> list[dict[str, Any]]:
    offers = node.get("offers")
    out: list[dict[str, Any]] = []
    for offer in offers if isinstance(offers, list) else [offers]:
        if isinstance(offer, dict):
            inner = offer.get("offers")
            if isinstance(inner, list | dict):
                out.extend(_offers(offer))
            else:
                out.append(offer)
    return out


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type")
    return {str(k) for k in (kind if isinstance(kind, list) else [kind]) if k}


_APP_TYPES = {
    "Product",
    "SoftwareApplication",
    "WebApplication",
    "MobileApplication",
    "Service",
    "SoftwareSourceCode",
}


def _ld_unit(spec: dict[str, Any]) -> tuple[str, str]:
    """(unit, billing period) from a schema.org UnitPriceSpecification."""
    unit_text = str(spec.get("unitText") or "")
    quantity = spec.get("referenceQuantity")
    if isinstance(quantity, dict):
        amount = str(quantity.get("value") or "")
        what = str(quantity.get("unitText") or "")
        unit_text = f"{amount} {what}".strip() or unit_text
    unit_text = re.sub(r"^\s*(per|/)\s*", "", unit_text, flags=re.I)
    unit = unit_after("per " + unit_text) if unit_text else ""
    duration = str(spec.get("billingDuration") or "").upper()
    if not unit:
        unit = {"P1M": "month", "P1Y": "year"}.get(duration, "")
    period = billing_period(str(spec.get("description") or ""))
    return unit, period


def structured_prices(page: Page) -> list[Extracted]:
    found: list[Extracted] = []
    for node in page.json_ld:
        if not (_types(node) & _APP_TYPES):
            continue
        for offer in _offers(node):
            specs = offer.get("priceSpecification")
            specs = specs if isinstance(specs, list) else [specs] if isinstance(specs, dict) else []
            tier = _tier_name(str(offer.get("name") or node.get("name") or ""))
            for spec in specs or [offer]:
                price = spec.get("price", offer.get("price"))
                currency = str(spec.get("priceCurrency") or offer.get("priceCurrency") or "")
                if price is None or not re.fullmatch(r"[A-Z]{3}", currency):
                    continue
                try:
                    amount = Decimal(str(price))
                except ArithmeticError:
                    continue
                unit, period = _ld_unit(spec)
                if not unit or amount < 0:
                    continue
                found.append(
                    Extracted(
                        "price",
                        str(amount),
                        page.url,
                        # Checked against the JSON-LD as published: its amount and currency.
                        (str(price), currency, *((tier,) if tier else ())),
                        "structured",
                        PriceValue(tier or "Price", amount, currency, unit, period),
                    )
                )
    return found


def table_prices(page: Page) -> list[Extracted]:
    found: list[Extracted] = []
    for rows in page.tables:
        header = rows[0]
        caption_period = billing_period(" ".join(header))
        for row in rows[1:]:
            label = row[0] if row else ""
            if INSTRUCTION.search(" ".join(row)):
                continue
            for c, cell in enumerate(row[1:], start=1):
                if not find_money(cell):
                    continue
                column = header[c] if c < len(header) else ""
                prices = prices_in_line(cell)
                evidence: tuple[str, ...] = (cell,)
                if not prices:
                    # The unit in the column or row heading: "Input (per 1M tokens)".
                    for heading in (column, label):
                        fragment = _PER_FRAGMENT.search(heading)
                        if fragment:
                            per = fragment.group(0).strip("() ")
                            kind = re.search(r"\b(input|output|prompt|completion)\b", heading, re.I)
                            if (
                                kind
                                and "token" in per.lower()
                                and kind.group(1).lower() not in per.lower()
                            ):
                                per = re.sub(
                                    r"(?i)\btokens?\b", f"{kind.group(1)} tokens", per, count=1
                                )
                            joined = f"{cell} {per}"
                            prices = [
                                p.__class__(p.amount, p.currency, p.unit, p.billing_period, cell)
                                for p in prices_in_line(joined)
                            ]
                            evidence = (heading, cell)
                            if prices:
                                break
                generic = not label or _GENERIC_LABEL.search(label)
                tier = column if generic else label
                if not generic and column and not _PER_FRAGMENT.search(column) and len(header) > 2:
                    qualifier = re.sub(r"\(.*?\)", "", column).strip()
                    if qualifier and qualifier.lower() not in ("price", "pricing", "cost"):
                        tier = f"{label} {qualifier}"
                for price in prices[:1]:
                    period = (
                        price.billing_period
                        or billing_period(f"{label} {column}")
                        or caption_period
                    )
                    pieces = tuple(
                        dict.fromkeys((*(p for p in (column, label) if p and p != cell), *evidence))
                    )
                    found.append(
                        Extracted(
                            "price",
                            str(price.amount),
                            page.url,
                            pieces,
                            "table",
                            PriceValue(
                                _tier_name(tier) or "Price",
                                price.amount,
                                price.currency,
                                price.unit,
                                period,
                            ),
                        )
                    )
    return found


_FAQ = re.compile(r"\?$|^(faq|frequently asked|questions)", re.I)


def card_prices(page: Page, taken: set[str]) -> list[Extracted]:
    found: list[Extracted] = []
    for card in page.cards:
        if _FAQ.search(card.heading) or _GENERIC_LABEL.search(card.heading):
            continue
        context = " ".join(card.lines)
        for line in card.lines:
            if line in taken:
                continue
            for price in prices_in_line(line, context):
                found.append(
                    Extracted(
                        "price",
                        str(price.amount),
                        page.url,
                        (card.heading, line),
                        "card",
                        PriceValue(
                            _tier_name(card.heading),
                            price.amount,
                            price.currency,
                            price.unit,
                            price.billing_period,
                        ),
                    )
                )
    return found


_PLAN_NAME = re.compile(r"\b(?:the\s)?([A-Z][\w+]*(?:\s[A-Z][\w+]*)?)\s(?:plan|tier)\b")


def _named_tier(before: str, known: set[str]) -> str:
    """The one plan of the page's tables and cards that ``before`` names, or ""."""
    named = {t for t in known if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", before)}
    return named.pop() if len(named) == 1 else ""


def text_prices(page: Page, taken: set[str], known: set[str] = frozenset()) -> list[Extracted]:
    """Prices on plain lines. A line names its plan as "the Team plan", or by a plan name
    the page's tables or cards use ("Team is $80 per user per year"); else "Price"."""
    found: list[Extracted] = []
    for line in page.lines:
        if line in taken or line.endswith("?"):
            continue
        for price in prices_in_line(line):
            before = line[: line.find(price.text) if price.text in line else None] or line
            plan = _PLAN_NAME.search(before)
            tier = plan.group(1) if plan else (_named_tier(before, known) or "Price")
            found.append(
                Extracted(
                    "price",
                    str(price.amount),
                    page.url,
                    (line,),
                    "text",
                    PriceValue(
                        _tier_name(tier),
                        price.amount,
                        price.currency,
                        price.unit,
                        price.billing_period,
                    ),
                )
            )
    return found


def page_prices(page: Page) -> list[Extracted]:
    structured = structured_prices(page)
    tables = table_prices(page)
    taken = {piece for item in tables for piece in item.evidence}
    cards = card_prices(page, taken)
    taken |= {item.evidence[-1] for item in cards}
    known = {
        item.price.tier
        for item in structured + tables + cards
        if item.price and _tier_key(item.price.tier) not in ("", "price")
    }
    texts = text_prices(page, taken, known)
    return structured + tables + cards + texts


# --- facts ----------------------------------------------------------------------------

_FREE_YES = re.compile(
    r"\bfree (?:plan|tier|forever|version|edition|for (?:individuals|personal use|hobbyists|"
    r"students|open[- ]source))\b|\bforever free\b|\bfree to (?:use|start|get started)\b"
    r"|\bhas a free\b|\$0\s*(?:/|per)\s*(?:mo|month)",
    re.I,
)
_FREE_NO = re.compile(
    r"\bno free (?:plan|tier|version)\b|\bthere is no free\b|\bpaid plans only\b", re.I
)
_FREE_ONLY = re.compile(
    r"\b(?:completely|entirely|100%|totally) free\b|\bfree and open[- ]source\b"
    r"|\bis free software\b",
    re.I,
)
_OPEN_YES = re.compile(
    r"\bopen[- ]weights?\b(?! (?:are|is) not)"
    r"|\bweights (?:are |is )?(?:available|published|released|downloadable|on hugging ?face)\b"
    r"|\bdownload the (?:model )?weights\b",
    re.I,
)
_OPEN_NO = re.compile(
    r"\b(?:closed|proprietary) (?:model|weights)\b"
    r"|\bweights (?:are |is )?not (?:released|available|public|published)\b"
    r"|\bnot open[- ]weights?\b|\bno open weights\b",
    re.I,
)
_CONTEXT = re.compile(
    r"(?P<a>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(?P<sa>[kKmM])?[- ]?(?:token)?s?[- ]?"
    r"(?:token )?context(?: window| length)?\b"
    r"|\bcontext(?: window| length)?(?: of| up to| is|:|\s)*\s?"
    r"(?P<b>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s?(?P<sb>[kKmM])?(?:\s?tokens)?",
    re.I,
)
_API_YES = re.compile(
    r"\b(?:REST|HTTP|public|developer|OpenAI-compatible)\s+API\b"
    r"|\bAPI (?:reference|access|keys?|docs|documentation|endpoints?)\b"
    r"|\bvia (?:our|the|an) API\b|\bthrough (?:our|the|an) API\b",
    re.I,
)
_API_NO = re.compile(r"\bno (?:public )?API\b|\bAPI (?:is )?(?:not available|coming soon)\b", re.I)
_TOOLS_YES = re.compile(
    r"\b(?:function|tool)[- ]calling\b|\btool use\b|\bcalls? (?:your )?functions\b", re.I
)
_TOOLS_NO = re.compile(
    r"\b(?:no|not|does not support|doesn't support|without|lacks?)\b.{0,20}\b(?:function|tool)[- ]"
    r"(?:calling|use)\b",
    re.I,
)
_PLATFORMS = {
    "Windows": r"\bwindows\b",
    "macOS": r"\bmac ?os\b|\bmac\b",
    "Linux": r"\blinux\b",
    "iOS": r"\bios\b|\biphone\b|\bipad\b|\bapp store\b",
    "Android": r"\bandroid\b|\bgoogle play\b",
    "Web": r"\bweb app\b|\bin (?:your|the) browser\b|\bbrowser-based\b",
    "VS Code": r"\bvs ?code\b|\bvisual studio code\b",
    "JetBrains": r"\bjetbrains\b",
    "Chrome extension": r"\bchrome extension\b",
    "CLI": r"\bcommand[- ]line\b|\bcli\b|\bterminal\b",
}
_AVAILABILITY = re.compile(
    r"\b(?:download|available|apps?|extension|plugin|install|desktop|client|runs on|works on|"
    r"works in|get it on|for)\b",
    re.I,
)


def _fact(key: str, value: str, page: Page, line: str, method: str = "text") -> Extracted:
    return Extracted(key, value, page.url, (line,), method)


def _yes_no(page: Page, key: str, yes: re.Pattern[str], no: re.Pattern[str]) -> list[Extracted]:
    found = []
    for line in page.lines:
        if no.search(line):
            found.append(_fact(key, "no", page, line))
        elif yes.search(line):
            found.append(_fact(key, "yes", page, line))
    return found


def _context_value(match: re.Match[str]) -> int | None:
    number = match.group("a") or match.group("b")
    scale = (match.group("sa") or match.group("sb") or "").lower()
    try:
        value = Decimal(number.replace(",", ""))
    except ArithmeticError:
        return None
    value *= {"k": 1000, "m": 1_000_000}.get(scale, 1)
    # A context window is at least a few hundred tokens: "a 2 context" is not one.
    return int(value) if 512 <= value <= 100_000_000 else None


def page_facts(page: Page) -> list[Extracted]:
    found: list[Extracted] = []
    found += _yes_no(page, "free_tier", _FREE_YES, _FREE_NO)
    found += [
        _fact("pricing_model", "free", page, line) for line in page.lines if _FREE_ONLY.search(line)
    ]
    for node in page.json_ld:
        if _types(node) & _APP_TYPES:
            licence = node.get("license")
            if isinstance(licence, str):
                spdx = spdx_for_name(licence)
                if spdx:
                    found.append(Extracted("license", spdx, page.url, (licence,), "structured"))
            systems = node.get("operatingSystem")
            if isinstance(systems, str):
                for name, pattern in {**_PLATFORMS, "Web": r"\bweb\b|\bbrowser\b"}.items():
                    if re.search(pattern, systems, re.I):
                        found.append(
                            Extracted("platforms", name, page.url, (systems,), "structured")
                        )
    for line in page.lines:
        for match in licences_in_line(line):
            found.append(_fact("license", match.spdx, page, line))
    weights_link = next(
        (
            link.url
            for link in page.links
            if re.match(r"https://huggingface\.co/[\w.-]+/[\w.-]+", link.url)
        ),
        "",
    )
    for line in page.lines:
        if _OPEN_NO.search(line):
            found.append(_fact("open_weights", "no", page, line))
        elif _OPEN_YES.search(line):
            value = f"yes, at {weights_link}" if weights_link else "yes"
            found.append(_fact("open_weights", value, page, line))
    for line in page.lines:
        for match in _CONTEXT.finditer(line):
            value = _context_value(match)
            if value:
                found.append(_fact("context_window", str(value), page, line))
    found += _yes_no(page, "api", _API_YES, _API_NO)
    found += _yes_no(page, "function_calling", _TOOLS_YES, _TOOLS_NO)
    for line in page.lines:
        if len(line) > 300 or not _AVAILABILITY.search(line):
            continue
        for name, pattern in _PLATFORMS.items():
            if re.search(pattern, line, re.I):
                found.append(_fact("platforms", name, page, line))
    return found


# --- one tool's pages together --------------------------------------------------------


def _reconcile_prices(items: list[Extracted], notes: list[str]) -> list[Extracted]:
    """One price point per (amount, currency, unit, billing); a plan stated at two prices
    for the same unit and billing is dropped whole."""
    by_value: dict[tuple, Extracted] = {}
    rank = {"structured": 0, "table": 1, "card": 2, "text": 3}
    for item in sorted(items, key=lambda i: rank[i.method]):
        assert item.price is not None
        by_value.setdefault(item.price.key, item)
    groups: dict[tuple, list[PriceValue]] = defaultdict(list)
    for item in by_value.values():
        price = item.price
        assert price is not None
        if _tier_key(price.tier) not in ("", "price"):
            groups[(_tier_key(price.tier), price.currency, price.unit)].append(price)

    def contradicted(price: PriceValue) -> bool:
        # Two amounts for one plan and unit contradict each other unless both say how they
        # are billed and the billing differs (monthly and annual prices of one plan).
        return any(
            other.amount != price.amount
            and not (
                other.billing_period
                and price.billing_period
                and other.billing_period != price.billing_period
            )
            for other in groups.get((_tier_key(price.tier), price.currency, price.unit), [])
        )

    kept = []
    for item in by_value.values():
        price = item.price
        assert price is not None
        if contradicted(price):
            notes.append(
                f"{price.tier}: stated at more than one price per {price.unit} "
                f"({price.amount.normalize():f} {price.currency} among them); none kept"
            )
            continue
        kept.append(item)
    return kept


def _reconcile_facts(items: list[Extracted], notes: list[str]) -> list[Extracted]:
    by_key: dict[str, list[Extracted]] = defaultdict(list)
    for item in items:
        by_key[item.key].append(item)
    kept: list[Extracted] = []
    for key, group in by_key.items():
        if key == "platforms":
            names = sorted({i.value for i in group}, key=list(_PLATFORMS).index)
            evidence = tuple(dict.fromkeys(piece for i in group for piece in i.evidence))[:4]
            kept.append(Extracted(key, ", ".join(names), group[0].url, evidence, group[0].method))
            continue
        structured = [i for i in group if i.method == "structured"]
        pool = structured or group
        values = {i.value.split(",")[0] if key == "open_weights" else i.value for i in pool}
        if len(values) > 1:
            notes.append(f"{key}: the pages state {', '.join(sorted(values))}; none kept")
            continue
        best = max(pool, key=lambda i: "," in i.value)  # open weights: the one saying where
        kept.append(best)
    return kept


def _pricing_model(
    prices: list[Extracted], facts: dict[str, Extracted], pages: list[Page]
) -> Extracted | None:
    paid = [p for p in prices if p.price and p.price.amount > 0]
    free_tier = facts.get("free_tier")
    free_only = facts.get("pricing_model")
    if free_only is not None:
        return None if paid else free_only
    if paid and free_tier and free_tier.value == "yes":
        return Extracted(
            "pricing_model",
            "freemium",
            free_tier.url,
            (*free_tier.evidence, *paid[0].evidence),
            "derived",
        )
    if paid and (free_tier is None or free_tier.value == "no"):
        pricing_pages = [pg for pg in pages if pg.url == paid[0].url]
        says_free = any(
            re.search(r"\bfree\b(?!\s+trial)", line, re.I)
            for pg in pricing_pages
            for line in pg.lines
        )
        if free_tier is not None or not says_free:
            evidence = (*(free_tier.evidence if free_tier else ()), *paid[0].evidence)
            return Extracted("pricing_model", "paid", paid[0].url, evidence, "derived")
    weights = facts.get("open_weights")
    if weights and weights.value.startswith("yes") and not paid:
        return Extracted("pricing_model", "open-weights", weights.url, weights.evidence, "derived")
    return None


def extract(pages: list[Page]) -> Extraction:
    """Read every page, keep what is grounded on its page, reconcile across pages."""
    result = Extraction()
    by_url = {page.url: page for page in pages}
    prices: list[Extracted] = []
    facts: list[Extracted] = []
    for page in pages:
        if page.instruction_lines:
            result.notes.append(
                f"{page.url}: {len(page.instruction_lines)} line(s) addressed to a model ignored"
            )
        for item in page_prices(page) + page_facts(page):
            if not grounded(item, by_url[item.url]):
                result.notes.append(f"{item.key} {item.value!r}: not found on the page; dropped")
                continue
            (prices if item.key == "price" else facts).append(item)
    result.prices = _reconcile_prices(prices, result.notes)
    reconciled = _reconcile_facts(facts, result.notes)
    by_key = {f.key: f for f in reconciled}
    model = _pricing_model(result.prices, by_key, pages)
    result.facts = [f for f in reconciled if f.key != "pricing_model"]
    if model is not None:
        result.facts.insert(0, model)
    return result
