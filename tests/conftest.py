"""Shared fixtures: the starter catalog, a small hand-made catalog, and a real browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ARTIFACTS = Path(os.environ.get("TOOLVERDICT_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM = os.environ.get("TOOLVERDICT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def no_span_model(settings):
    """Enrichment's line picking (enrich/spans.py) stays off unless a test turns it on:
    the real model is exercised by the tests marked ``model``."""
    settings.TOOLVERDICT_ENRICH_SPAN_MODEL = "off"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: stored pages are keyed by version rows that
    the previous test's rollback removed, so a page it stored could otherwise reappear."""
    from django.core.cache import caches

    from toolverdict.pagecache.store import front

    for cache in caches.all():
        cache.clear()
    front.clear()
    yield
    for cache in caches.all():
        cache.clear()
    front.clear()


@pytest.fixture(autouse=True)
def page_cache_where_commits_happen(request, settings):
    """The page cache retires pages when a write commits (docs/caching.md). Inside the
    transaction a plain database test rolls back, nothing ever commits, so a stored page
    would outlive the writes the test makes: those tests render every page afresh. Tests on
    a transactional database (live server, browser) keep the cache on, as do tests marked
    ``page_cache`` (they commit through django_capture_on_commit_callbacks)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if not (transactional or request.node.get_closest_marker("page_cache")):
        settings.TOOLVERDICT_PAGE_CACHE = False


@pytest.fixture
def starter_catalog(db):
    """The bundled starter catalog, imported for real."""
    from toolverdict.catalog.importer import import_path

    return import_path(settings.TOOLVERDICT_STARTER_CATALOG)


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (no browser download), per test module."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's async-safety
    # check would then refuse ORM calls from test code.
    # Limited to the browser test modules: restored when the module's browser closes.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def db_queue(settings):
    """The database task queue (django-tasks-db), as a site runs it: what a periodic job
    queues is a row that ``core.recovery.task_queued`` and ``task_alive`` can see."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "panel", "digest", "ingest"],
        }
    }
    return settings


@pytest.fixture
def fast_workers(db_queue):
    """The database queue with workers made by hand (as tests/core/test_recovery.py makes
    them): heartbeats every second, a worker dead after three, three attempts per task."""
    db_queue.TOOLVERDICT_WORKER_HEARTBEAT = 1
    db_queue.TOOLVERDICT_WORKER_STALE_AFTER = 3
    db_queue.TOOLVERDICT_TASK_MAX_ATTEMPTS = 3
    db_queue.TOOLVERDICT_TASK_ORPHAN_AFTER = 3600
    return db_queue


@pytest.fixture
def dummy_tasks(settings):
    """Tasks are recorded by django-tasks' dummy backend, not run: tests read what was queued."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "panel", "digest", "ingest"],
        }
    }
    from django_tasks import default_task_backend

    default_task_backend.clear()
    return default_task_backend
