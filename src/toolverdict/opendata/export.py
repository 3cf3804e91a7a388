"""The open-data dump: the publication's content as JSON or CSV, written atomically.

A dump holds the same tables in either format (docs/data.md): categories, tools,
price points, facts with their sources and check status, the current published reviews,
the sentences the claim check published with their label, and vote aggregates. Nothing about an
account leaves: votes are counted per tool and per pair (with the pages' counting rule and
minimum), never listed per voter.

A dump is written into a temporary directory beside its final place and renamed into
place once complete, so a reader (or the /data/ page) sees a whole dump or none.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from toolverdict.catalog.models import Category, Fact, PricePoint, Source, Tool
from toolverdict.catalog.sources import source_status
from toolverdict.community.figures import community_figures, pair_tallies
from toolverdict.panel.models import Claim, Review

SCHEMA_VERSION = "1.0"
FORMATS = ("json", "csv")
DUMP_NAME = re.compile(r"^toolverdict-(json|csv)-(\d{8}T\d{6}Z)$")
# The files a dump can hold: its tables, the manifest and LICENSE.txt.
FILE_NAME = re.compile(r"^(?:[a-z_]+\.(?:json|csv|txt)|LICENSE\.txt)$")
# A spreadsheet opening the CSV runs a cell starting with one of these as a formula
# (OWASP "CSV injection"); such text cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Every table and its columns, in order: the CSV header and the JSON keys alike.
TABLES: dict[str, list[str]] = {
    "categories": ["slug", "name", "description"],
    "tools": [
        "slug",
        "name",
        "vendor",
        "category",
        "tagline",
        "description",
        "homepage",
        "pricing",
        "license",
        "release_date",
        "context_window",
        "url",
        "published_at",
    ],
    "price_points": [
        "tool",
        "position",
        "tier",
        "amount",
        "currency",
        "unit",
        "source",
        "origin",
        "fetched_at",
        "reviewed_at",
    ],
    "facts": [
        "tool",
        "position",
        "key",
        "value",
        "source",
        "as_of",
        "origin",
        "fetched_at",
        "reviewed_at",
        "check_state",
        "checked_at",
        "check_outcome",
        "check_http_status",
        "check_final_url",
        "check_content_sha256",
    ],
    "reviews": [
        "tool",
        "persona",
        "persona_name",
        "verdict",
        "reason",
        "support_rate",
        "is_local_draft",
        "model_id",
        "prompt_version",
        "dossier_hash",
        "created_at",
    ],
    "claims": ["tool", "persona", "position", "kind", "text", "evidence_ids", "support"],
    "tool_votes": ["tool", "votes", "ship", "skip", "community_pct"],
    "pair_votes": ["tool_a", "tool_b", "votes", "tool_a_votes", "tool_b_votes"],
}


class ExportError(Exception):
    """The dump could not be written; nothing was left behind."""


def _plain(value: Any) -> Any:
    """A JSON value: dates as ISO 8601, decimals as strings (no float rounding)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def neutralise_formula(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet would read it as a formula.

    Spreadsheets hide the apostrophe and show the text as typed; a program reading the
    CSV sees it, and can drop one leading apostrophe from a cell whose second character
    is one of ``FORMULA_STARTS`` to get the original (the JSON dump is never altered).
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """The CSV text of a JSON value: empty for null, true/false, lists space-separated,
    text that a spreadsheet would run as a formula neutralised."""
    if isinstance(value, str):
        return neutralise_formula(value)
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return neutralise_formula(" ".join(str(v) for v in value))
    # Integers and floats: a negative number is a number, not a formula.
    return str(value)


def _site_url(path: str) -> str:
    return settings.SITE_URL + path


def collect(now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every table as a list of rows (JSON values), published tools only."""
    now = now or timezone.now()
    tools = list(
        Tool.objects.published()
        .select_related("category")
        .prefetch_related(
            Prefetch("price_points", queryset=PricePoint.objects.order_by("position", "id")),
            Prefetch("facts", queryset=Fact.objects.order_by("position", "id")),
        )
        .order_by("slug")
    )
    slugs = {t.pk: t.slug for t in tools}
    sources = {
        s.url: s
        for s in Source.objects.filter(url__in={f.source_url for t in tools for f in t.facts.all()})
    }
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    tables["categories"] = [
        {"slug": c.slug, "name": c.name, "description": c.description}
        for c in Category.objects.order_by("slug")
    ]
    for t in tools:
        tables["tools"].append(
            {
                "slug": t.slug,
                "name": t.name,
                "vendor": t.vendor,
                "category": t.category.slug,
                "tagline": t.tagline,
                "description": t.description,
                "homepage": t.homepage,
                "pricing": t.pricing,
                "license": t.license,
                "release_date": t.release_date,
                "context_window": t.context_window,
                "url": _site_url(t.get_absolute_url()),
                "published_at": t.published_at,
            }
        )
        for i, p in enumerate(t.price_points.all()):
            tables["price_points"].append(
                {
                    "tool": t.slug,
                    "position": i,
                    "tier": p.tier,
                    "amount": p.amount,
                    "currency": p.currency,
                    "unit": p.unit,
                    "source": p.source_url,
                    "origin": p.origin,
                    "fetched_at": p.fetched_at,
                    "reviewed_at": p.reviewed_at,
                }
            )
        for i, f in enumerate(t.facts.all()):
            source = sources.get(f.source_url)
            status = source_status(source, now)
            checked = source is not None and source.checked_at is not None
            tables["facts"].append(
                {
                    "tool": t.slug,
                    "position": i,
                    "key": f.key,
                    "value": f.value,
                    "source": f.source_url,
                    "as_of": f.as_of,
                    "origin": f.origin,
                    "fetched_at": f.fetched_at,
                    "reviewed_at": f.reviewed_at,
                    "check_state": status.state,
                    "checked_at": source.checked_at if checked else None,
                    "check_outcome": source.outcome if checked else None,
                    "check_http_status": source.http_status if checked else None,
                    "check_final_url": (source.final_url or None) if checked else None,
                    "check_content_sha256": (source.content_sha256 or None) if checked else None,
                }
            )
    reviews = (
        Review.objects.filter(
            tool_id__in=list(slugs), is_current=True, status=Review.Status.PUBLISHED
        )
        .order_by("tool__slug", "persona_order", "persona")
        .prefetch_related(
            Prefetch(
                "claims",
                # What the claim check kept off the pages stays out of the dump too.
                queryset=Claim.objects.filter(support__in=Claim.PUBLISHED_SUPPORT).order_by(
                    "position"
                ),
            )
        )
    )
    for r in reviews:
        tables["reviews"].append(
            {
                "tool": slugs[r.tool_id],
                "persona": r.persona,
                "persona_name": r.persona_name,
                "verdict": r.verdict,
                "reason": r.reason,
                "support_rate": r.support_rate,
                "is_local_draft": r.is_local_draft,
                "model_id": r.model_id,
                "prompt_version": r.prompt_version,
                "dossier_hash": r.dossier_hash,
                "created_at": r.created_at,
            }
        )
        for c in r.claims.all():
            tables["claims"].append(
                {
                    "tool": slugs[r.tool_id],
                    "persona": r.persona,
                    "position": c.position,
                    "kind": c.kind,
                    "text": c.text,
                    "evidence_ids": [str(e) for e in c.evidence_ids],
                    "support": c.support,
                }
            )
    # The community's own figures, so the dump counts and hides exactly as the pages do.
    figures = community_figures(tools)
    for t in sorted(tools, key=lambda tool: tool.slug):
        figure = figures[t.pk]
        shown = figure.pct is not None
        tables["tool_votes"].append(
            {
                "tool": t.slug,
                "votes": figure.votes,
                # Under the pages' minimum the split is not published (as on the pages).
                "ship": figure.ship if shown else None,
                "skip": figure.skip if shown else None,
                "community_pct": figure.pct,
            }
        )
    pair_rows = [
        {
            "tool_a": slugs[tally.tool_a_id],
            "tool_b": slugs[tally.tool_b_id],
            "votes": tally.votes,
            "tool_a_votes": tally.tool_a_votes if tally.shown else None,
            "tool_b_votes": tally.tool_b_votes if tally.shown else None,
        }
        for tally in pair_tallies(slugs)
    ]
    tables["pair_votes"] = sorted(pair_rows, key=lambda r: (r["tool_a"], r["tool_b"]))
    return {
        name: [{k: _plain(row[k]) for k in TABLES[name]} for row in rows]
        for name, rows in tables.items()
    }


def license_notice() -> str:
    return (
        f"The content of {settings.SITE_NAME} ({settings.SITE_URL}) in this dump (the catalog "
        "entries, the reviewer panel's reviews and claims, and the vote aggregates) is "
        f"published under {settings.TOOLVERDICT_EXPORT_LICENSE} "
        f"({settings.TOOLVERDICT_EXPORT_LICENSE_URL}). Attribute it to {settings.SITE_NAME} "
        f"with a link to {settings.SITE_URL}. The pages the facts cite belong to their owners "
        "and are not covered by this licence.\n"
    )


def _manifest(fmt: str, now: dt.datetime, files: dict[str, str], counts: dict[str, int]) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "format": fmt,
        "generated_at": now.isoformat(),
        "site": settings.SITE_URL,
        "license": {
            "name": settings.TOOLVERDICT_EXPORT_LICENSE,
            "url": settings.TOOLVERDICT_EXPORT_LICENSE_URL,
            "notice": license_notice().strip(),
        },
        "tables": {name: {"columns": TABLES[name], "rows": counts[name]} for name in TABLES},
        "files": files,
        "documentation": settings.SITE_URL + "/data/",
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_tables(
    fmt: str, tables: dict[str, list[dict]], target: Path, now: dt.datetime
) -> list[str]:
    names: list[str] = []
    if fmt == "json":
        payload = {
            "schema_version": SCHEMA_VERSION,
            "generated_at": now.isoformat(),
            "license": {
                "name": settings.TOOLVERDICT_EXPORT_LICENSE,
                "url": settings.TOOLVERDICT_EXPORT_LICENSE_URL,
            },
            "tables": tables,
        }
        with (target / "data.json").open("w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        names.append("data.json")
    else:
        for name, rows in tables.items():
            with (target / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(TABLES[name])
                for row in rows:
                    writer.writerow([csv_cell(row[col]) for col in TABLES[name]])
            names.append(f"{name}.csv")
    (target / "LICENSE.txt").write_text(license_notice(), encoding="utf-8")
    names.append("LICENSE.txt")
    return names


def write_dump(directory: str | Path, fmt: str, now: dt.datetime | None = None) -> Path:
    """Write one dump into ``directory`` as ``toolverdict-<fmt>-<UTC time>/``; returns it.

    Written into a temporary directory in ``directory`` and renamed once complete.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    now = (now or timezone.now()).astimezone(dt.UTC).replace(microsecond=0)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {directory}: {exc.strerror}") from exc
    final = directory / f"toolverdict-{fmt}-{now:%Y%m%dT%H%M%SZ}"
    if final.exists():
        raise ExportError(f"{final} already exists")
    tables = collect(now)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-export-", dir=directory))
    except OSError as exc:
        raise ExportError(f"cannot write in {directory}: {exc.strerror}") from exc
    try:
        names = _write_tables(fmt, tables, tmp, now)
        files = {name: _sha256(tmp / name) for name in names}
        manifest = _manifest(fmt, now, files, {k: len(v) for k, v in tables.items()})
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        # mkdtemp makes the directory private; a dump is public data, served to readers.
        os.chmod(tmp, 0o755)  # noqa: S103
        os.rename(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"cannot write the dump: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def dumps(directory: str | Path) -> list[tuple[str, dt.datetime, Path]]:
    """The complete dumps in ``directory``: (format, time, path), newest first."""
    directory = Path(directory)
    found = []
    if directory.is_dir():
        for entry in directory.iterdir():
            match = DUMP_NAME.match(entry.name)
            if match and entry.is_dir() and (entry / "manifest.json").is_file():
                when = dt.datetime.strptime(match.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
                found.append((match.group(1), when, entry))
    return sorted(found, key=lambda item: item[1], reverse=True)


def latest_dumps(directory: str | Path) -> dict[str, Path]:
    """The newest dump of each format."""
    latest: dict[str, Path] = {}
    for fmt, _when, path in dumps(directory):
        latest.setdefault(fmt, path)
    return latest


def prune(directory: str | Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest dumps of each format."""
    removed: list[Path] = []
    seen: dict[str, int] = {}
    for fmt, _when, path in dumps(directory):
        seen[fmt] = seen.get(fmt, 0) + 1
        if seen[fmt] > max(keep, 1):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
