"""Storing what a tool's pages state, with its provenance, in one transaction.

Each value becomes a catalog fact or price point with origin *extracted*, the exact URL it
was read from, the time that page was fetched and the page text beside it; it stays
"extracted, not reviewed by an editor" until accepted in the review queue (review.py).
A new enrichment replaces the tool's unreviewed extracted values; the editor's rows and
accepted extractions stay. A plan found at another price than before is recorded as a
``PriceChange`` (the accepted old price is superseded), and the tools whose values
changed are announced (``tools_changed``, reason "enrich") so the panel re-reviews them
and the verdict history shows what moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from toolverdict.catalog.models import Fact, Origin, PricePoint, Pricing, Tool
from toolverdict.catalog.signals import tools_changed

from .extract import Extracted, Extraction, _tier_key
from .models import Enrichment, PriceChange, Rejection

FIRST_POSITION = 100  # after the editor's rows


def price_signature(tier: str, amount, currency: str, unit: str, period: str) -> str:
    return f"{_tier_key(tier)}|{amount.normalize():f}|{currency}|{unit}|{period}"[:300]


def _group(tier: str, currency: str, unit: str, period: str) -> tuple[str, str, str, str]:
    return (_tier_key(tier), currency, unit, period)


@dataclass
class StoreReport:
    facts: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    changes: list[PriceChange] = field(default_factory=list)
    pricing: str = ""
    changed: bool = False


def _fact_text(item: Extracted) -> str:
    return item.value[:300]


def store(
    tool_id: int,
    extraction: Extraction,
    fetched_at: dict[str, datetime],
    pages: list[dict],
    outcome: str,
) -> StoreReport:
    """Write one tool's extraction (see the module docstring); all or nothing."""
    report = StoreReport()
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool_id)
        rejected = set(Rejection.objects.filter(tool=tool).values_list("key", "value"))
        old_prices = list(tool.price_points.all())
        old_facts = list(tool.facts.all())
        kept_prices = {
            price_signature(p.tier, p.amount, p.currency, p.unit, p.billing_period): p
            for p in old_prices
            if not p.is_unreviewed_extraction
        }
        kept_facts = {(f.key, f.value) for f in old_facts if not f.is_unreviewed_extraction}
        before = {
            ("price", price_signature(p.tier, p.amount, p.currency, p.unit, p.billing_period))
            for p in old_prices
            if p.is_unreviewed_extraction
        } | {(f.key, f.value) for f in old_facts if f.is_unreviewed_extraction}
        previous_amounts = {
            _group(p.tier, p.currency, p.unit, p.billing_period): p
            for p in old_prices
            if p.origin == Origin.EXTRACTED
        }

        new_prices: list[PricePoint] = []
        unchanged_rows: list[PricePoint | Fact] = []
        for item in extraction.prices:
            price = item.price
            assert price is not None
            signature = price_signature(
                price.tier, price.amount, price.currency, price.unit, price.billing_period
            )
            if ("price", signature) in rejected or signature in kept_prices:
                continue
            when = fetched_at.get(item.url) or timezone.now()
            earlier = previous_amounts.get(
                _group(price.tier, price.currency, price.unit, price.billing_period)
            )
            if earlier is not None and earlier.amount != price.amount:
                report.changes.append(
                    PriceChange(
                        tool=tool,
                        tier=price.tier,
                        unit=price.unit,
                        currency=price.currency,
                        billing_period=price.billing_period,
                        old_amount=earlier.amount,
                        new_amount=price.amount,
                        source_url=item.url[:500],
                        fetched_at=when,
                    )
                )
                if not earlier.is_unreviewed_extraction:
                    earlier.delete()  # an accepted price the page no longer states
            new_prices.append(
                PricePoint(
                    tool=tool,
                    tier=price.tier[:60],
                    amount=price.amount,
                    currency=price.currency,
                    unit=price.unit[:40],
                    billing_period=price.billing_period,
                    source_url=item.url[:500],
                    origin=Origin.EXTRACTED,
                    fetched_at=when,
                    snippet=item.snippet,
                    position=FIRST_POSITION + len(new_prices),
                )
            )
            report.prices.append(signature)
        new_facts: list[Fact] = []
        for item in extraction.facts:
            value = _fact_text(item)
            if (item.key, value) in rejected or (item.key, value) in kept_facts:
                continue
            new_facts.append(
                Fact(
                    tool=tool,
                    key=item.key,
                    value=value,
                    source_url=item.url[:500],
                    origin=Origin.EXTRACTED,
                    fetched_at=fetched_at.get(item.url) or timezone.now(),
                    snippet=item.snippet,
                    position=FIRST_POSITION + len(new_facts),
                )
            )
            report.facts.append(f"{item.key}: {value}")
        after = {("price", s) for s in report.prices} | {
            tuple(f.split(": ", 1)) for f in report.facts
        }
        report.changed = after != before or bool(report.changes)
        if report.changed:
            tool.price_points.filter(origin=Origin.EXTRACTED, reviewed_at__isnull=True).delete()
            tool.facts.filter(origin=Origin.EXTRACTED, reviewed_at__isnull=True).delete()
            PricePoint.objects.bulk_create(new_prices)
            Fact.objects.bulk_create(new_facts)
            PriceChange.objects.bulk_create(report.changes)
        else:
            # The same values read again: only the time they were last fetched moves.
            for row in [*tool.price_points.all(), *tool.facts.all()]:
                if row.is_unreviewed_extraction and row.source_url in fetched_at:
                    row.fetched_at = fetched_at[row.source_url]
                    unchanged_rows.append(row)
            for row in unchanged_rows:
                row.save(update_fields=["fetched_at"])
        model = extraction.fact("pricing_model")
        # The page's pricing model stands in only for an unknown (or earlier extracted) one,
        # never for the editor's.
        if (
            model is not None
            and (tool.pricing == Pricing.UNKNOWN or tool.pricing_unreviewed)
            and (model.key, model.value) not in rejected
            and tool.pricing != model.value
        ):
            tool.pricing, tool.pricing_unreviewed = model.value, True
            tool.save(update_fields=["pricing", "pricing_unreviewed", "updated_at"])
            report.pricing = model.value
            report.changed = True
        Enrichment.objects.update_or_create(
            tool=tool,
            defaults={
                "ran_at": timezone.now(),
                "outcome": outcome,
                "pages": pages,
                "notes": extraction.notes[:50],
                "values": len(extraction.prices) + len(extraction.facts),
                "claimed_by": "",
                "claimed_at": None,
            },
        )
        if report.changed:
            ids = [tool.pk]
            transaction.on_commit(
                lambda: tools_changed.send(sender=Tool, tool_ids=ids, reason="enrich")
            )
    return report
