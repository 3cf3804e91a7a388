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
SourceUrl = Annotated[AnyHttpUrl, Field(description="Where the fact is stated.")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class CategoryIn(_Strict):
    slug: Slug
    name: Annotated[Line, StringConstraints(max_length=80)]
    description: Annotated[str, StringConstraints(max_length=300)] = ""


class PricePointIn(_Strict):
    tier: Annotated[Line, StringConstraints(max_length=60)]
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    unit: Annotated[Line, StringConstraints(max_length=40)]
    source: SourceUrl


class FactIn(_Strict):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    value: Annotated[Line, StringConstraints(max_length=300)]
    source: SourceUrl
    retrieved: dt.date


class ToolIn(_Strict):
    slug: Slug
    name: Annotated[Line, StringConstraints(max_length=80)]
    vendor: Annotated[Line, StringConstraints(max_length=80)]
    category: Slug
    tagline: Annotated[Line, StringConstraints(max_length=140)]
    description: Annotated[str, StringConstraints(max_length=1500)] = ""
    homepage: AnyHttpUrl
    pricing: Literal["free", "freemium", "paid", "open-weights"]
    license: Annotated[str, StringConstraints(max_length=80)] = ""
    release_date: dt.date | None = None
    context_window: Annotated[int, Field(gt=0, le=100_000_000)] | None = None
    price_points: Annotated[list[PricePointIn], Field(max_length=30)] = []
    facts: Annotated[list[FactIn], Field(max_length=60)] = []

    @field_validator("homepage")
    @classmethod
    def _bounded_url(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > 300:
            raise ValueError("URL longer than 300 characters")
        return value


class CatalogFile(_Strict):
    categories: Annotated[list[CategoryIn], Field(max_length=200)] = []
    tools: Annotated[list[ToolIn], Field(max_length=10_000)] = []

    @model_validator(mode="after")
    def _unique_slugs(self) -> CatalogFile:
        seen: set[str] = set()
        dupes = []
        for tool in self.tools:
            if tool.slug in seen:
                dupes.append(tool.slug)
            seen.add(tool.slug)
        if dupes:
            raise ValueError(f"duplicate tool slug(s): {', '.join(sorted(set(dupes)))}")
        return self
