"""The ``ReviewModel`` protocol every backend implements, and what it returns.

A backend turns a prompt plus a JSON schema into the raw JSON text of one review and
reports its usage. It does not parse, ground or store anything: that is the panel's job,
so all three backends are held to exactly the same rules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from ..prompts import Prompt


class MissingExtra(ImportError):
    """A backend's SDK is an optional extra that is not installed; the message says which."""


def import_sdk(module: str, backend: str) -> ModuleType:
    """The provider SDK ``module`` (installed by the extra of the same name), or
    MissingExtra naming the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"the {backend} panel backend needs the {module!r} package, an optional extra: "
            f"pip install 'toolverdict[{module}]'"
        ) from exc


class ModelError(Exception):
    """A backend could not produce a review. ``retryable`` errors are tried again."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ReviewRequest:
    prompt: Prompt
    schema: dict[str, Any]
    max_tokens: int = 900
    temperature: float = 0.0
    seed: int | None = None


@dataclass(frozen=True)
class Generation:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens; cached input is billed at its own rate."""

    input: Decimal = Decimal(0)
    cached_input: Decimal = Decimal(0)
    output: Decimal = Decimal(0)

    def cost(self, generation: Generation) -> Decimal:
        fresh = max(generation.input_tokens - generation.cached_tokens, 0)
        total = (
            fresh * self.input
            + generation.cached_tokens * self.cached_input
            + generation.output_tokens * self.output
        ) / Decimal(1_000_000)
        return total.quantize(Decimal("0.000001"))


@runtime_checkable
class ReviewModel(Protocol):
    #: Stored with every review and part of the reuse key, e.g. "openai:gpt-4o-mini".
    model_id: str
    #: True for a tiny local model: its reviews are labelled "local draft".
    is_local_draft: bool
    # Optional: ``style`` = "stepwise" (one question per call) or "whole" (one JSON review
    # per call, the default); read with getattr by the panel.
    prices: Prices

    def generate(self, request: ReviewRequest) -> Generation: ...
