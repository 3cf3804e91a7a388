"""Feeds to candidates: read every feed, store the entries not seen before, dedupe them
against the catalog, and import the new ones (hidden until the publish stage).

Stages 1 to 3 of the daily pipeline (pipeline.py). Feeds are fetched before any
transaction opens (network time never holds the SQLite write lock) and one feed's failure
is recorded against that feed, never the run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pydantic import ValidationError

from toolverdict.catalog.file_format import ToolIn
from toolverdict.catalog.importer import upsert_tool
from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.services import set_published
from toolverdict.catalog.signals import tools_changed

from . import dedupe, feed_reader
from .models import Candidate, CandidateStatus, Feed, FeedEntry, PipelineRun, RunStatus
from .naming import domain_of, first_sentence, name_from_title, pydantic_errors, unique_slug

log = logging.getLogger(__name__)


@dataclass
class FeedResult:
    feed: Feed
    entries: list[feed_reader.RawEntry]
    error: str = ""


def read_feeds(feed_list: Sequence[Feed]) -> list[FeedResult]:
    """Fetch and parse every feed; an error is kept with its feed, never raised."""
    results = []
    for feed in feed_list:
        try:
            results.append(FeedResult(feed, feed_reader.read_feed(feed.url)))
        except feed_reader.FeedError as exc:
            results.append(FeedResult(feed, [], str(exc)[:500]))
        except Exception as exc:  # noqa: BLE001 - a parser bug on one feed must not stop the run
            log.exception("feed %s failed unexpectedly", feed.url)
            results.append(FeedResult(feed, [], f"unexpected error: {type(exc).__name__}: {exc}"))
    return results


def store_entries(run: PipelineRun, results: Sequence[FeedResult]) -> int:
    """Store entries not seen before; returns how many were new. Updates feed status."""
    now = timezone.now()
    new_total = 0
    with transaction.atomic():
        for result in results:
            feed = result.feed
            feed.last_fetched_at = now
            # Keyed by pk: feed names need not be unique, and one feed's error must not
            # hide another's. The run page shows each feed's name and address.
            key = str(feed.pk)
            if result.error:
                feed.last_error = result.error
                run.feed_errors[key] = result.error
                feed.save(update_fields=["last_fetched_at", "last_error"])
                continue
            feed.last_ok_at, feed.last_error = now, ""
            run.feed_errors.pop(key, None)  # read on a re-run: the error is history
            feed.save(update_fields=["last_fetched_at", "last_ok_at", "last_error"])
            run.feeds_read += 1
            run.entries_in += len(result.entries)
            by_guid = {e.guid: e for e in result.entries}  # a feed repeating a guid: keep one
            seen = set(
                FeedEntry.objects.filter(feed=feed, guid__in=list(by_guid)).values_list(
                    "guid", flat=True
                )
            )
            fresh = [
                FeedEntry(
                    feed=feed,
                    guid=e.guid,
                    title=e.title,
                    link=e.link,
                    summary=e.summary,
                    published=e.published,
                    run=run,
                )
                for guid, e in by_guid.items()
                if guid not in seen
            ]
            FeedEntry.objects.bulk_create(fresh)
            new_total += len(fresh)
        run.new_entries += new_total
        run.stage = "ingest"
        run.save()
    return new_total


@dataclass(frozen=True)
class FeedErrorRow:
    name: str
    url: str
    error: str


def feed_error_rows(run: PipelineRun) -> list[FeedErrorRow]:
    """The run's feed errors with each feed's name and address, for the run page, the
    admin and the command. Keys are feed pks; a feed deleted since shows its pk, and a
    record written before errors were keyed by pk shows the feed name it was keyed by."""
    pks = [int(key) for key in run.feed_errors if str(key).isdigit()]
    by_pk = Feed.objects.in_bulk(pks)
    rows = []
    for key, error in run.feed_errors.items():
        feed = by_pk.get(int(key)) if str(key).isdigit() else None
        if feed is None:
            name = f"feed {key}" if str(key).isdigit() else str(key)
            rows.append(FeedErrorRow(name, "", str(error)))
        else:
            rows.append(FeedErrorRow(feed.name, feed.url, str(error)))
    return sorted(rows, key=lambda row: (row.name, row.url))


def _candidate_from_entry(entry: FeedEntry) -> Candidate:
    feed = entry.feed
    name = name_from_title(entry.title)
    tagline = first_sentence(entry.summary) if entry.summary else ""
    if not tagline or dedupe.normalise_name(tagline) == dedupe.normalise_name(name):
        tagline = feed_reader.plain(entry.title, 140)
    homepage = entry.link
    return Candidate(
        entry=entry,
        name=name,
        name_key=dedupe.normalise_name(name)[:80],
        homepage=homepage,
        homepage_key=dedupe.normalise_url(homepage)[:500] if homepage else "",
        vendor=(feed.vendor or domain_of(homepage))[:80]
        if homepage
        else (feed.vendor or "unknown"),
        tagline=tagline,
        description=entry.summary[:1500],
        category_id=feed.category_id,
        pricing=feed.pricing,
        source_url=entry.link or feed.url,
    )


def tool_items(tools: Sequence[tuple[int, str, str, str]]) -> list[dedupe.Item]:
    """(pk, name, homepage, tagline) rows as dedupe items."""
    return [
        dedupe.Item(pk, name, homepage, f"{name}. {tagline}")
        for pk, name, homepage, tagline in tools
    ]


def known_index(embedder: dedupe.Embedder | None = None) -> dedupe.KnownIndex:
    """Every catalog tool, published or not, indexed for dedupe."""
    rows = Tool.objects.order_by("pk").values_list("pk", "name", "homepage", "tagline")
    return dedupe.KnownIndex.build(tool_items(list(rows)), embedder or dedupe.get_embedder())


def adopt_orphan_entries(run: PipelineRun) -> int:
    """Give this run every stored entry that never got a candidate, whatever run stored it.

    A run that stored entries and then failed for good (or whose day ended) would
    otherwise leave them without a candidate forever: the (feed, guid) constraint keeps
    later runs from storing them again. Entries of another running run whose runner may
    be alive are left to it (``run_alive``: its worker's heartbeat decides, not a clock).
    """
    from .pipeline import run_alive

    others = PipelineRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=run.pk)
    busy = [other.pk for other in others if run_alive(other)]
    with transaction.atomic():
        return (
            FeedEntry.objects.filter(candidate__isnull=True)
            .exclude(run=run)
            .exclude(run__in=busy)
            .update(run=run)
        )


def _set_aside_invalid(candidates: list[Candidate], run: PipelineRun) -> list[Candidate]:
    """Mark the candidates that cannot be imported invalid, with the reason; returns the
    rest. Done before dedupe, so that no valid entry is ever taken for a duplicate of one
    that cannot be imported."""
    category_slugs = dict(Category.objects.values_list("pk", "slug"))
    valid: list[Candidate] = []
    for candidate in candidates:
        candidate.run = run
        if not candidate.homepage:
            candidate.status = CandidateStatus.INVALID
            candidate.problem = "the entry has no link to the tool"
            continue
        try:
            candidate_tool_in(
                candidate, "candidate", category_slugs[candidate.category_id], run.day
            )
        except ValidationError as exc:
            candidate.status = CandidateStatus.INVALID
            candidate.problem = "; ".join(pydantic_errors(exc))[:500]
            continue
        valid.append(candidate)
    return valid


def _mark_duplicates(
    valid: list[Candidate], embedder: dedupe.Embedder | None
) -> list[dedupe.Match | None]:
    """Mark the valid candidates the catalog already has (or an earlier one of the batch
    repeats); returns each one's match, None for the new ones."""
    if not valid:
        return []
    items = [
        dedupe.Item(i, c.name, c.homepage, f"{c.name}. {c.tagline}") for i, c in enumerate(valid)
    ]
    matches = dedupe.find_duplicates(items, known_index(embedder))
    for candidate, match in zip(valid, matches, strict=True):
        if match is not None:
            candidate.status = CandidateStatus.DUPLICATE
            candidate.duplicate_reason = match.reason
            candidate.duplicate_of_id = match.known if match.known is not None else None
            candidate.similarity = match.similarity
    return matches


def _save_candidates(
    run: PipelineRun,
    candidates: list[Candidate],
    valid: list[Candidate],
    matches: list[dedupe.Match | None],
) -> None:
    """Store the candidates, link duplicates of earlier ones, and count them on the run."""
    with transaction.atomic():
        Candidate.objects.bulk_create(candidates)
        linked = []
        for candidate, match in zip(valid, matches, strict=True):
            if match is not None and match.earlier is not None:
                candidate.duplicate_of_candidate_id = valid[match.earlier].pk
                linked.append(candidate)
        Candidate.objects.bulk_update(linked, ["duplicate_of_candidate"])
        counts = defaultdict(int)
        for candidate in candidates:
            counts[candidate.status] += 1
        run.new_candidates += counts[CandidateStatus.NEW]
        run.duplicates += counts[CandidateStatus.DUPLICATE]
        run.invalid += counts[CandidateStatus.INVALID]
        run.stage = "dedupe"
        run.save()


def dedupe_entries(run: PipelineRun, embedder: dedupe.Embedder | None = None) -> list[Candidate]:
    """Turn this run's entries that have no candidate yet into candidates, marking the ones
    the catalog (or an earlier entry of the same batch) already has."""
    adopt_orphan_entries(run)
    entries = list(
        FeedEntry.objects.filter(run=run, candidate__isnull=True)
        .select_related("feed")
        .order_by("pk")
    )
    if not entries:
        with transaction.atomic():
            run.stage = "dedupe"
            run.save(update_fields=["stage"])
        return []
    candidates = [_candidate_from_entry(e) for e in entries]
    valid = _set_aside_invalid(candidates, run)
    matches = _mark_duplicates(valid, embedder)
    _save_candidates(run, candidates, valid, matches)
    return candidates


def candidate_tool_in(candidate: Candidate, slug: str, category_slug: str, day: dt.date) -> ToolIn:
    """The catalog schema's input for a feed candidate (validated like any catalog file)."""
    return ToolIn.model_validate(
        {
            "slug": slug,
            "name": candidate.name,
            "vendor": candidate.vendor,
            "category": category_slug,
            "tagline": candidate.tagline,
            "description": candidate.description,
            "homepage": candidate.homepage,
            # The feed's pricing (kept on the candidate) is only a hint for the editor:
            # nothing has stated this tool's pricing yet.
            "pricing": "unknown",
            "facts": [
                {
                    "key": "announcement",
                    "value": feed_reader.plain(candidate.entry.title, 300)
                    if candidate.entry_id
                    else candidate.tagline,
                    "source": candidate.source_url,
                    "as_of": day,
                }
            ],
        }
    )


def import_candidates(run: PipelineRun) -> list[int]:
    """Import this run's new candidates into the catalog, hidden until publish.

    Each candidate is its own transaction: one that the catalog schema rejects is marked
    invalid with the reason, and the others still go in.
    """
    categories = {c.pk: c for c in Category.objects.all()}
    by_slug = {c.slug: c for c in categories.values()}
    imported: list[int] = []
    pending = Candidate.objects.filter(run=run, status=CandidateStatus.NEW).select_related("entry")
    for candidate in pending.order_by("pk"):
        category = categories[candidate.category_id]
        try:
            item = candidate_tool_in(candidate, unique_slug(candidate.name), category.slug, run.day)
        except ValidationError as exc:
            candidate.status = CandidateStatus.INVALID
            candidate.problem = "; ".join(pydantic_errors(exc))[:500]
            with transaction.atomic():
                candidate.save(update_fields=["status", "problem"])
                PipelineRun.objects.filter(pk=run.pk).update(invalid=F("invalid") + 1)
            continue
        with transaction.atomic():
            tool, _outcome = upsert_tool(item, by_slug)
            # Hidden until the publish stage, so it appears with its panel and comparison.
            set_published([tool.pk], False)
            candidate.status, candidate.tool = CandidateStatus.IMPORTED, tool
            candidate.save(update_fields=["status", "tool"])
            PipelineRun.objects.filter(pk=run.pk).update(imported=F("imported") + 1)
            tool_ids = [tool.pk]
            transaction.on_commit(
                lambda ids=tool_ids: tools_changed.send(sender=Tool, tool_ids=ids, reason="feed")
            )
        imported.append(tool.pk)
    run.refresh_from_db()
    run.stage = "import"
    run.save(update_fields=["stage"])
    return imported
