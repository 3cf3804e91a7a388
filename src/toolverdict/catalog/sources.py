"""Source checks: fetch every cited URL and record what the fetch found.

A fact (or price point) cites a URL. Nothing in the catalog file says the URL was ever
fetched; only a check here records that, in ``Source`` (one row per URL): when it was
checked, the outcome (reachable, HTTP error, unreachable, refused by the address guard,
too large), the HTTP status, the final URL after redirects and a SHA-256 of the body. A
check says the page answered; it does not say the page still states the fact.

Fetching follows the ingest's rules (ingest/feeds.py): every connection, redirects
included, goes through the address guard, so a cited URL cannot make this server reach
its own network; timeouts, an overall deadline and a size limit bound each fetch; a
descriptive User-Agent names the checker. Requests to one host go one at a time, each
``TOOLVERDICT_SOURCES_HOST_INTERVAL`` seconds after the previous answer, while up to
``TOOLVERDICT_SOURCES_CONCURRENCY`` hosts are checked at once.

What a page shows for a source (``source_status``): "source cited, not yet checked" until
a check ran; "checked N days ago"; "source unreachable" after a check that did not reach
the page; "stale" when the last check that reached it is older than
``TOOLVERDICT_SOURCES_STALE_DAYS``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2 as httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from toolverdict import __version__

from .models import Fact, PricePoint, Source

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_REDIRECT_CODES = (301, 302, 303, 307, 308)
# A claimed batch belongs to its task for this long; a worker that died frees it after.
CLAIM_LEASE = dt.timedelta(hours=1)


def user_agent() -> str:
    """Names the checker and where its operator publishes what it does."""
    return (
        f"toolverdict-source-check/{__version__} "
        f"(+{settings.SITE_URL}/data/; checks that pages cited by the catalog are reachable)"
    )


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


def source_client(timeout: float | None = None) -> httpx.Client:
    """An HTTP client whose every connection (redirect hops included) passes the ingest's
    address guard; one per host batch, so its connections are reused."""
    from toolverdict.ingest.feeds import guarded_transport

    timeout = settings.TOOLVERDICT_SOURCES_TIMEOUT if timeout is None else timeout
    return httpx.Client(
        transport=guarded_transport(),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": user_agent(), "Accept": "*/*"},
        trust_env=False,
    )


def fetch_source(
    url: str,
    *,
    client: httpx.Client | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> CheckResult:
    """GET ``url`` through the address guard and record the outcome; never raises for a
    network or HTTP problem (that is the outcome)."""
    from toolverdict.ingest.feeds import AddressRefused, FeedError

    timeout = settings.TOOLVERDICT_SOURCES_TIMEOUT if timeout is None else timeout
    max_bytes = settings.TOOLVERDICT_SOURCES_MAX_BYTES if max_bytes is None else max_bytes
    now = timezone.now()
    deadline = time.monotonic() + 3 * timeout

    def result(outcome: str, detail: str = "", **kwargs) -> CheckResult:
        return CheckResult(url=url, outcome=outcome, checked_at=now, detail=detail[:300], **kwargs)

    own = client is None
    if client is None:
        client = source_client(timeout)
    try:
        with client if own else contextlib.nullcontext(client):  # the caller closes theirs
            target = httpx.URL(url)
            for _hop in range(MAX_REDIRECTS + 1):
                if target.scheme not in ("http", "https"):
                    return result(
                        Source.Outcome.UNREACHABLE, f"redirected to a {target.scheme!r} URL"
                    )
                with client.stream("GET", target) as response:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECT_CODES and location:
                        target = response.url.join(location)
                        continue
                    final = str(response.url)[:2000]
                    status = response.status_code
                    if status >= 400:
                        return result(
                            Source.Outcome.HTTP_ERROR,
                            f"HTTP {status}",
                            http_status=status,
                            final_url=final,
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        return result(
                            Source.Outcome.TOO_LARGE,
                            f"{int(declared):,} bytes (limit {max_bytes:,})",
                            http_status=status,
                            final_url=final,
                        )
                    digest = hashlib.sha256()
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            return result(
                                Source.Outcome.TOO_LARGE,
                                f"more than {max_bytes:,} bytes",
                                http_status=status,
                                final_url=final,
                            )
                        if time.monotonic() > deadline:
                            return result(
                                Source.Outcome.UNREACHABLE,
                                f"too slow: not complete after {3 * timeout:g} s",
                                http_status=status,
                                final_url=final,
                            )
                        digest.update(chunk)
                    return result(
                        Source.Outcome.OK,
                        http_status=status,
                        final_url=final,
                        content_sha256=digest.hexdigest(),
                    )
            return result(Source.Outcome.UNREACHABLE, f"more than {MAX_REDIRECTS} redirects")
    except AddressRefused as exc:
        return result(Source.Outcome.REFUSED, str(exc))
    except FeedError as exc:  # the host name does not resolve
        return result(Source.Outcome.UNREACHABLE, str(exc))
    except httpx.TimeoutException as exc:
        return result(
            Source.Outcome.UNREACHABLE, f"timed out after {timeout:g} s ({type(exc).__name__})"
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return result(Source.Outcome.UNREACHABLE, f"{type(exc).__name__}: {str(exc)[:200]}")


def host_of(url: str) -> str:
    """The host a URL's first request goes to: the unit of the polite rate."""
    return (urlsplit(url).hostname or "").lower()


