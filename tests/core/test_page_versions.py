"""Reading scope versions: one round trip per page view, and that round trip kept cheap.

The read runs on every page view (a 304 is nothing else), so these tests pin down what it
costs and that the shortcuts taken for speed lose no correctness: Django's Redis client is
reused instead of rebuilt, and on a reused database connection the read doubles as the
health check, reconnecting when the server has dropped the connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.redis_service import REDIS_URL, redis_reachable
from toolverdict.core.redis_cache import RedisCache
from toolverdict.pagecache import versions
from toolverdict.pagecache.models import CacheVersion

ROOT = Path(__file__).resolve().parents[2]


def test_a_redis_cache_url_gets_the_client_reusing_backend(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOOLVERDICT_"))}
    env.update(
        {
            "TOOLVERDICT_DATA_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT / "src"),
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "CACHE_URL": REDIS_URL,
        }
    )
    show = (
        "from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['pagecache']['BACKEND'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {show}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == ["toolverdict.core.redis_cache.RedisCache"] * 2


@pytest.mark.integration
@pytest.mark.skipif(not redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_the_redis_backend_keeps_one_client_and_still_works_from_many_threads():
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "client-reuse-test"})
    cache.clear()
    # Django's own client builds a new redis.Redis on every call; this one keeps it.
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    assert cache.add("a", 1) and not cache.add("a", 2)
    cache.set_many({"b": 2, "c": "three"})
    assert cache.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": 2, "c": "three"}

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"t{n}", i)
                assert cache.get(f"t{n}") == i
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.get_many([f"t{n}" for n in range(8)]) == {f"t{n}": 49 for n in range(8)}
    cache.clear()


def test_a_database_cache_keeps_versions_in_the_version_table(settings, db):
    settings.CACHES = {
        **settings.CACHES,
        "pagecache": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "toolverdict_page_cache",
        },
    }
    versions.bump(["tool:example"])
    row = CacheVersion.objects.get(scope="tool:example")
    assert versions.get_versions(["tool:example", "never"]) == {
        "tool:example": row.version,
        "never": 0,
    }


def _drop_connection_server_side() -> None:
    """What a database restart does to a persistent connection: it dies under us."""
    if connection.vendor == "postgresql":
        import psycopg

        pid = connection.connection.info.backend_pid

        dsn = connection.get_connection_params()
        dsn.pop("cursor_factory", None)
        dsn.pop("context", None)
        with psycopg.connect(**dsn, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:
        connection.connection.close()


@pytest.fixture
def catalog_version(monkeypatch, transactional_db) -> Iterator[int]:
    """The stored ``catalog`` version, at the start of a request on a reused connection
    with health checks on, then the connection closed so the next test starts afresh."""
    # On for PostgreSQL in settings; on here for SQLite too, so both take the same path.
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    versions.bump(["catalog"])
    version = CacheVersion.objects.get(scope="catalog").version
    # A new request on a reused connection (what request_started does).
    connection.close_if_unusable_or_obsolete()
    assert connection.connection is not None and connection.health_check_enabled
    yield version
    connection.close()  # the next test connects with the settings it expects


def test_the_version_read_is_the_health_check_and_reconnects_after_a_drop(
    monkeypatch, catalog_version
):
    expected = catalog_version

    checked: list[bool] = []
    wrapper = type(connections["default"])
    real = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checked.append(True) or real(self))
    assert versions.get_versions(["catalog"]) == {"catalog": expected}
    assert checked == []  # no separate "SELECT 1" before the read
    assert connection.health_check_done  # the read counted as the check for this request

    old = connection.connection
    _drop_connection_server_side()
    connection.close_if_unusable_or_obsolete()
    assert versions.get_versions(["catalog", "never"]) == {"catalog": expected, "never": 0}
    assert connection.connection is not old  # dropped, and read again on a new one
    # The connection is usable for the rest of the request.
    assert CacheVersion.objects.filter(scope="catalog").exists()


def test_the_version_read_never_closes_a_connection_holding_an_open_transaction(
    catalog_version,
):
    expected = catalog_version
    connection.set_autocommit(False)  # a transaction managed by hand, outside atomic()
    try:
        CacheVersion.objects.filter(scope="catalog").update(version=expected + 1)
        held = connection.connection
        # As if the read were the request's first query, which the health check waits for.
        connection.health_check_done = False
        # The read sees the transaction's own write: it ran inside it, on the same connection.
        assert versions.get_versions(["catalog"]) == {"catalog": expected + 1}
        assert connection.connection is held
        connection.rollback()
    finally:
        connection.set_autocommit(True)
    assert versions.get_versions(["catalog"]) == {"catalog": expected}
