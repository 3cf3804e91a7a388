"""The catalog file format (TOML), validated with pydantic.

Every string and list is bounded; unknown keys are errors, so a typo in a field name is
reported instead of silently ignored. The format is documented in docs/catalog.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)


# "-vs-" is reserved: comparison URLs are /compare/<a>-vs-<b>/.
def _no_vs(value: str) -> str:
    """Keep /compare/<a>-vs-<b>/ unambiguous: no slug contains, starts or ends with "vs"."""
    if "-vs-" in value or value.startswith("vs-") or value.endswith("-vs") or value == "vs":
        raise ValueError("'-vs-' is reserved for comparison URLs")
    return value


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60),
    AfterValidator(_no_vs),
]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\r\n]*$")]


def _url_at_most(limit: int):
    """Bound a URL as it will be stored (str() of the parsed URL, which may grow: IDNA, "/")."""

    def check(value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > limit:
            raise ValueError(f"URL longer than {limit} characters")
        return value

    return AfterValidator(check)


# Every string limit here matches the max_length of the model field it is stored in
# (catalog/models.py; tests/catalog/test_import_limits.py keeps them in step), so a file
# that validates can be written on every database.
SourceUrl = Annotated[AnyHttpUrl, _url_at_most(500), Field(description="Where the fact is stated.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL cannot store NUL in text, and no catalog field has a use for it.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL character")
        return value


class CategoryIn(_Strict):
    slug: Slug
    name: Annotated[Line, StringConstraints(max_length=80)]
    description: Annotated[str, StringConstraints(max_length=300)] = ""


class PricePointIn(_Strict):
    tier: Annotated[Line, StringConstraints(max_length=60)]
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    unit: Annotated[Line, StringConstraints(max_length=40)]
    # Optional: whether the amount is billed monthly or annually (a plan's two prices).
    billing_period: Literal["", "monthly", "annually"] = ""
    source: SourceUrl


class FactIn(_Strict):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    value: Annotated[Line, StringConstraints(max_length=300)]
    source: SourceUrl
    # The editor's own "as of" date for the statement, optional. Older files call it
    # ``retrieved``; that name is read with the same meaning (giving both is an error). It
    # never records a check: only `toolverdict check-sources` does (catalog/sources.py).
    as_of: dt.date | None = Field(default=None, validation_alias=AliasChoices("as_of", "retrieved"))


class ToolIn(_Strict):
    slug: Slug
    name: Annotated[Line, StringConstraints(max_length=80)]
    vendor: Annotated[Line, StringConstraints(max_length=80)]
    category: Slug
    tagline: Annotated[Line, StringConstraints(max_length=140)]
    description: Annotated[str, StringConstraints(max_length=1500)] = ""
    homepage: Annotated[AnyHttpUrl, _url_at_most(300)]
    # Left out or "unknown": nobody has stated it (pages show "Unknown", never a guess).
    pricing: Literal["free", "freemium", "paid", "open-weights", "unknown"] = "unknown"
    license: Annotated[str, StringConstraints(max_length=80)] = ""
    release_date: dt.date | None = None
    context_window: Annotated[int, Field(gt=0, le=100_000_000)] | None = None
    price_points: Annotated[list[PricePointIn], Field(max_length=30)] = []
    facts: Annotated[list[FactIn], Field(max_length=60)] = []


class CatalogFile(_Strict):
    categories: Annotated[list[CategoryIn], Field(max_length=200)] = []
    tools: Annotated[list[ToolIn], Field(max_length=10_000)] = []

    @model_validator(mode="after")
    def _unique_slugs(self) -> CatalogFile:
        problems = []
        for kind, items in (("category", self.categories), ("tool", self.tools)):
            seen: set[str] = set()
            dupes: set[str] = set()
            for item in items:
                if item.slug in seen:
                    dupes.add(item.slug)
                seen.add(item.slug)
            if dupes:
                problems.append(f"duplicate {kind} slug(s): {', '.join(sorted(dupes))}")
        if problems:
            raise ValueError("; ".join(problems))
        return self
