"""Computed findings: how a tool compares with the other tools of its category.

A model asked "is this the cheapest?" guesses; code counts. Each finding is a sentence
computed from the catalog with its numbers, the peers it names and the evidence ids of the
tool's own items it rests on. Findings enter the dossier as computed items (C1, C2, …),
so the wording stage can cite them, and the claim check publishes a comparing sentence
only when a finding says so. Findings also raise the signals the persona rubrics weigh
(``rubric.py``): the same numbers decide the verdict and appear on the page.

Prices are compared only within one unit (per 1M input tokens, per seat per month, …) and
one currency, using each tool's cheapest paid price in that unit.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import Decimal

from .facts import FEATURE_NAMES, ToolFacts

#: A context window at least this long counts as long (and never one below the category's
#: median).
LONG_CONTEXT = 100_000
#: Price ratios to the median of the other tools' prices in the same unit.
WIDE_MARGIN, CHEAPER, PRICIER, FAR_PRICIER = (
    Decimal("0.5"),
    Decimal("0.67"),
    Decimal("1.5"),
    Decimal("3"),
)


_LABELS = {
    "context": "context window",
    "licence": "licence",
    "feature:tool_use": "tool calling",
    "feature:api": "API access",
    "feature:free_tier": "free tier",
    "missing": "not stated",
    "dead_sources": "sources",
    "unreviewed": "unreviewed facts",
}


@dataclass(frozen=True)
class Finding:
    key: str
    text: str
    evidence_ids: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What the finding is about: one per kind, so the verdict history can match a
        finding with its earlier self ("Computed: price per month")."""
        about = _LABELS.get(self.key) or self.key.replace("price:", "price ")
        return f"Computed: {about}"


def _money(amount: Decimal) -> str:
    text = f"{amount.normalize():f}"
    if "." in text and len(text.split(".")[1]) == 1:
        text += "0"
    return f"${text}"


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _names(names: list[str], limit: int = 4) -> str:
    shown = sorted(names)[:limit]
    more = len(names) - len(shown)
    text = ", ".join(shown)
    return f"{text} and {more} more" if more else text


def _ratio(value: Decimal, median: Decimal) -> Decimal:
    return (value / median).quantize(Decimal("0.1")) if median else Decimal(0)


def price_findings(tool: ToolFacts, others: list[ToolFacts]) -> list[Finding]:
    units = dict.fromkeys(p.unit_class for p in tool.paid_prices if p.currency == "USD")
    found: list[Finding] = []
    for unit in units:
        own = tool.entry_price(unit)
        rivals = [(o.name, p) for o in others if (p := o.entry_price(unit)) is not None]
        if own is None or not rivals:
            continue
        amounts = sorted([own.amount] + [p.amount for _, p in rivals])
        rank = amounts.index(own.amount) + 1
        n = len(amounts)
        median = Decimal(statistics.median(p.amount for _, p in rivals))
        ratio = _ratio(own.amount, median)
        cheapest_name, cheapest = min(rivals, key=lambda r: (r[1].amount, r[0]))
        dearest_name, dearest = max(rivals, key=lambda r: (r[1].amount, r[0]))
        where = f"{n} {tool.category} tools priced {unit}"
        if rank == 1 and own.amount < cheapest.amount:
            place = f"the cheapest of {where}"
        elif own.amount > dearest.amount:
            place = f"the most expensive of {where}"
        else:
            place = f"the {_ordinal(rank)} cheapest of {where}"
        text = (
            f"{possessive(tool.name)} {own.tier} price of {own.display} {unit} is {place}; "
            f"the other tools' median is {_money(median)}, so it costs {ratio} times that "
            f"median (cheapest other: {cheapest_name} at {cheapest.display}; "
            f"most expensive other: {dearest_name} at {dearest.display})."
        )
        signals: tuple[str, ...] = ()
        if rank == 1 and len(rivals) >= 2 and own.amount <= median * WIDE_MARGIN:
            signals = ("cheapest_wide",)
        elif own.amount <= median * CHEAPER:
            signals = ("cheaper",)
        elif own.amount >= median * FAR_PRICIER:
            signals = ("far_pricier",)
        elif own.amount >= median * PRICIER:
            signals = ("pricier",)
        found.append(
            Finding(
                f"price:{unit}",
                text,
                (own.evidence_id,),
                tuple(sorted({cheapest_name, dearest_name})),
                signals,
            )
        )
    return found


