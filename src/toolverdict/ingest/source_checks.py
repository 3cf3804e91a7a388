"""Source checks: fetch every cited URL and record what each fetch found.

Fetching follows the feed reader's rules (feed_reader.py): every connection, redirects
included, goes through the address guard, so a cited URL cannot make this server reach
its own network; timeouts, an overall deadline and a size limit bound each fetch; a
descriptive User-Agent names the checker. Requests to one host go one at a time, each
``TOOLVERDICT_SOURCES_HOST_INTERVAL`` seconds after the previous answer, while up to
``TOOLVERDICT_SOURCES_CONCURRENCY`` hosts are checked at once. What a check found is kept
by the catalog (catalog/sources.py: ``record``), which also says what pages show.
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

from .feed_reader import AddressRefused, FeedError, guarded_transport

MAX_REDIRECTS = 5
_REDIRECT_CODES = (301, 302, 303, 307, 308)


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
