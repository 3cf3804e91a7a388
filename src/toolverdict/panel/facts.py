"""Structured facts of one tool, read by code from its catalog entry.

The panel's verdicts and comparisons are computed, not asked of a model, so they need the
catalog as values rather than prose: each price point with the kind of unit it is charged
per, the licence and whether it is open, the context window, and whether the facts state
tool calling, a public API, a free tier (or state their absence). Every value keeps the
evidence id of the dossier item it was read from, so a computed point can cite it.

Polarity matters more than presence: "no public API" mentions the API and says the
opposite of "API available". ``polarity`` reads it from the clause around the mention,
and the claim check uses the same function on the model's sentences, so the two can never
read the same words differently.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from toolverdict.catalog.models import Tool

#: Licence identifiers and words that mean the tool's code or weights are open.
OPEN_LICENCES = re.compile(
    r"\b(apache|mit|bsd|mpl|gpl|lgpl|agpl|isc|unlicense|cc-by|openrail"
    r"|llama[\s\d.]*community|gemma|open[- ]source|open[- ]weights?)\b",
    re.IGNORECASE,
)

#: Features whose presence or absence a fact can state, each with the phrases that name
#: it. Phrases are matched on word boundaries, longest first.
FEATURES: dict[str, tuple[str, ...]] = {
    "tool_use": (
        "agentic tool use",
        "tool use",
        "tool calling",
        "tool-calling",
        "tool calls",
        "function calling",
        "function-calling",
        "function calls",
        "call tools",
        "calls tools",
    ),
    "api": ("public api", "rest api", "http api", "api access", "api"),
    "open": ("open weights", "open-weights", "open source", "open-source", "weights"),
    "free_tier": ("free tier", "free plan", "free trial", "free for", "free hobby", "free"),
    "on_device": ("on-device", "on device", "runs locally", "run locally", "offline"),
}
FEATURE_NAMES = {
    "tool_use": "tool calling",
    "api": "API access",
    "open": "open weights or source",
    "free_tier": "a free tier",
    "on_device": "on-device use",
}
FEATURE_KEYS = {  # fact keys that state one feature whatever their wording
    "tool_use": "tool_use",
    "function_calling": "tool_use",
    "api": "api",
    "free_tier": "free_tier",
    "open_source": "open",
    "open_weights": "open",
}

#: Words that deny what follows them ("no public API", "does not support"); the claim
#: check reads sentences with the same words.
NEGATION_WORDS = (
    r"\b(?:no|not|never|none|neither|nor|without|lacks?|lacking|cannot|unsupported|absent"
    r"|missing|unavailable|except)\b|n't\b"
)
_NEGATION = re.compile(
    NEGATION_WORDS + r"|\b(?:only\s+inside|only\s+through|coming\s+soon)\b", re.IGNORECASE
)
_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(?:but|while|whereas|although|though|unlike)\b", re.I)
_NOT_AFTER = re.compile(
    r"^\s*(?:is|are|was|were|has\s+been)?\s*(?:not|n't|never)\b"
    r"|^\s*(?:is|are)?\s*(?:unsupported|unavailable|absent|missing)\b"
    r"|^\s*[:—-]?\s*(?:no|none|not\s+supported)\b",
    re.IGNORECASE,
)


def _phrase(p: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9-])" + re.escape(p) + r"(?![a-z0-9-])", re.IGNORECASE)


_FEATURE_PATTERNS = {
    name: [_phrase(p) for p in sorted(phrases, key=len, reverse=True)]
    for name, phrases in FEATURES.items()
}


def polarity(text: str, feature: str) -> bool | None:
    """True when ``text`` states the feature, False when it states its absence, None when
    it does not mention it. A negation counts when it sits in the same clause before the
    mention ("no public API", "does not support tool calling") or right after it
    ("tool use is not supported")."""
    found: bool | None = None
    taken: list[tuple[int, int]] = []
    for pattern in _FEATURE_PATTERNS[feature]:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue  # "free" inside "free tier" already read
            taken.append((m.start(), m.end()))
            before = _CLAUSE_BREAK.split(text[: m.start()])[-1]
            negated = bool(_NEGATION.search(before)) or bool(_NOT_AFTER.match(text[m.end() :]))
            if found is None or negated:  # any stated absence wins over a plain mention
                found = not negated
    return found


#: Units, read from a price point's unit text, that prices can be compared by.
UNIT_CLASSES = (
    ("per 1M input tokens", re.compile(r"input\s+tokens?", re.I)),
    ("per 1M output tokens", re.compile(r"output\s+tokens?", re.I)),
    ("per 1M tokens", re.compile(r"tokens?", re.I)),
    ("per seat per month", re.compile(r"\b(?:seat|user|member)s?\b.*\bmonth", re.I)),
    ("per month", re.compile(r"^\s*(?:per\s+)?month(?:ly)?\s*$", re.I)),
    ("per minute of audio", re.compile(r"minute", re.I)),
)


def unit_class(unit: str) -> str:
    """The comparable unit a price is charged per ("per 1M input tokens"), or ""."""
    for name, pattern in UNIT_CLASSES:
        if pattern.search(unit):
            return name
    return ""


@dataclass(frozen=True)
class Price:
    tier: str
    amount: Decimal
    currency: str
    unit: str
    unit_class: str
    display: str
    evidence_id: str


@dataclass(frozen=True)
class Stated:
    """A feature as the catalog states it: present (True) or absent (False), and where."""

    value: bool
    evidence_id: str


#: Words in a fact's value that say nothing is known yet.
_PLACEHOLDER = re.compile(r"\b(?:coming soon|tba|tbd|to be announced|unknown|n/a)\b", re.I)


@dataclass
class ToolFacts:
    tool_id: int
    name: str
    vendor: str
    category_id: int
    category: str
    pricing: str
    profile_id: str = "E1"
    prices: list[Price] = field(default_factory=list)
    licence: str = ""
    licence_open: bool | None = None
    context_window: int | None = None
    context_id: str = ""
    features: dict[str, Stated] = field(default_factory=dict)
    release_date: dt.date | None = None
    stated_facts: int = 0  # catalog facts that state something (not "coming soon")
    dead_sources: list[str] = field(default_factory=list)  # evidence ids
    unreviewed: list[str] = field(default_factory=list)  # evidence ids of extracted facts

    @property
    def paid_prices(self) -> list[Price]:
        return [p for p in self.prices if p.amount > 0 and p.unit_class]

    def entry_price(self, unit: str) -> Price | None:
        """The cheapest paid price charged per ``unit``."""
        matching = [p for p in self.paid_prices if p.unit_class == unit and p.currency == "USD"]
        return min(matching, key=lambda p: p.amount) if matching else None

    @property
    def known(self) -> list[str]:
        """What the catalog states about this tool, by dimension."""
        dims = []
        if self.prices or self.pricing in ("free", "open-weights"):
            dims.append("prices")
        if self.licence:
            dims.append("licence")
        if self.context_window:
            dims.append("context window")
        dims += [FEATURE_NAMES[f] for f in ("tool_use", "api") if f in self.features]
        return dims

    @property
    def missing(self) -> list[str]:
        wanted = ["prices", "licence", "context window", "tool calling", "API access"]
        return [d for d in wanted if d not in self.known]

    @property
    def strength(self) -> int:
        """How much there is to judge from: stated dimensions plus other stated facts."""
        return len(self.known) + self.stated_facts

    def feature(self, name: str) -> bool | None:
        stated = self.features.get(name)
        return None if stated is None else stated.value


_CONTEXT = re.compile(r"(\d+(?:[.,]\d+)*)\s*(k|m|thousand|million)?\s*(?:-\s*)?tokens?", re.I)


def parse_context(text: str) -> int | None:
    """Tokens of context in a fact's text ("1M tokens", "256,000 tokens of context")."""
    m = _CONTEXT.search(text)
    if not m:
        return None
    number = Decimal(m[1].replace(",", ""))
    scale = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
    return int(number * scale.get((m[2] or "").lower(), 1))


