"""Browse the catalog: filters and sorts shared by ``/tools/`` and ``GET /api/tools``.

Filters: category (slug), pricing model, license (the catalog's exact license text), open
weights (the catalog's "open-weights" pricing model: weights published to download) and
the panel's verdict. Sorts: name, panel ship, community, newest.

The panel and community figures are computed in the database, one subquery each, with the
same rules as the pages: a panel percentage only from ``MIN_PUBLISHED_FOR_PCT`` published
current reviews, a community percentage only from the community minimum of counted votes
(``community.services.counted_votes``). So a tool filtered as "panel says ship" shows a
ship majority on its page, and one sorted first by panel ship has the highest percentage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from toolverdict.catalog.models import Category, Pricing, Tool
from toolverdict.community.conf import min_votes
from toolverdict.community.models import Ballot, ToolVote
from toolverdict.community.services import counted_votes
from toolverdict.core.text import plain
from toolverdict.panel.models import Review
from toolverdict.panel.services import MIN_PUBLISHED_FOR_PCT

SORTS = {
    "name": "Name",
    "panel": "Panel ship",
    "community": "Community",
    "newest": "Newest",
}
VERDICTS = {
    "ship": "Panel says ship",
    "split": "Panel split",
    "skip": "Panel says skip",
    "none": "No panel verdict yet",
}
OPEN_WEIGHTS = {"yes": "Open weights", "no": "Not open weights"}
DEFAULT_SORT = "name"
FIELDS = ("category", "pricing", "license", "open_weights", "verdict", "sort")
MAX_VALUE = 200


@dataclass(frozen=True)
class Filters:
    category: str = ""
    pricing: str = ""
    license: str = ""
    open_weights: str = ""  # "yes" | "no" | ""
    verdict: str = ""
    sort: str = DEFAULT_SORT

    def query(self, **changes: str) -> str:
        """The query string of these filters (defaults left out), with ``changes``."""
        values = {name: getattr(self, name) for name in FIELDS} | changes
        pairs = [
            (name, values[name])
            for name in FIELDS
            if values[name] and not (name == "sort" and values[name] == DEFAULT_SORT)
        ]
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in FIELDS if name != "sort")


@dataclass
class Parsed:
    filters: Filters
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Choices:
    """What each filter accepts now (categories and licenses come from the catalog)."""

    categories: list[tuple[str, str]]
    licenses: list[str]
    pricing: list[tuple[str, str]] = field(default_factory=lambda: list(Pricing.choices))
    verdicts: list[tuple[str, str]] = field(default_factory=lambda: list(VERDICTS.items()))
    open_weights: list[tuple[str, str]] = field(default_factory=lambda: list(OPEN_WEIGHTS.items()))
    sorts: list[tuple[str, str]] = field(default_factory=lambda: list(SORTS.items()))


def choices() -> Choices:
    published = Tool.objects.published()
    return Choices(
        categories=list(
            Category.objects.filter(tools__in=published)
            .distinct()
            .order_by("name")
            .values_list("slug", "name")
        ),
        licenses=sorted(
            set(published.exclude(license="").values_list("license", flat=True)), key=str.lower
        ),
    )


def _shown(value: str) -> str:
    """A rejected value as the message quotes it: printable, short."""
    return plain(value, 60) or "(unprintable)"


def parse(params: Mapping[str, str], known: Choices | None = None) -> Parsed:
    """Read filters from query parameters; every unknown value is an error that says what
    is accepted. Values are never used in a query before they match a known choice."""
    known = known or choices()
    given = {name: (params.get(name) or "").strip()[:MAX_VALUE] for name in FIELDS}
    errors: list[str] = []
    allowed: dict[str, list[str]] = {
        "category": [slug for slug, _ in known.categories],
        "pricing": [value for value, _ in known.pricing],
        "license": known.licenses,
        "open_weights": list(OPEN_WEIGHTS),
        "verdict": list(VERDICTS),
        "sort": list(SORTS),
    }
    labels = {
        "category": "category",
        "pricing": "pricing model",
        "license": "license",
        "open_weights": "open weights",
        "verdict": "panel verdict",
        "sort": "sort",
    }
    clean: dict[str, str] = {}
    for name in FIELDS:
        value = given[name]
        if not value:
            continue
        if value not in allowed[name]:
            accepted = ", ".join(allowed[name]) if len(allowed[name]) <= 12 else "the listed ones"
            errors.append(f"Unknown {labels[name]} “{_shown(value)}”: use one of {accepted}.")
            continue
        clean[name] = value
    return Parsed(Filters(**clean), errors)


def _count(queryset: QuerySet) -> Coalesce:
    """A per-tool count as a correlated subquery (no join fan-out between the two counts)."""
    counted = queryset.order_by().values("tool_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def annotated(tools: QuerySet[Tool] | None = None) -> QuerySet[Tool]:
    """Published tools with ``fig_published``, ``fig_panel_ship``, ``fig_votes``,
    ``fig_votes_ship``, and the rates the sorts use (NULL where the pages show "—")."""
    published = Review.objects.counted().filter(tool=OuterRef("pk"), is_current=True)
    votes = ToolVote.objects.filter(counted_votes(), tool=OuterRef("pk"))
    minimum = max(1, min_votes())
    base = tools if tools is not None else Tool.objects.published()
    return base.annotate(
        fig_published=_count(published),
        fig_panel_ship=_count(published.filter(verdict=Review.Verdict.SHIP)),
        fig_votes=_count(votes),
        fig_votes_ship=_count(votes.filter(value=Ballot.SHIP)),
    ).annotate(
        fig_panel_rate=Case(
            When(
                fig_published__gte=MIN_PUBLISHED_FOR_PCT,
                then=Cast(F("fig_panel_ship"), FloatField())
                / Cast(F("fig_published"), FloatField()),
            ),
            default=None,
            output_field=FloatField(),
        ),
        fig_community_rate=Case(
            When(
                fig_votes__gte=minimum,
                then=Cast(F("fig_votes_ship"), FloatField()) / Cast(F("fig_votes"), FloatField()),
            ),
            default=None,
            output_field=FloatField(),
        ),
        fig_panel_ship_twice=F("fig_panel_ship") * 2,
    )


def browse(filters: Filters) -> QuerySet[Tool]:
    """Published tools matching ``filters`` (already parsed), in the asked order."""
    tools = annotated(Tool.objects.published().select_related("category"))
    if filters.category:
        tools = tools.filter(category__slug=filters.category)
    if filters.pricing:
        tools = tools.filter(pricing=filters.pricing)
    if filters.license:
        tools = tools.filter(license=filters.license)
    if filters.open_weights == "yes":
        tools = tools.filter(pricing=Pricing.OPEN_WEIGHTS)
    elif filters.open_weights == "no":
        tools = tools.exclude(pricing=Pricing.OPEN_WEIGHTS)
    if filters.verdict == "none":
        tools = tools.filter(fig_published__lt=MIN_PUBLISHED_FOR_PCT)
    elif filters.verdict:
        tools = tools.filter(fig_published__gte=MIN_PUBLISHED_FOR_PCT)
        lookup = {"ship": "gt", "split": "exact", "skip": "lt"}[filters.verdict]
        tools = tools.filter(**{f"fig_panel_ship_twice__{lookup}": F("fig_published")})
    order = {
        "name": ["name", "pk"],
        "panel": [F("fig_panel_rate").desc(nulls_last=True), F("fig_published").desc(), "name"],
        "community": [
            F("fig_community_rate").desc(nulls_last=True),
            F("fig_votes").desc(),
            "name",
        ],
        "newest": [F("published_at").desc(nulls_last=True), "-pk"],
    }[filters.sort or DEFAULT_SORT]
    return tools.order_by(*order)
