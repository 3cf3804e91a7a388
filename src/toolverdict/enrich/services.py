"""Enrich a tool: read its homepage and the few pages it links that matter, extract what
they state, store it with its provenance.

Network first, with no transaction open (a slow site never holds the database's write
lock); then one transaction per tool (store.py). A site that cannot be read is recorded
on the tool's enrichment, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from toolverdict.catalog.models import Tool

from .discover import discover, same_site
from .extract import Extraction, extract
from .fetch import Fetcher, PageFetch
from .models import Enrichment
from .page import Page, parse_page
from .spans import Picks, pick_spans
from .store import StoreReport, store

log = logging.getLogger(__name__)


@dataclass
class ToolReport:
    tool: Tool
    fetches: list[PageFetch] = field(default_factory=list)
    extraction: Extraction = field(default_factory=Extraction)
    stored: StoreReport | None = None
    picks: Picks = field(default_factory=Picks)
    error: str = ""

    @property
    def pages_read(self) -> int:
        return sum(1 for f in self.fetches if f.ok)

    def summary(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        refused = [f"{f.url} ({f.outcome})" for f in self.fetches if not f.ok]
        stored = self.stored or StoreReport()
        text = (
            f"{self.pages_read} page(s) read, {len(stored.prices)} price(s) and "
            f"{len(stored.facts)} fact(s) extracted"
        )
        if stored.changes:
            text += f", {len(stored.changes)} price change(s)"
        if refused:
            text += "; not read: " + ", ".join(refused[:5])
        return text


def read_site(
    home: str, fetcher: Fetcher, max_pages: int | None = None
) -> tuple[list[PageFetch], list[Page]]:
    """Fetch the homepage and the pages it links that matter; parse the ones read."""
    max_pages = settings.TOOLVERDICT_ENRICH_MAX_PAGES if max_pages is None else max_pages
    first = fetcher.get(home)
    fetches, pages = [first], []
    if not first.ok:
        return fetches, pages
    page = parse_page(first.body, first.final_url or home)
    pages.append(page)
    targets = [
        url
        for _kind, url in discover(page.url, page.links, max(0, max_pages - 1))
        if same_site(url, home) or same_site(url, page.url)
    ]
    for url in targets:
        fetched = fetcher.get(url)
        fetches.append(fetched)
        if fetched.ok:
            pages.append(parse_page(fetched.body, fetched.final_url or url))
    return fetches, pages


def enrich_tool(tool: Tool, fetcher: Fetcher | None = None) -> ToolReport:
    """Read ``tool``'s own pages and store what they state; returns what happened."""
    fetcher = fetcher or Fetcher()
    report = ToolReport(tool)
    try:
        report.fetches, pages = read_site(tool.homepage, fetcher)
        report.extraction = extract(pages)
        report.picks = pick_spans(tool.name, pages, report.extraction)
    except Exception as exc:  # noqa: BLE001 - a parser bug on one site must not stop the run
        log.exception("enriching %s failed", tool.slug)
        report.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        report.extraction = Extraction(notes=[f"failed: {report.error}"])
        pages = []
    fetched_at = {}
    for fetched in report.fetches:
        if fetched.ok:
            fetched_at[fetched.final_url or fetched.url] = fetched.fetched_at
    if not report.fetches or not report.fetches[0].ok:
        outcome = Enrichment.Outcome.UNREACHABLE
    elif report.extraction.prices or report.extraction.facts:
        outcome = Enrichment.Outcome.EXTRACTED
    else:
        outcome = Enrichment.Outcome.NOTHING
    report.stored = store(
        tool.pk, report.extraction, fetched_at, [f.record() for f in report.fetches], outcome
    )
    return report


def enrich_tools(
    tools: Iterable[Tool],
    *,
    fetcher: Fetcher | None = None,
    progress: Callable[[ToolReport], None] | None = None,
) -> list[ToolReport]:
    """Enrich each tool in turn, sharing one fetcher (robots.txt and each host's pace)."""
    fetcher = fetcher or Fetcher()
    reports = []
    for tool in tools:
        report = enrich_tool(tool, fetcher)
        reports.append(report)
        if progress:
            progress(report)
    return reports


def enrich_ids(tool_ids: Iterable[int], **kwargs) -> list[ToolReport]:
    ids = list(tool_ids)
    tools = sorted(Tool.objects.filter(pk__in=ids), key=lambda t: ids.index(t.pk))
    return enrich_tools(tools, **kwargs)


def on_tools_arrived(tool_ids: Sequence[int]) -> str:
    """Read new tools' own pages before the panel sees them (registered with the ingest's
    arrivals); a note for the run record. A failure is recorded, not raised: the tools go on
    with what they have."""
    if not tool_ids or not settings.TOOLVERDICT_ENRICH_ON_ARRIVAL:
        return ""
    try:
        reports = enrich_ids(tool_ids)
    except Exception as exc:  # noqa: BLE001 - recorded on the run; the pipeline goes on
        log.exception("enrichment failed for %s", tool_ids)
        return f"enrichment failed: {type(exc).__name__}: {str(exc)[:200]}"
    values = sum(len(r.stored.prices) + len(r.stored.facts) for r in reports if r.stored)
    return f"enriched {len(reports)} tool(s): {values} value(s) extracted, unreviewed"
