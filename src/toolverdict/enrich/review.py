"""The editor's review of extracted values: accept, correct or reject, one value at a time.

Accepting keeps the value (origin *extracted*, ``reviewed_at`` set) and gives a fact the
editor's date (``as_of``); pages then show it like any editor's fact. Accepting a pricing
model, licence or context window also states it on the tool when the tool has none (or an
unreviewed one). Correcting is accepting with the editor's value. Rejecting deletes the
value and remembers it, so the next enrichment does not bring it back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from toolverdict.catalog.models import Fact, PricePoint, Pricing, Tool
from toolverdict.catalog.signals import tools_changed

from .models import Rejection
from .store import price_signature


class ReviewError(Exception):
    """The value cannot be reviewed as asked; the message says why."""


def queue() -> list[tuple[Tool, list[PricePoint], list[Fact]]]:
    """Tools with unreviewed extracted values, each with those values, oldest first."""
    prices = list(
        PricePoint.objects.filter(origin="extracted", reviewed_at__isnull=True)
        .select_related("tool")
        .order_by("tool__name", "position")
    )
    facts = list(
        Fact.objects.filter(origin="extracted", reviewed_at__isnull=True)
        .select_related("tool")
        .order_by("tool__name", "position")
    )
    tools: dict[int, tuple[Tool, list[PricePoint], list[Fact]]] = {}
    for row in prices:
        tools.setdefault(row.tool_id, (row.tool, [], []))[1].append(row)
    for row in facts:
        tools.setdefault(row.tool_id, (row.tool, [], []))[2].append(row)
    return sorted(tools.values(), key=lambda entry: entry[0].name)


def _row(kind: str, pk: int) -> PricePoint | Fact:
    model = {"price": PricePoint, "fact": Fact}.get(kind)
    if model is None:
        raise ReviewError(f"unknown kind {kind!r}")
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None or not row.is_unreviewed_extraction:
        raise ReviewError("this value is no longer waiting for review")
    return row


def _state_on_tool(tool: Tool, key: str, value: str) -> list[str]:
    """An accepted pricing model, licence or context window, stated on the tool itself."""
    if (
        key == "pricing_model"
        and value in Pricing.values
        and value != Pricing.UNKNOWN
        and (tool.pricing == Pricing.UNKNOWN or tool.pricing_unreviewed)
    ):
        tool.pricing, tool.pricing_unreviewed = value, False
        return ["pricing", "pricing_unreviewed"]
    if key == "license" and not tool.license:
        tool.license = value[:80]
        return ["license"]
    if key == "context_window" and not tool.context_window and value.isdigit():
        tool.context_window = int(value)
        return ["context_window"]
    return []


def _announce(tool_id: int) -> None:
    transaction.on_commit(
        lambda: tools_changed.send(sender=Tool, tool_ids=[tool_id], reason="enrich-review")
    )


def accept(kind: str, pk: int, editor: Any, value: str | None = None) -> PricePoint | Fact:
    """Accept an extracted value, or correct it with ``value`` (a fact's text, a price's
    amount); it becomes an editor-reviewed value dated today."""
    now = timezone.now()
    with transaction.atomic():
        row = _row(kind, pk)
        if isinstance(row, PricePoint):
            if value is not None:
                try:
                    amount = Decimal(value.strip().lstrip("$€£"))
                except InvalidOperation as exc:
                    raise ReviewError(f"not an amount: {value[:40]!r}") from exc
                if amount < 0 or amount >= Decimal("1e8"):
                    raise ReviewError("an amount is between 0 and 99,999,999")
                row.amount = amount
            row.reviewed_at = now
            row.save()
        else:
            if value is not None:
                value = " ".join(value.split())[:300]
                if not value or "\x00" in value:
                    raise ReviewError("a fact needs a value")
                row.value = value
            row.reviewed_at, row.as_of = now, now.date()
            row.save()
            tool = Tool.objects.select_for_update().get(pk=row.tool_id)
            fields = _state_on_tool(tool, row.key, row.value)
            if fields:
                tool.save(update_fields=[*fields, "updated_at"])
        _announce(row.tool_id)
    return row


def reject(kind: str, pk: int, editor: Any) -> None:
    """Delete an extracted value and remember it, so a re-fetch does not add it again."""
    with transaction.atomic():
        row = _row(kind, pk)
        if isinstance(row, PricePoint):
            key = "price"
            value = price_signature(
                row.tier, row.amount, row.currency, row.unit, row.billing_period
            )
        else:
            key, value = row.key, row.value
            tool = Tool.objects.select_for_update().get(pk=row.tool_id)
            if key == "pricing_model" and tool.pricing_unreviewed and tool.pricing == value:
                tool.pricing, tool.pricing_unreviewed = Pricing.UNKNOWN, False
                tool.save(update_fields=["pricing", "pricing_unreviewed", "updated_at"])
        Rejection.objects.get_or_create(
            tool_id=row.tool_id,
            key=key,
            value=value,
            defaults={"editor": editor if getattr(editor, "pk", None) else None},
        )
        row.delete()
        _announce(row.tool_id)
