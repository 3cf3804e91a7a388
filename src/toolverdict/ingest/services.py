"""Ingestion services: feeds to candidates, submissions to the catalog, the daily pipeline.

The daily pipeline is a sequence of stages, each driven by database state so that a crash
half way, a second tick or a re-run of the same day repeats no work:

1. **ingest**   read every active feed; store entries not seen before (unique per feed).
2. **dedupe**   turn this run's new entries, and any earlier run's entries left without a
                candidate, into candidates; mark those already known.
3. **import**   new candidates enter the catalog through the catalog importer (hidden).
4. **review**   the panel reviews the new tools and the tools changed since the last run.
5. **compare**  each new tool gets its most similar published rival in its category.
6. **publish**  the new tools become visible, with their panel and their "A vs B" page.

Feeds are fetched before any transaction opens (network time never holds the SQLite
write lock) and one feed's failure is recorded against that feed, never the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify
from pydantic import ValidationError

from toolverdict.catalog.importer import upsert_tool
from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.schema import ToolIn
from toolverdict.catalog.services import canonical_pair, set_published
from toolverdict.catalog.signals import tools_changed

from . import dedupe, feeds
from .models import (
    Candidate,
    CandidateStatus,
    DailyComparison,
    Feed,
    FeedEntry,
    PipelineRun,
    RunStatus,
    Submission,
    SubmissionStatus,
)

log = logging.getLogger(__name__)

STAGES = ("ingest", "dedupe", "import", "review", "compare", "publish")


# --- turning text into catalog input ----------------------------------------------------

_LAUNCH_PREFIX = re.compile(
    r"^(?:introducing|announcing|launching|launched|launch|show hn|new|meet|released?)\b"
    r"\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(r"\s+[–—|-]\s+|:\s+|,\s+|\s+\(")


def name_from_title(title: str) -> str:
    """ "Introducing Acme Coder: an AI pair programmer" → "Acme Coder"."""
    name = _LAUNCH_PREFIX.sub("", title.strip()).strip()
    name = _NAME_SPLIT.split(name, maxsplit=1)[0].strip(" .!?\"'")
    if len(name) > 80:
        name = name[:80].rsplit(" ", 1)[0]
    return name or title[:80]


def _first_sentence(text: str, limit: int = 140) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return feeds.plain(sentence, limit)


def _domain(url: str) -> str:
    host = dedupe.normalise_url(url).split("/", 1)[0]
    return host[:80] or "unknown"


def unique_slug(name: str, taken: Callable[[str], bool] | None = None) -> str:
    """A catalog slug for ``name``: never containing "-vs-", at most 60 characters, unused."""
    # "GPT-4.1" → "gpt-4-1", as the catalog spells versions.
    base = _without_vs(slugify(re.sub(r"[._/+]+", "-", name))[:60].strip("-")) or "tool"
    taken = taken or (lambda slug: Tool.objects.filter(slug=slug).exists())
    slug, n = base, 2
    while taken(slug):
        suffix = f"-{n}"
        slug = _without_vs(base[: 60 - len(suffix)].rstrip("-")) + suffix
        n += 1
    return slug


def _without_vs(slug: str) -> str:
    """``slug`` with no "vs" segment anywhere, as the catalog requires.

    Each "vs" segment becomes "v": replacing "-vs-" once is not enough ("a-vs-vs-b" →
    "a-v-vs-b"), and a leading or trailing "vs" ("vs-code", "foo-vs") is refused too.
    """
    parts = ["v" if part == "vs" else part for part in slug.split("-")]
    return "-".join(part for part in parts if part)


def pydantic_errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'tool'}: {e['msg']}" for e in exc.errors()]


# --- feeds: ingest and dedupe -----------------------------------------------------------


@dataclass
class FeedResult:
    feed: Feed
    entries: list[feeds.RawEntry]
    error: str = ""


def read_feeds(feed_list: Sequence[Feed]) -> list[FeedResult]:
    """Fetch and parse every feed; an error is kept with its feed, never raised."""
    results = []
    for feed in feed_list:
        try:
            results.append(FeedResult(feed, feeds.read_feed(feed.url)))
        except feeds.FeedError as exc:
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
    tagline = _first_sentence(entry.summary) if entry.summary else ""
    if not tagline or dedupe.normalise_name(tagline) == dedupe.normalise_name(name):
        tagline = feeds.plain(entry.title, 140)
    homepage = entry.link
    return Candidate(
        entry=entry,
        name=name,
        name_key=dedupe.normalise_name(name)[:80],
        homepage=homepage,
        homepage_key=dedupe.normalise_url(homepage)[:500] if homepage else "",
        vendor=(feed.vendor or _domain(homepage))[:80] if homepage else (feed.vendor or "unknown"),
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
    later runs from storing them again. Entries of another run that is running right now
    are left to it.
    """
    stale = timezone.now() - dt.timedelta(seconds=settings.TOOLVERDICT_INGEST_STALE_AFTER)
    busy = PipelineRun.objects.filter(status=RunStatus.RUNNING, started_at__gte=stale).exclude(
        pk=run.pk
    )
    with transaction.atomic():
        return (
            FeedEntry.objects.filter(candidate__isnull=True)
            .exclude(run=run)
            .exclude(run__in=busy)
            .update(run=run)
        )


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
    category_slugs = dict(Category.objects.values_list("pk", "slug"))
    # Invalid entries are set aside first, so that no valid entry is ever taken for a
    # duplicate of one that cannot be imported.
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
    items = [
        dedupe.Item(i, c.name, c.homepage, f"{c.name}. {c.tagline}") for i, c in enumerate(valid)
    ]
    matches = dedupe.find_duplicates(items, known_index(embedder)) if valid else []
    for candidate, match in zip(valid, matches, strict=True):
        if match is not None:
            candidate.status = CandidateStatus.DUPLICATE
            candidate.duplicate_reason = match.reason
            candidate.duplicate_of_id = match.known if match.known is not None else None
            candidate.similarity = match.similarity
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
            "pricing": candidate.pricing,
            "facts": [
                {
                    "key": "announcement",
                    "value": feeds.plain(candidate.entry.title, 300)
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


# --- panel and comparisons --------------------------------------------------------------


def panel_reviewer() -> Callable[..., Any] | None:
    """The panel's ``review_tools`` when the panel app provides it."""
    from toolverdict.panel import services as panel_services

    return getattr(panel_services, "review_tools", None)


def review(tool_ids: Sequence[int], model: Any = None) -> tuple[int, str]:
    """Run the panel on ``tool_ids``; returns (tools reviewed, a note for the run record).

    A panel failure is recorded, not raised: the tools still get published, and the
    panel's own queue reviews them later.
    """
    if not tool_ids:
        return 0, ""
    reviewer = panel_reviewer()
    if reviewer is None:
        return 0, "panel unavailable"
    limit = settings.TOOLVERDICT_INGEST_REVIEW_LIMIT
    now_ids, later_ids = list(tool_ids[:limit]), list(tool_ids[limit:])
    notes = []
    try:
        outcomes = reviewer(now_ids, model=model)
    except Exception as exc:  # noqa: BLE001 - recorded on the run; publishing goes on
        log.exception("panel review failed for %s", now_ids)
        return 0, f"panel failed: {type(exc).__name__}: {str(exc)[:300]}"
    # The panel reports one outcome per persona review; say how many failed, if any.
    failed = sum(1 for o in outcomes or [] if getattr(o, "status", "") == "failed")
    if failed:
        notes.append(f"{failed} persona reviews failed")
    if later_ids:
        from toolverdict.panel import services as panel_services

        enqueue = getattr(panel_services, "enqueue_panel", None)
        try:
            if enqueue is None:
                raise LookupError("the panel has no queue")
            enqueue(later_ids)
            notes.append(f"{len(later_ids)} more tools left to the panel queue")
        except Exception as exc:  # noqa: BLE001 - recorded; the next run reviews them
            log.exception("could not queue the panel for %s", later_ids)
            notes.append(f"{len(later_ids)} tools over the review limit not queued: {exc}")
    return len(now_ids), "; ".join(notes)[:500]


def run_tool_ids(run: PipelineRun) -> list[int]:
    """Tools this run brought into the catalog."""
    return list(
        Candidate.objects.filter(run=run, status=CandidateStatus.IMPORTED, tool__isnull=False)
        .order_by("pk")
        .values_list("tool_id", flat=True)
    )


def changed_since_last_run(run: PipelineRun) -> list[int]:
    """Tools created or changed (import, admin, approved submissions) since the previous
    finished run started; none on the very first run (the catalog import has its own)."""
    previous = (
        PipelineRun.objects.filter(day__lt=run.day, status=RunStatus.DONE).order_by("-day").first()
    )
    if previous is None or previous.started_at is None:
        return []
    # The previous run's own new tools were reviewed by it, unless edited since it ended.
    its_own = Q(pk__in=run_tool_ids(previous)) & Q(
        updated_at__lt=previous.finished_at or timezone.now()
    )
    return list(
        Tool.objects.filter(updated_at__gte=previous.started_at, is_published=True)
        .exclude(its_own)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def choose_comparison(
    tool_ids: Sequence[int],
    day: dt.date,
    *,
    run: PipelineRun | None = None,
    source: str = "pipeline",
    embedder: dedupe.Embedder | None = None,
) -> list[DailyComparison]:
    """Pair each tool with the most similar published tool of its category.

    A tool already paired (on any day) keeps its pair, so repeating this changes nothing.
    """
    already = set(
        DailyComparison.objects.filter(tool_id__in=tool_ids).values_list("tool_id", flat=True)
    )
    tools = list(Tool.objects.filter(pk__in=tool_ids).exclude(pk__in=already).order_by("pk"))
    if not tools:
        return []
    embedder = embedder or dedupe.get_embedder()  # loaded only when there is work
    by_category: dict[int, list[Tool]] = defaultdict(list)
    for tool in tools:
        by_category[tool.category_id].append(tool)
    made: list[DailyComparison] = []
    for category_id, group in by_category.items():
        pool = list(
            Tool.objects.published()
            .filter(category_id=category_id)
            .exclude(pk__in=tool_ids)
            .values_list("pk", "name", "homepage", "tagline")
        )
        rivals = dedupe.best_rivals(
            tool_items([(t.pk, t.name, t.homepage, t.tagline) for t in group]),
            tool_items(pool),
            embedder,
        )
        slugs = dict(
            Tool.objects.filter(pk__in=[r[0] for r in rivals if r]).values_list("pk", "slug")
        )
        for tool, rival in zip(group, rivals, strict=True):
            if rival is None:
                continue
            rival_id, similarity = rival
            left, right = canonical_pair(tool.slug, slugs[rival_id])
            made.append(
                DailyComparison(
                    day=day,
                    run=run,
                    source=source,
                    tool=tool,
                    rival_id=rival_id,
                    similarity=similarity,
                    left_slug=left,
                    right_slug=right,
                )
            )
    with transaction.atomic():
        DailyComparison.objects.bulk_create(made, ignore_conflicts=True)
    return made


def publish(tool_ids: Sequence[int]) -> int:
    """Make the run's new tools visible; returns how many changed."""
    with transaction.atomic():
        return set_published(list(tool_ids), True)


# --- the daily pipeline -----------------------------------------------------------------


def get_run(day: dt.date) -> PipelineRun:
    """The day's run record, created once (the unique day settles concurrent creators)."""
    try:
        with transaction.atomic():
            run, _ = PipelineRun.objects.get_or_create(day=day)
    except IntegrityError:
        run = PipelineRun.objects.get(day=day)
    return run


def _running_elsewhere(day: dt.date) -> bool:
    from .tasks import running_elsewhere

    return running_elsewhere(day)


def claim_run(day: dt.date, *, again: bool = False) -> PipelineRun | None:
    """Mark the day's run as running, unless it is done (or already running and alive).

    One UPDATE … WHERE decides, so two workers given the same day cannot both run it.
    """
    run = get_run(day)
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.TOOLVERDICT_INGEST_STALE_AFTER)
    claimable = Q(status__in=[RunStatus.QUEUED, RunStatus.FAILED])
    if run.status == RunStatus.RUNNING and not _running_elsewhere(day):
        # Taken over only once stale and not held by a live worker (core/recovery.py).
        claimable |= Q(status=RunStatus.RUNNING, started_at__lt=stale)
    if again:
        claimable |= Q(status=RunStatus.DONE)
    with transaction.atomic():
        claimed = (
            PipelineRun.objects.filter(pk=run.pk)
            .filter(claimable)
            .update(status=RunStatus.RUNNING, started_at=now, attempts=F("attempts") + 1, error="")
        )
    if not claimed:
        return None
    run.refresh_from_db()
    return run


def run_pipeline(
    day: dt.date | None = None,
    *,
    again: bool = False,
    model: Any = None,
    embedder: dedupe.Embedder | None = None,
) -> PipelineRun:
    """Run (or resume) the day's pipeline and return its record.

    A day that is done is left alone unless ``again``; even then only entries never seen
    before are ingested, so nothing is imported twice.
    """
    day = day or timezone.now().date()
    run = claim_run(day, again=again)
    if run is None:
        return get_run(day)
    try:
        active = list(Feed.objects.filter(is_active=True).order_by("pk"))
        store_entries(run, read_feeds(active))
        dedupe_entries(run, embedder)
        import_candidates(run)
        new_ids = run_tool_ids(run)
        fresh = set(new_ids)
        changed = [pk for pk in changed_since_last_run(run) if pk not in fresh]
        reviewed, note = review(new_ids + changed, model=model)
        with transaction.atomic():
            PipelineRun.objects.filter(pk=run.pk).update(
                reviewed=reviewed, panel_note=note, stage="review"
            )
        choose_comparison(new_ids, day, run=run, embedder=embedder)
        published = publish(new_ids)
        with transaction.atomic():
            PipelineRun.objects.filter(pk=run.pk).update(
                published=F("published") + published,
                stage="publish",
                status=RunStatus.DONE,
                finished_at=timezone.now(),
            )
    except Exception as exc:
        log.exception("pipeline for %s failed", day)
        with transaction.atomic():
            PipelineRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED,
                finished_at=timezone.now(),
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
    run.refresh_from_db()
    return run


# --- submissions ------------------------------------------------------------------------


def client_hash(address: str) -> str:
    """A keyed hash of the client address: abuse limits without storing raw IPs."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def rate_limited(client: str) -> bool:
    """Count one submission attempt; True once the client is over the hourly limit."""
    key = f"ingest:submit:{client}"
    limit = settings.TOOLVERDICT_SUBMISSIONS_PER_HOUR
    if cache.add(key, 1, timeout=3600):
        return limit < 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > limit


def submission_tool_in(submission: Submission, slug: str) -> ToolIn:
    """The catalog schema's input for a submission (raises pydantic's ValidationError)."""
    # The maker's statements, as of the day they were submitted (not a check of the source).
    as_of = (submission.created_at or timezone.now()).date()
    return ToolIn.model_validate(
        {
            "slug": slug,
            "name": submission.name,
            "vendor": submission.vendor,
            "category": submission.category.slug,
            "tagline": submission.tagline,
            "description": submission.description,
            "homepage": submission.homepage,
            "pricing": submission.pricing,
            "facts": [{**fact, "as_of": as_of} for fact in submission.facts],
        }
    )


def possible_duplicates(submissions: Sequence[Submission]) -> dict[int, Tool]:
    """For the moderation page: the catalog tool each submission may repeat."""
    if not submissions:
        return {}
    # A web request: the n-gram embedder (numpy only), never a model load in the web process.
    index = known_index(dedupe.NgramEmbedder())
    items = [dedupe.Item(s.pk, s.name, s.homepage, f"{s.name}. {s.tagline}") for s in submissions]
    matches = dedupe.find_duplicates(items, index)
    ids = {m.known for m in matches if m and m.known is not None}
    tools = Tool.objects.in_bulk(ids)
    return {
        s.pk: tools[m.known]
        for s, m in zip(submissions, matches, strict=True)
        if m and m.known in tools
    }


class ModerationError(Exception):
    """The submission cannot be approved as it stands; the message says why."""


def approve_submission(submission: Submission, moderator: Any) -> Tool:
    """Put a pending submission into the catalog (published) and queue its panel review
    and comparison. The tool goes through the catalog schema like any import."""
    from .tasks import follow_up_tool

    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != SubmissionStatus.PENDING:
            raise ModerationError(f"already {locked.get_status_display().lower()}")
        try:
            item = submission_tool_in(locked, unique_slug(locked.name))
        except ValidationError as exc:
            raise ModerationError("; ".join(pydantic_errors(exc))) from exc
        categories = {c.slug: c for c in Category.objects.filter(pk=locked.category_id)}
        tool, _ = upsert_tool(item, categories)
        locked.status = SubmissionStatus.APPROVED
        locked.tool = tool
        locked.moderator = moderator
        locked.moderated_at = timezone.now()
        locked.save()
        tool_ids = [tool.pk]
        transaction.on_commit(
            lambda: tools_changed.send(sender=Tool, tool_ids=tool_ids, reason="submission")
        )
        transaction.on_commit(lambda: _enqueue_follow_up(follow_up_tool, tool.pk))
    submission.refresh_from_db()
    return tool


def _enqueue_follow_up(task: Any, tool_id: int) -> None:
    try:
        task.enqueue(tool_id)
    except Exception:  # noqa: BLE001 - the approval has committed; the daily run reviews it
        log.exception("could not queue the follow-up of tool %s", tool_id)


def reject_submission(submission: Submission, moderator: Any, note: str = "") -> None:
    with transaction.atomic():
        updated = Submission.objects.filter(
            pk=submission.pk, status=SubmissionStatus.PENDING
        ).update(
            status=SubmissionStatus.REJECTED,
            moderator=moderator,
            moderated_at=timezone.now(),
            moderation_note=note[:500],
        )
    if not updated:
        raise ModerationError("only a pending submission can be rejected")
    submission.refresh_from_db()


def follow_up(tool_id: int, model: Any = None) -> tuple[int, str, list[DailyComparison]]:
    """After an approval: the panel reviews the tool, then it gets its comparison."""
    reviewed, note = review([tool_id], model=model)
    made = choose_comparison([tool_id], timezone.now().date(), source="submission")
    return reviewed, note, made
