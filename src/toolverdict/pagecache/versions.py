"""Versioned cache scopes: what a page depends on, and exact invalidation on commit.

A *scope* names a part of the site: ``catalog`` (any catalog edit), ``tool:<slug>`` (one
tool's reviews and votes), ``pair:<a>:<b>`` (one head-to-head), ``category:<slug>`` (the
reviews and votes of the tools in one category), ``reviews``, ``votes``, ``votes:tools`` and
``digest``. The names belong to the apps that bump them (``catalog/scopes.py`` builds the
catalog's); this module only versions strings. Each scope has a version: the time in
nanoseconds of the last committed write
that changed it (0 if none yet in the database; in a cache, where a version can be
evicted, a missing one is set to the time it was found missing). A cached page is keyed
by the versions of the scopes it shows, so bumping a scope retires exactly the pages that
depend on it.

Versions live where every process can see them: in the database (table
``pagecache_cacheversion``) when the page cache is per process (local memory), or in the
shared cache itself (Redis) when ``CACHE_URL`` names one. Writes bump versions in
``transaction.on_commit``, so a reader can never store a page rendered from data older than
the version it is keyed with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction

CACHE_PREFIX = "tv:v:"
#: The cache alias holding stored pages (and, in a shared cache, the versions): its own,
#: so a flood of distinct URLs never culls the rate-limit counters in "default".
ALIAS = "pagecache"


def _store_kind() -> str:
    kind = settings.TOOLVERDICT_PAGE_CACHE_VERSIONS or "auto"
    if kind != "auto":
        return kind
    if per_process_cache() or _pages_backend().endswith("DatabaseCache"):
        return "db"  # a database cache would only add pickling and expiry to the same read
    return "cache"


def _pages_backend() -> str:
    return settings.CACHES.get(ALIAS, settings.CACHES["default"]).get("BACKEND", "")


def per_process_cache() -> bool:
    """Is the page cache local to each process (local memory), not shared between them?"""
    return _pages_backend().endswith(("LocMemCache", "DummyCache"))


def get_versions(scopes: Iterable[str]) -> dict[str, int]:
    """The current version of each scope, in one round trip."""
    scopes = list(scopes)
    if not scopes:
        return {}
    if _store_kind() == "cache":
        cache = caches[ALIAS]
        found = cache.get_many([CACHE_PREFIX + s for s in scopes])
        missing = [s for s in scopes if CACHE_PREFIX + s not in found]
        if missing:
            # Never seen, or evicted (Redis under maxmemory, a culled file cache): a fresh
            # version, so no page stored under an earlier one can come back. ``add`` keeps
            # the first writer's value when processes race; read back what won.
            now = time.time_ns()
            for scope in missing:
                cache.add(CACHE_PREFIX + scope, now, timeout=None)
            found.update(cache.get_many([CACHE_PREFIX + s for s in missing]))
        return {s: int(found.get(CACHE_PREFIX + s, 0)) for s in scopes}
    rows = _read_db(scopes)
    return {s: int(rows.get(s, 0)) for s in scopes}


def _read_db(scopes: list[str]) -> dict[str, int]:
    """The stored versions of ``scopes``: one query, which is also the health check.

    With ``CONN_HEALTH_CHECKS`` (on for PostgreSQL) Django sends ``SELECT 1`` before the
    first query of every request on a reused connection. On a 304 this read is the only
    query, so the check doubled its round trips. Here the read itself is the check: it
    runs at once on the open connection, and if that connection has died (the server
    restarted), it is closed and the read made again on a new one. Inside a transaction
    (tests, a view's atomic block, autocommit turned off) Django's own path is taken,
    unchanged, and the connection is never closed under it.
    """
    from .models import CacheVersion

    table = connection.ops.quote_name(CacheVersion._meta.db_table)
    marks = ", ".join(["%s"] * len(scopes))
    sql = f"SELECT scope, version FROM {table} WHERE scope IN ({marks})"  # noqa: S608 - fixed table name, bound values
    optimistic = (
        connection.health_check_enabled
        and not connection.health_check_done
        and connection.connection is not None
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )
    if optimistic:
        connection.health_check_done = True
        try:
            if connection.vendor == "postgresql":
                found = _read_libpq(connection.connection.pgconn, table, scopes)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(sql, scopes)
                    found = dict(cursor.fetchall())
        except Exception:  # noqa: BLE001 - a failed read is a failed health check
            found = None
        if found is not None:
            return found
        # What the health check would have found: drop the connection and read on a new
        # one (any other failure, a missing table say, is raised there by Django).
        connection.close()
    with connection.cursor() as cursor:
        cursor.execute(sql, scopes)
        return dict(cursor.fetchall())


def _read_libpq(pgconn: object, table: str, scopes: list[str]) -> dict[str, int] | None:
    """One parameterised query straight through libpq (psycopg's ``pgconn``).

    Django's cursor wrapper and psycopg's client-side cursor cost about 100 µs of CPU per
    query here, as much as the rest of a 304; this read runs on every page view, so it
    goes around them. The caller makes sure the connection is in autocommit with no
    transaction open; None when the server did not answer with rows.
    """
    from psycopg import pq

    marks = ", ".join(f"${i}" for i in range(1, len(scopes) + 1))
    result = pgconn.exec_params(
        f"SELECT scope, version FROM {table} WHERE scope IN ({marks})".encode(),  # noqa: S608 - fixed table name, bound values
        [s.encode() for s in scopes],
    )
    if result.status != pq.ExecStatus.TUPLES_OK:
        return None
    return {
        result.get_value(row, 0).decode(): int(result.get_value(row, 1))
        for row in range(result.ntuples)
    }


def bump(scopes: Iterable[str]) -> None:
    """Give every scope a new version now (call after commit; see ``invalidate``)."""
    scopes = sorted(set(scopes))
    if not scopes:
        return
    now = time.time_ns()
    if _store_kind() == "cache":
        caches[ALIAS].set_many({CACHE_PREFIX + s: now for s in scopes}, timeout=None)
        return
    from .models import CacheVersion

    # Rows are locked in scope order before they are written: one UPDATE … WHERE scope IN
    # locks them in whatever order its plan scans them, and two votes bumping overlapping
    # scopes deadlocked on PostgreSQL that way.
    with transaction.atomic():
        found = list(
            CacheVersion.objects.select_for_update()
            .filter(scope__in=scopes)
            .order_by("scope")
            .values_list("scope", flat=True)
        )
        CacheVersion.objects.filter(scope__in=found).update(version=now)
    missing = sorted(set(scopes) - set(found))
    if missing:
        CacheVersion.objects.bulk_create(
            [CacheVersion(scope=s, version=now) for s in missing], ignore_conflicts=True
        )
        # A row another writer created meanwhile holds that writer's version: set ours too.
        for scope in missing:
            CacheVersion.objects.filter(scope=scope).update(version=now)


# Keyword arguments of ``invalidate`` naming rows by primary key (``tools=[…]``), each
# turned into scopes at commit by the app that owns the rows (catalog/pagecache_hooks.py).
# One function may take several kinds, so related ids resolve in one query.
Expand = Callable[[dict[str, set[int]]], Iterable[str]]
_expanders: dict[str, Expand] = {}


def register_ids(*kinds: str, expand: Expand) -> None:
    """``invalidate(kind=[pk, …])`` for each of ``kinds``: ``expand({kind: pks})`` names
    the scopes, at commit, in one call for all the kinds it took."""
    for kind in kinds:
        _expanders[kind] = expand


class _Batch:
    """Scopes to bump when one transaction commits."""

    def __init__(self) -> None:
        self.scopes: set[str] = set()
        self.ids: dict[str, set[int]] = {}
        self.done = False

    def run(self) -> None:
        self.done = True
        scopes = set(self.scopes)
        by_expander: dict[Expand, dict[str, set[int]]] = {}
        for kind, pks in self.ids.items():
            if pks:
                by_expander.setdefault(_expanders[kind], {})[kind] = pks
        for expand, ids in by_expander.items():
            scopes.update(expand(ids))
        bump(scopes)


def invalidate(*scopes: str, **ids: Iterable[int]) -> None:
    """Retire the pages showing ``scopes`` once the current transaction commits.

    Keyword arguments name rows by primary key, each kind turned into scopes by the app
    that registered it (``register_ids``): the catalog's ``tools`` adds ``tool:<slug>`` and
    ``category:<slug>`` for each tool, ``categories_of`` only the tools' categories.
    Outside a transaction the bump happens at once. Consecutive calls in one transaction
    (an import saving many rows) are merged into one bump.
    """
    unknown = set(ids) - set(_expanders)
    if unknown:
        raise TypeError(f"invalidate() got ids of unregistered kinds: {sorted(unknown)}")
    conn = transaction.get_connection()
    batch = None
    if conn.in_atomic_block and conn.run_on_commit:
        sids, func, _robust = conn.run_on_commit[-1]
        owner = getattr(func, "__self__", None)
        same_savepoint = set(sids) == set(conn.savepoint_ids)
        if isinstance(owner, _Batch) and not owner.done and same_savepoint:
            batch = owner
    fresh = batch is None
    if fresh:
        batch = _Batch()
    batch.scopes.update(scopes)
    for kind, pks in ids.items():
        batch.ids.setdefault(kind, set()).update(pks)
    if fresh:
        transaction.on_commit(batch.run)