def read_facts(
    tool: Tool, ids: dict[tuple[str, int], str], dead: set[str] = frozenset()
) -> ToolFacts:
    """The tool's structured facts; ``ids`` maps ("price"|"fact", pk) to evidence ids and
    ``dead`` holds the cited URLs whose source check failed."""
    facts = ToolFacts(
        tool_id=tool.pk,
        name=tool.name,
        vendor=tool.vendor,
        category_id=tool.category_id,
        category=tool.category.name,
        pricing=tool.pricing,
        licence=tool.license,
        release_date=tool.release_date,
    )
    if tool.license:
        facts.licence_open = bool(OPEN_LICENCES.search(tool.license))
        if facts.licence_open:
            facts.features["open"] = Stated(True, facts.profile_id)
    if tool.pricing == "open-weights":
        facts.features["open"] = Stated(True, facts.profile_id)
    if tool.context_window:
        facts.context_window, facts.context_id = tool.context_window, facts.profile_id
    for price in tool.price_points.all():
        eid = ids.get(("price", price.pk), "")
        facts.prices.append(
            Price(
                tier=price.tier,
                amount=price.amount,
                currency=price.currency,
                unit=price.unit,
                unit_class=unit_class(price.unit),
                display=price.display_amount,
                evidence_id=eid,
            )
        )
        if price.amount == 0:
            facts.features.setdefault("free_tier", Stated(True, eid))
        if "tokens" in facts.prices[-1].unit_class or "api" in price.tier.lower():
            # A price per token (or an "API" tier) is a price for API access.
            facts.features.setdefault("api", Stated(True, eid))
        if price.source_url in dead:
            facts.dead_sources.append(eid)
        if getattr(price, "is_unreviewed_extraction", False):
            facts.unreviewed.append(eid)
    for fact in tool.facts.all():
        eid = ids.get(("fact", fact.pk), "")
        text = f"{fact.label}: {fact.value}"
        if _PLACEHOLDER.search(fact.value):
            continue
        facts.stated_facts += 1
        if fact.source_url in dead:
            facts.dead_sources.append(eid)
        if getattr(fact, "is_unreviewed_extraction", False):
            facts.unreviewed.append(eid)
        if fact.key == "context_window" and not facts.context_window:
            facts.context_window, facts.context_id = parse_context(fact.value), eid
        if fact.key == "license" and not facts.licence:
            facts.licence = fact.value
            facts.licence_open = bool(OPEN_LICENCES.search(fact.value))
        keyed = FEATURE_KEYS.get(fact.key)
        for name in FEATURES:
            value = polarity(fact.value, name) if keyed != name else polarity(text, name)
            if keyed == name and value is None:
                value = True  # a "tool_use" fact that names no phrase still states it
            if value is None:
                continue
            if name == "api" and value and re.search(r"api[- ]compatible", fact.value, re.I):
                continue  # "an API-compatible server" is not API access of its own
            if name == "free_tier" and value and fact.key not in ("free_tier", "pricing_model"):
                continue  # "free" in prose ("hallucination-free") is not a free tier
            if name == "open" and fact.key not in ("open_source", "open_weights", "license"):
                continue
            current = facts.features.get(name)
            if current is None or (current.value and not value):
                facts.features[name] = Stated(value, eid)
    if tool.pricing in ("free", "freemium"):
        facts.features.setdefault("free_tier", Stated(True, facts.profile_id))
    return facts