def check_urls(
    urls: Iterable[str],
    *,
    interval: float | None = None,
    concurrency: int | None = None,
    fetch: Callable[[str], CheckResult] = fetch_source,
) -> list[CheckResult]:
    """Fetch every URL: one host's URLs one after another, each ``interval`` seconds after
    the previous answer, several hosts at once. Results come back in host order."""
    interval = settings.TOOLVERDICT_SOURCES_HOST_INTERVAL if interval is None else interval
    concurrency = settings.TOOLVERDICT_SOURCES_CONCURRENCY if concurrency is None else concurrency
    by_host: dict[str, list[str]] = defaultdict(list)
    for url in dict.fromkeys(urls):
        by_host[host_of(url)].append(url)

    def one_host(host_urls: list[str]) -> list[CheckResult]:
        results: list[CheckResult] = []
        last: float | None = None
        # The real fetch shares one client per host: its connection is kept alive.
        client = source_client() if fetch is fetch_source else None
        try:
            for url in host_urls:
                if last is not None:
                    wait = last + interval - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                results.append(fetch_source(url, client=client) if client else fetch(url))
                # Counted from the end of the answer: the host sees at least ``interval``
                # seconds between two requests, whatever the connection set-up took.
                last = time.monotonic()
        finally:
            if client is not None:
                client.close()
        return results

    if not by_host:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(by_host)))) as pool:
        return [r for batch in pool.map(one_host, by_host.values()) for r in batch]


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


def claim_due(now: dt.datetime | None = None, limit: int | None = None) -> list[str]:
    """Claim up to ``limit`` sources due a check (never checked, or not for
    ``TOOLVERDICT_SOURCES_RECHECK_DAYS``) for one task; nothing while another batch is out.

    One UPDATE … WHERE decides, so two schedulers cannot claim the same rows.
    """
    now = now or timezone.now()
    limit = settings.TOOLVERDICT_SOURCES_PER_RUN if limit is None else limit
    if Source.objects.filter(claimed_at__gte=now - CLAIM_LEASE).exists():
        return []  # a batch is being checked: one checker at a time keeps the rate polite
    recheck = now - dt.timedelta(days=settings.TOOLVERDICT_SOURCES_RECHECK_DAYS)
    due = (Q(checked_at__isnull=True) | Q(checked_at__lt=recheck)) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    )
    ids = list(
        Source.objects.filter(due)
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    with transaction.atomic():
        Source.objects.filter(pk__in=ids).filter(due).update(claimed_at=now)
    return list(
        Source.objects.filter(pk__in=ids, claimed_at=now)
        .order_by("pk")
        .values_list("url", flat=True)
    )


# --- recording and reading ----------------------------------------------------------------


@dataclass(frozen=True)
class SourceStatus:
    """What a page says about one cited URL."""

    state: str  # unchecked | ok | unreachable | stale
    label: str
    checked_at: dt.datetime | None = None
    detail: str = ""

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
            source.detail,
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
    """Store check results in one transaction and release their claim; retires the pages
    of the tools whose source status changed (on commit). Returns the changed URLs."""
    from toolverdict.pagecache.versions import invalidate

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
            source.claimed_at = None
            source.save()
            if _display_key(source, now) != before:
                changed.append(r.url)
        tool_ids = tools_citing(changed)
        if tool_ids:
            invalidate(tools=tool_ids)
    return changed


def check_sources(
    urls: Iterable[str] | None = None, *, progress: Callable[[CheckResult], None] | None = None
) -> list[CheckResult]:
    """Check ``urls`` (default: every cited URL) and record the results."""
    if urls is None:
        sync_sources()
        urls = sorted(Source.objects.values_list("url", flat=True))
    results = check_urls(urls)
    if progress:
        for r in results:
            progress(r)
    record(results)
    return results


def stale_or_dead(now: dt.datetime | None = None) -> dict[str, SourceStatus]:
    """Every flagged source (unreachable or stale), for the command's summary."""
    now = now or timezone.now()
    return {
        s.url: status
        for s in Source.objects.exclude(checked_at=None)
        if (status := source_status(s, now)).is_flagged
    }
