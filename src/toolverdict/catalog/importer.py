"""Import a TOML catalog file: validate everything, then upsert in one transaction.

A file with any error changes nothing and reports every error with the tool and field.
Re-importing an unchanged file writes nothing: rows are compared before they are saved,
so ``updated_at`` and the dossier hash downstream stay put.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from pydantic import ValidationError

from .file_format import CatalogFile, ToolIn
from .models import Category, Fact, Origin, PricePoint, Pricing, Tool
from .signals import tools_changed


class CatalogImportError(Exception):
    """The catalog file is invalid; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return self.created + self.updated


def _location(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into "tool 'slug' field 'x'" for humans."""
    if len(loc) >= 2 and loc[0] in ("tools", "categories") and isinstance(loc[1], int):
        items = raw.get(loc[0]) or []
        item = items[loc[1]] if loc[1] < len(items) else {}
        slug = item.get("slug") if isinstance(item, dict) else None
        kind = "tool" if loc[0] == "tools" else "category"
        who = f"{kind} '{slug}'" if slug else f"{kind} #{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{who} field '{rest}'" if rest else who
    return "file" if not loc else "field '" + ".".join(str(p) for p in loc) + "'"


TOO_DEEP = "catalog file is nested too deeply (a catalog needs only a few levels of tables)"


def parse_catalog(text: str) -> CatalogFile:
    """Parse and validate catalog text, raising CatalogImportError with every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogImportError([f"not a valid TOML file: {exc}"]) from exc
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively; thousands of levels
        # exhaust the stack. No legitimate catalog comes close.
        raise CatalogImportError([TOO_DEEP]) from None
    try:
        catalog = CatalogFile.model_validate(raw)
    except ValidationError as exc:
        errors = [f"{_location(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise CatalogImportError(errors) from exc
    except RecursionError:
        raise CatalogImportError([TOO_DEEP]) from None
    return catalog


def _check_references(catalog: CatalogFile) -> None:
    known = {c.slug for c in catalog.categories} | set(
        Category.objects.values_list("slug", flat=True)
    )
    errors = [
        f"tool '{t.slug}' field 'category': unknown category '{t.category}'"
        for t in catalog.tools
        if t.category not in known
    ]
    if errors:
        raise CatalogImportError(errors)


def _tool_fields(item: ToolIn, categories: dict[str, Category]) -> dict[str, Any]:
    return {
        "name": item.name,
        "vendor": item.vendor,
        "category_id": categories[item.category].pk,
        "tagline": item.tagline,
        "description": item.description,
        "homepage": str(item.homepage),
        "pricing": item.pricing,
        # A pricing model in a catalog file is the editor's statement.
        "pricing_unreviewed": False,
        "license": item.license,
        "release_date": item.release_date,
        "context_window": item.context_window,
    }


def _children_signature(tool: Tool) -> tuple[list[tuple], list[tuple]]:
    # Only the editor's rows: values extracted from the tool's pages (enrich/) are not the
    # file's to compare or replace.
    prices = [
        (p.tier, p.amount.normalize(), p.currency, p.unit, p.billing_period, p.source_url)
        for p in tool.price_points.all()
        if p.origin == Origin.EDITOR
    ]
    facts = [
        (f.key, f.value, f.source_url, f.as_of)
        for f in tool.facts.all()
        if f.origin == Origin.EDITOR
    ]
    return prices, facts


def _wanted_signature(item: ToolIn) -> tuple[list[tuple], list[tuple]]:
    prices = [
        (p.tier, p.amount.normalize(), p.currency, p.unit, p.billing_period, str(p.source))
        for p in item.price_points
    ]
    facts = [(f.key, f.value, str(f.source), f.as_of) for f in item.facts]
    return prices, facts


def upsert_tool(item: ToolIn, categories: dict[str, Category]) -> tuple[Tool, str]:
    """Create or update one tool from validated input; returns (tool, created|updated|unchanged)."""
    wanted = _tool_fields(item, categories)
    tool = Tool.objects.filter(slug=item.slug).prefetch_related("price_points", "facts").first()
    if tool is not None and item.pricing == Pricing.UNKNOWN and tool.pricing_unreviewed:
        # The file states no pricing model: the one read from the tool's page stays, still
        # marked unreviewed, instead of flapping back to unknown on every import.
        del wanted["pricing"], wanted["pricing_unreviewed"]
    if tool is None:
        tool = Tool.objects.create(slug=item.slug, **wanted)
        outcome = "created"
    else:
        changed = {k: v for k, v in wanted.items() if getattr(tool, k) != v}
        if not changed and _children_signature(tool) == _wanted_signature(item):
            return tool, "unchanged"
        for key, value in changed.items():
            setattr(tool, key, value)
        tool.save()
        tool.price_points.filter(origin=Origin.EDITOR).delete()
        tool.facts.filter(origin=Origin.EDITOR).delete()
        outcome = "updated"
    PricePoint.objects.bulk_create(
        PricePoint(
            tool=tool,
            tier=p.tier,
            amount=p.amount,
            currency=p.currency,
            unit=p.unit,
            billing_period=p.billing_period,
            source_url=str(p.source),
            position=i,
        )
        for i, p in enumerate(item.price_points)
    )
    Fact.objects.bulk_create(
        Fact(
            tool=tool,
            key=f.key,
            value=f.value,
            source_url=str(f.source),
            as_of=f.as_of,
            position=i,
        )
        for i, f in enumerate(item.facts)
    )
    return tool, outcome


def import_catalog(catalog: CatalogFile) -> ImportReport:
    """Upsert a validated catalog in one transaction; announces changed tools on commit."""
    _check_references(catalog)
    report = ImportReport()
    with transaction.atomic():
        for item in catalog.categories:
            category, created = Category.objects.get_or_create(
                slug=item.slug, defaults={"name": item.name, "description": item.description}
            )
            if created:
                report.categories_created.append(item.slug)
            elif (category.name, category.description) != (item.name, item.description):
                category.name, category.description = item.name, item.description
                category.save()
        categories = {c.slug: c for c in Category.objects.all()}
        changed_ids: list[int] = []
        for item in catalog.tools:
            tool, outcome = upsert_tool(item, categories)
            getattr(report, outcome).append(tool.slug)
            if outcome != "unchanged":
                changed_ids.append(tool.pk)
        if changed_ids:
            transaction.on_commit(
                lambda: tools_changed.send(sender=Tool, tool_ids=changed_ids, reason="import")
            )
    return report


def import_path(path: str | Path) -> ImportReport:
    """Read, validate and import a catalog file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogImportError([f"{path}: no such file"]) from exc
    except UnicodeDecodeError as exc:
        raise CatalogImportError([f"{path}: not a UTF-8 text file ({exc.reason})"]) from exc
    except OSError as exc:
        raise CatalogImportError([f"{path}: cannot read ({exc.strerror})"]) from exc
    return import_catalog(parse_catalog(text))