def context_finding(tool: ToolFacts, others: list[ToolFacts]) -> Finding | None:
    if not tool.context_window:
        return None
    own = tool.context_window
    rivals = [(o.name, o.context_window) for o in others if o.context_window]
    ids = (tool.context_id,)
    if not rivals:
        signals = ("long_context",) if own >= LONG_CONTEXT else ()
        return Finding(
            "context",
            f"{possessive(tool.name)} context window is {own:,} tokens; no other {tool.category} "
            "tool in the catalog states one.",
            ids,
            (),
            signals,
        )
    median = int(statistics.median(c for _, c in rivals))
    largest_name, largest = max(rivals, key=lambda r: (r[1], r[0]))
    sizes = sorted([own] + [c for _, c in rivals], reverse=True)
    rank = sizes.index(own) + 1
    n = len(sizes)
    if rank == 1 and own > largest:
        place = f"the largest of the {n} {tool.category} tools that state one"
    elif own < min(c for _, c in rivals):
        place = f"the smallest of the {n} {tool.category} tools that state one"
    else:
        place = f"the {_ordinal(rank)} largest of the {n} {tool.category} tools that state one"
    signals = ()
    if own >= LONG_CONTEXT and own >= median:
        signals = ("long_context",)
    elif own * 2 < median:
        signals = ("short_context",)
    return Finding(
        "context",
        f"{possessive(tool.name)} context window of {own:,} tokens is {place} (the other tools' "
        f"median is {median:,} tokens; largest other: {largest_name} at {largest:,}).",
        ids,
        (largest_name,),
        signals,
    )


def _feature_finding(tool: ToolFacts, others: list[ToolFacts], feature: str) -> Finding | None:
    stated = tool.features.get(feature)
    if stated is None:
        return None
    what = FEATURE_NAMES[feature]
    having = [o.name for o in others if o.feature(feature)]
    n = len(others) + 1
    if stated.value:
        if having:
            count = f"{len(having) + 1} of the {n} {tool.category} tools in the catalog"
            text = f"{tool.name} states {what}; so do {_names(having)} ({count} state it)."
        else:
            text = (
                f"{tool.name} is the only one of the {n} {tool.category} tools in the "
                f"catalog that states {what}."
            )
        signal = feature
    else:
        text = f"The catalog states that {tool.name} has no {what.removeprefix('a ')}"
        text += f"; {len(having)} of the other {n - 1} {tool.category} tools state {what}."
        signal = f"no_{feature}"
    return Finding(f"feature:{feature}", text, (stated.evidence_id,), tuple(having), (signal,))


def licence_finding(tool: ToolFacts, others: list[ToolFacts]) -> Finding | None:
    is_open = tool.feature("open")
    if not tool.licence and is_open is None:
        return None
    open_peers = [o.name for o in others if o.feature("open")]
    n = len(others) + 1
    licence = f"under the {tool.licence} licence" if tool.licence else "with open weights"
    peers_text = (
        f"{len(open_peers)} of the other {n - 1} {tool.category} tools state an open licence "
        f"or open weights" + (f" ({_names(open_peers)})" if open_peers else "")
    )
    if is_open:
        text = f"{tool.name} is published {licence}, an open licence; {peers_text}."
        signals: tuple[str, ...] = ("open",)
    else:
        text = f"{tool.name} is published {licence}, not an open licence; {peers_text}."
        signals = ("closed",)
    ids = [tool.profile_id]
    if "open" in tool.features:
        ids.append(tool.features["open"].evidence_id)
    ids = tuple(dict.fromkeys(ids))
    return Finding("licence", text, ids, tuple(open_peers), signals)


#: How many of the compared dimensions (prices, licence, context window, tool calling, API
#: access) must be unstated before "facts missing" counts against a tool: one or two gaps
#: are normal in any catalog entry.
MISSING_SIGNAL_AT = 3


def notes(tool: ToolFacts) -> list[Finding]:
    found = []
    if tool.missing:
        found.append(
            Finding(
                "missing",
                f"Not stated in the catalog for {tool.name}: {', '.join(tool.missing)}.",
                signals=("missing",) if len(tool.missing) >= MISSING_SIGNAL_AT else (),
            )
        )
    if tool.dead_sources:
        found.append(
            Finding(
                "dead_sources",
                "The cited source of "
                + ", ".join(tool.dead_sources)
                + " could not be reached when it was last checked.",
                tuple(tool.dead_sources),
                signals=("dead_sources",),
            )
        )
    if tool.unreviewed:
        found.append(
            Finding(
                "unreviewed",
                ", ".join(tool.unreviewed)
                + " were extracted from the vendor's pages by a program and are not yet "
                "reviewed by an editor.",
                tuple(tool.unreviewed),
                signals=("unreviewed",),
            )
        )
    return found


def compute_findings(tool: ToolFacts, others: list[ToolFacts]) -> list[Finding]:
    """Every finding for ``tool`` against ``others`` (its category's other tools), in a
    fixed order: prices, context, licence, features, then notes on what is missing."""
    found = price_findings(tool, others)
    for item in (
        context_finding(tool, others),
        licence_finding(tool, others),
        _feature_finding(tool, others, "tool_use"),
        _feature_finding(tool, others, "api"),
        _feature_finding(tool, others, "free_tier"),
    ):
        if item is not None:
            found.append(item)
    return found + notes(tool)
