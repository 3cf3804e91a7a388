"""Shared helpers for hosted backends: the cost table and error classification."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from .base import Prices

# USD per million tokens (input, cached input, output), as published by the providers.
# Matched by model-name prefix, longest first; an estimate, not an invoice. Override with
# TOOLVERDICT_PANEL_PRICES="input,cached_input,output".
KNOWN_PRICES: dict[str, tuple[str, str, str]] = {
    "gpt-4o-mini": ("0.15", "0.075", "0.60"),
    "gpt-4o": ("2.50", "1.25", "10.00"),
    "gpt-4.1-mini": ("0.40", "0.10", "1.60"),
    "gpt-4.1": ("2.00", "0.50", "8.00"),
    "claude-sonnet": ("3.00", "0.30", "15.00"),
    "claude-haiku": ("1.00", "0.10", "5.00"),
    "claude-opus": ("15.00", "1.50", "75.00"),
}


def prices_for(model: str) -> Prices:
    configured = (settings.TOOLVERDICT_PANEL_PRICES or "").strip()
    if configured:
        parts = [Decimal(p.strip()) for p in configured.split(",")]
        if len(parts) != 3:
            raise ValueError("TOOLVERDICT_PANEL_PRICES needs three numbers: input,cached,output")
        return Prices(*parts)
    for prefix in sorted(KNOWN_PRICES, key=len, reverse=True):
        if model.startswith(prefix):
            return Prices(*(Decimal(p) for p in KNOWN_PRICES[prefix]))
    return Prices()


def is_retryable_status(status: int) -> bool:
    """Rate limits, timeouts, conflicts and server errors may succeed on a later try."""
    return status in (408, 409, 429) or status >= 500
