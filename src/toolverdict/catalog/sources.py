"""The record of source checks: which URLs are cited, which are due a check, what the last
check found, and what a page says about each.

A fact (or price point) cites a URL. Nothing in the catalog file says the URL was ever
fetched; only a check records that, in ``Source`` (one row per URL): when it was checked,
the outcome (reachable, HTTP error, unreachable, refused by the address guard, too
large), the HTTP status, the final URL after redirects and a SHA-256 of the body. A check
says the page answered; it does not say the page still states the fact. The fetching
itself is the ingest's (ingest/source_checks.py: the catalog reaches no network).

What a page shows for a source (``source_status``): "source cited, not yet checked" until
a check ran; "checked N days ago"; "source unreachable" after a check that did not reach
the page; "stale" when the last check that reached it is older than
``TOOLVERDICT_SOURCES_STALE_DAYS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Fact, PricePoint, Source
from .signals import sources_changed


@dataclass(frozen=True)
class CheckResult:
    """What one fetch of one URL found."""

    url: str
    outcome: str
    checked_at: dt.datetime
    http_status: int | None = None
    final_url: str = ""
    content_sha256: str = ""
    detail: str = ""


# --- which URLs ---------------------------------------------------------------------------


def cited_urls() -> set[str]:
    """Every URL a fact or price point of a published tool cites."""
    facts = Fact.objects.filter(tool__is_published=True).values_list("source_url", flat=True)
    prices = PricePoint.objects.filter(tool__is_published=True).values_list("source_url", flat=True)
    return set(facts.distinct()) | set(prices.distinct())


def sync_sources() -> tuple[int, int]:
    """One Source row per cited URL: adds the new ones, forgets those no longer cited.

    Returns (added, removed).
    """
    wanted = cited_urls()
    with transaction.atomic():
        known = set(Source.objects.values_list("url", flat=True))
        added = wanted - known
        Source.objects.bulk_create([Source(url=u) for u in sorted(added)], ignore_conflicts=True)
        removed, _ = Source.objects.exclude(url__in=wanted).delete() if known - wanted else (0, 0)
    return len(added), removed


def due_filter(now: dt.datetime) -> Q:
    """Sources due a check: never checked, or not for ``TOOLVERDICT_SOURCES_RECHECK_DAYS``."""
    recheck = now - dt.timedelta(days=settings.TOOLVERDICT_SOURCES_RECHECK_DAYS)
    return Q(checked_at__isnull=True) | Q(checked_at__lt=recheck)


def claim_due(
    free: Q | None, holder: str, now: dt.datetime | None = None, limit: int | None = None
) -> list[str]:
    """Claim up to ``limit`` due sources for the run ``holder`` of the checking task, among
    the rows ``free`` allows (``core.recovery.claims_free``: None while another run is at
    work, and one checker at a time keeps the rate polite). One UPDATE … WHERE decides, so
    two runs cannot claim the same rows.
    """
    if free is None:
        return []
    now = now or timezone.now()
    limit = settings.TOOLVERDICT_SOURCES_PER_RUN if limit is None else limit
    due = due_filter(now) & free
    ids = list(
        Source.objects.filter(due)
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    with transaction.atomic():
        Source.objects.filter(pk__in=ids).filter(due).update(claimed_by=holder, claimed_at=now)
    return list(
        Source.objects.filter(pk__in=ids, claimed_by=holder)
        .order_by("pk")
        .values_list("url", flat=True)
    )


# --- recording and reading ----------------------------------------------------------------


@dataclass(frozen=True)
class SourceStatus:
    """What a page says about one cited URL: the state and its label, nothing more.

    The check's own detail (``Source.detail``) stays with editors (the admin, the
    check-sources command): for a refused check it names the address the host resolved
    to, and a cited internal name would otherwise publish its address.
    """

    state: str  # unchecked | ok | unreachable | stale
    label: str
    checked_at: dt.datetime | None = None

    @property
    def is_flagged(self) -> bool:
        """Unreachable or stale: the reviews citing it are marked."""
        return self.state in ("unreachable", "stale")


UNCHECKED = SourceStatus("unchecked", "source cited, not yet checked")


def _ago(days: int) -> str:
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def source_status(source: Source | None, now: dt.datetime | None = None) -> SourceStatus:
    """The state and label of one source at ``now``."""
    if source is None or source.checked_at is None:
        return UNCHECKED
    now = now or timezone.now()
    if source.is_dead:
        reason = (
            f"HTTP {source.http_status}"
            if source.outcome == Source.Outcome.HTTP_ERROR and source.http_status
            else source.get_outcome_display().lower()
        )
        return SourceStatus(
            "unreachable",
            f"source unreachable ({reason}, checked {_ago((now - source.checked_at).days)})",
            source.checked_at,
        )
    last_ok = source.last_ok_at or source.checked_at
    days = (now - last_ok).days
    if days >= settings.TOOLVERDICT_SOURCES_STALE_DAYS:
        return SourceStatus("stale", f"stale: last checked {_ago(days)}", last_ok)
    return SourceStatus("ok", f"checked {_ago(days)}", last_ok)


def statuses_for(urls: Iterable[str], now: dt.datetime | None = None) -> dict[str, SourceStatus]:
    """The status of each URL (one query); URLs without a row are unchecked."""
    urls = set(urls)
    now = now or timezone.now()
    rows = {s.url: s for s in Source.objects.filter(url__in=urls)} if urls else {}
    return {url: source_status(rows.get(url), now) for url in urls}


def _display_key(source: Source | None, now: dt.datetime) -> tuple:
    status = source_status(source, now)
    return (status.state, source.outcome if source else "", source.http_status if source else None)


def tools_citing(urls: Iterable[str]) -> set[int]:
    urls = list(urls)
    if not urls:
        return set()
    return set(Fact.objects.filter(source_url__in=urls).values_list("tool_id", flat=True)) | set(
        PricePoint.objects.filter(source_url__in=urls).values_list("tool_id", flat=True)
    )


def record(results: Sequence[CheckResult], now: dt.datetime | None = None) -> list[str]:
    """Store check results in one transaction and release their claim. Returns the URLs
    whose status as pages show it changed; ``sources_changed`` announces them (with the
    tools citing them) once the transaction commits."""
    now = now or timezone.now()
    changed: list[str] = []
    with transaction.atomic():
        rows = {
            s.url: s
            for s in Source.objects.select_for_update().filter(url__in=[r.url for r in results])
        }
        for r in results:
            source = rows.get(r.url) or Source(url=r.url)
            before = _display_key(source if source.pk else None, now)
            source.checked_at = r.checked_at
            source.outcome = r.outcome
            source.http_status = r.http_status
            source.final_url = r.final_url
            source.content_sha256 = r.content_sha256
            source.detail = r.detail
            if r.outcome == Source.Outcome.OK:
                source.last_ok_at = r.checked_at
                source.failures = 0
            else:
                source.failures = min(source.failures + 1, 32767)
            source.claimed_by, source.claimed_at = "", None
            source.save()
            if _display_key(source, now) != before:
                changed.append(r.url)
        tool_ids = sorted(tools_citing(changed))
        if tool_ids:
            transaction.on_commit(
                lambda: sources_changed.send(sender=Source, urls=changed, tool_ids=tool_ids)
            )
    return changed


def stale_or_dead(now: dt.datetime | None = None) -> dict[str, SourceStatus]:
    """Every flagged source (unreachable or stale), for the command's summary."""
    now = now or timezone.now()
    return {
        s.url: status
        for s in Source.objects.exclude(checked_at=None)
        if (status := source_status(s, now)).is_flagged
    }
