"""Source checks: fetch every cited URL and record what each fetch found.

Fetching goes through fetching.py, as the feed reader's does: every connection, redirects
included, passes the address guard, so a cited URL cannot make this server reach its own
network; a timeout per read, an overall deadline covering headers and body alike, and a
size limit bound each fetch; a descriptive User-Agent names the checker. Requests to one
host go one at a time, each ``TOOLVERDICT_SOURCES_HOST_INTERVAL`` seconds after the
previous answer, while up to ``TOOLVERDICT_SOURCES_CONCURRENCY`` hosts are checked at
once. What a check found is kept by the catalog (catalog/sources.py: ``record``), which
also says what pages show.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx2 as httpx
from django.conf import settings
from django.utils import timezone

from toolverdict import __version__
from toolverdict.catalog.models import Source
from toolverdict.catalog.sources import CheckResult, record, sync_sources

from .fetching import (
    AddressRefused,
    FetchError,
    TooLarge,
    guarded_client,
    iter_body,
    open_response,
)


def user_agent() -> str:
    """Names the checker and where its operator publishes what it does."""
    return (
        f"toolverdict-source-check/{__version__} "
        f"(+{settings.SITE_URL}/data/; checks that pages cited by the catalog are reachable)"
    )


def source_client(timeout: float | None = None) -> httpx.Client:
    """An HTTP client whose every connection (redirect hops included) passes the ingest's
    address guard; one per host batch, so its connections are reused."""
    timeout = settings.TOOLVERDICT_SOURCES_TIMEOUT if timeout is None else timeout
    return guarded_client(timeout=timeout, user_agent=user_agent())


def fetch_source(
    url: str,
    *,
    client: httpx.Client | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> CheckResult:
    """GET ``url`` through the address guard and record the outcome; never raises for a
    network or HTTP problem (that is the outcome)."""
    timeout = settings.TOOLVERDICT_SOURCES_TIMEOUT if timeout is None else timeout
    max_bytes = settings.TOOLVERDICT_SOURCES_MAX_BYTES if max_bytes is None else max_bytes
    now = timezone.now()
    # What the server said before a failure, kept for the record of that failure.
    seen: dict = {}

    def result(outcome: str, detail: str = "", **kwargs) -> CheckResult:
        return CheckResult(
            url=url, outcome=outcome, checked_at=now, detail=detail[:300], **seen, **kwargs
        )

    own = client is None
    if client is None:
        client = source_client(timeout)
    try:
        with (
            client if own else contextlib.nullcontext(client),  # the caller closes theirs
            open_response(url, client=client, timeout=timeout) as response,
        ):
            seen.update(http_status=response.status_code, final_url=str(response.url)[:2000])
            if response.status_code >= 400:
                return result(Source.Outcome.HTTP_ERROR, f"HTTP {response.status_code}")
            digest = hashlib.sha256()
            for chunk in iter_body(response, max_bytes):
                digest.update(chunk)
            return result(Source.Outcome.OK, content_sha256=digest.hexdigest())
    except AddressRefused as exc:
        return result(Source.Outcome.REFUSED, str(exc))
    except TooLarge as exc:
        return result(Source.Outcome.TOO_LARGE, exc.detail)
    except FetchError as exc:  # a timeout, an unresolvable host, a refused redirect
        return result(Source.Outcome.UNREACHABLE, str(exc))


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
