"""Page throughput: the tool and comparison pages uncached, cached and as a 304, against a
minimal Django view, on SQLite and PostgreSQL, with each page cache backend.

Per database, gunicorn servers (2 workers each) run side by side on the same data: the
page cache off (every request renders: the "uncached" rows), on with the embedded default
(local memory per process, versions in the database), with Redis (``CACHE_URL``), and with
Django's file and database caches (pages and versions both in them). Endpoints are
interleaved in rounds so machine noise hits them alike; the ratios are the result, the
absolute numbers are not. Besides req/s (which on a small machine also measures the load
generator sharing its cores) it reports the server-side CPU per request: the gunicorn
processes, the Redis server and the PostgreSQL backends. Every client sends
``Accept-Encoding: gzip`` like a browser; the 304 rows send the page's ETag back.

    .venv/bin/python bench/pages.py [--seconds 2] [--rounds 3] [--concurrency 4]
        [--databases sqlite,postgres] [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
        [--redis-url redis://127.0.0.1:6379/14] [--caches local,Redis,file,database]
        [--markdown /tmp/pages_bench.md]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import re
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    SERVER_PIDS,
    bench_env,
    cpu_seconds,
    cpu_used,
    gunicorn,
    manage,
    process_tree,
    processes_named,
    summary,
    temp_data_dir,
)

MINIMAL = "/healthz"
PAGES = {
    "tool page": "/tools/claude-4-sonnet/",
    "comparison page": "/compare/claude-4-sonnet-vs-smolvlm-2-5/",
}
# The embedded default (local memory per process, versions in the database), Redis through
# CACHE_URL, and Django's file and database caches (pages and versions both in them).
CACHE_NAMES = ("local", "Redis", "file", "database")
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def request(base: str, path: str, headers: dict[str, str] | None = None):
    host, port = urlsplit(base).hostname, urlsplit(base).port
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip", **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def hammer(
    base: str,
    path: str,
    seconds: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> tuple[int, list[float]]:
    split = urlsplit(base)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    sent = {"Accept-Encoding": "gzip", **(headers or {})}

    def worker() -> None:
        conn = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            conn.request("GET", path, headers=sent)
            response = conn.getresponse()
            response.read()
            if response.status != expect:
                errors.append(f"{path}: HTTP {response.status}, expected {expect}")
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"errors while benchmarking: {errors[:3]}")
    return int(len(latencies) / elapsed), latencies


def median_int(values: list[int]) -> int:
    return sorted(values)[len(values) // 2]


def postgres_database(url: str, name: str, action: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def postgres_backends(url: str | None) -> list[int]:
    """Process ids of the PostgreSQL backends connected to the benchmark's database."""
    if not url:
        return []
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
    return [row[0] for row in rows]


def serving_processes(base: str, db_url: str | None) -> list[int]:
    """Every process that does work for a request to ``base``: the gunicorn master and
    workers, the Redis server, and the PostgreSQL backends of the benchmark's database
    (SQLite and the local cache work inside the workers)."""
    return (
        process_tree(SERVER_PIDS[base])
        + processes_named("redis-server")
        + (postgres_backends(db_url))
    )


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def page_weight(base: str, path: str) -> dict[str, int]:
    """Bytes on the wire (gzip accepted) and requests for one page and its assets."""
    response, body = request(base, path)
    html_raw = len(gzip.decompress(body)) if response.getheader("Content-Encoding") else len(body)
    total, raw_total = len(body), html_raw
    text = (gzip.decompress(body) if response.getheader("Content-Encoding") else body).decode()
    assets = sorted(set(a.replace("&amp;", "&") for a in ASSET.findall(text)))
    for asset in assets:
        r, b = request(base, asset)
        total += len(b)
        raw_total += len(gzip.decompress(b)) if r.getheader("Content-Encoding") else len(b)
    return {
        "html": len(body),
        "html_raw": html_raw,
        "total": total,
        "total_raw": raw_total,
        "requests": 1 + len(assets),
    }


def prepare(env: dict[str, str], panel: bool) -> None:
    manage(env, "migrate", "-v0")
    manage(env, "import", "--starter")
    if panel:
        # A full four-persona panel on both tools, so the pages render real scorecards;
        # written by the scripted stand-in model (the panel benchmark times the model).
        manage(
            {
                **env,
                "PYTHONPATH": f"{env['PYTHONPATH']}:{ROOT}",
                "TOOLVERDICT_PANEL_MODEL": "python:tests.panel.fakes.ScriptedModel",
            },
            "review",
            "claude-4-sonnet",
            "smolvlm-2-5",
        )


def run_database(args, label: str, db_url: str | None) -> tuple[list[tuple], dict]:
    with temp_data_dir() as data_dir, ExitStack() as stack:
        extra = {"DATABASE_URL": db_url} if db_url else {}
        env = bench_env(data_dir, **extra)
        # Pages must not roll over on the clock mid-run.
        env["TOOLVERDICT_PAGE_CACHE_TIMEOUT"] = "0"
        env.pop("CACHE_URL", None)
        prepare(env, not args.no_panel)
        flush_redis(args.redis_url)
        cache_urls = {
            "local": None,
            "Redis": args.redis_url,
            "file": f"filecache://{data_dir / 'filecache'}",
            "database": "dbcache://toolverdict_page_cache",
        }
        chosen = [c for c in CACHE_NAMES if c in args.caches]
        if "database" in chosen:
            manage({**env, "CACHE_URL": cache_urls["database"]}, "createcachetable")
        servers = {
            "uncached": stack.enter_context(
                gunicorn({**env, "TOOLVERDICT_PAGE_CACHE": "0"}, workers=2)
            )
        }
        for cache in chosen:
            extra_env = {"CACHE_URL": cache_urls[cache]} if cache_urls[cache] else {}
            servers[cache] = stack.enter_context(gunicorn({**env, **extra_env}, workers=2))
        page = request(servers[chosen[0]], PAGES["comparison page"])[1]
        text = gzip.decompress(page).decode()
        # Eight review cards (four personas on each tool), whatever each one decided: the
        # verdicts follow the rubric, so not all of them are "ship".
        verdicts = sum(text.count(f"verdict verdict-{v}") for v in ("ship", "skip", "insufficient"))
        if not args.no_panel and verdicts < 8:
            raise SystemExit("the panel was not written; the benchmark would be meaningless")
        etags: dict[tuple[str, str], str] = {}
        cases: list[tuple[str, str, str, dict, int]] = [
            ("minimal view (/healthz)", chosen[0], MINIMAL, {}, 200)
        ]
        for name, path in PAGES.items():
            cases.append((f"{name}, uncached", "uncached", path, {}, 200))
            for cache in chosen:
                response, _ = request(servers[cache], path)
                etags[(cache, path)] = response.getheader("ETag")
                for _ in range(3):  # every worker stores it
                    request(servers[cache], path)
                cases += [
                    (f"{name}, cached ({cache})", cache, path, {}, 200),
                    (
                        f"{name}, 304 ({cache})",
                        cache,
                        path,
                        {"If-None-Match": etags[(cache, path)]},
                        304,
                    ),
                ]
        for _, server, path, headers, expect in cases:  # warm-up
            hammer(servers[server], path, 0.5, 1, headers, expect)
        results = {c[0]: ([], []) for c in cases}
        cpu = {c[0]: 0.0 for c in cases}
        for _ in range(args.rounds):
            for name, server, path, headers, expect in cases:
                watched = serving_processes(servers[server], db_url)
                before = cpu_seconds(watched)
                rps, lat = hammer(
                    servers[server], path, args.seconds, args.concurrency, headers, expect
                )
                cpu[name] += cpu_used(before, cpu_seconds(watched))
                results[name][0].append(rps)
                results[name][1].extend(lat)
        weights = {name: page_weight(servers[chosen[0]], path) for name, path in PAGES.items()}
        weights_uncached = {
            name: page_weight(servers["uncached"], path) for name, path in PAGES.items()
        }
    base_rps = median_int(results[cases[0][0]][0])
    base_p50 = summary(results[cases[0][0]][1])["p50_ms"]
    per_request = {name: cpu[name] / max(1, len(lat)) for name, (_, lat) in results.items()}
    base_cpu = per_request[cases[0][0]]
    rows = []
    for name, (rps_rounds, lat) in results.items():
        rps = median_int(rps_rounds)
        s = summary(lat)
        rows.append(
            (
                label,
                name,
                rps,
                s["p50_ms"],
                s["p99_ms"],
                rps / base_rps,
                s["p50_ms"] / base_p50,
                per_request[name] * 1e6,
                base_cpu / per_request[name] if per_request[name] else float("nan"),
            )
        )
    return rows, {"cached": weights, "uncached": weights_uncached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-panel", action="store_true", help="pages without reviews")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--caches",
        default=",".join(CACHE_NAMES),
        type=lambda text: [c.strip() for c in text.split(",") if c.strip()],
        help=f"page cache backends to compare, of {', '.join(CACHE_NAMES)}",
    )
    parser.add_argument("--markdown", help="also write the tables as Markdown to this file")
    args = parser.parse_args()
    unknown = set(args.caches) - set(CACHE_NAMES)
    if unknown or not args.caches:
        parser.error(f"--caches takes some of {', '.join(CACHE_NAMES)}; got {args.caches}")

    rows: list[tuple] = []
    weights: dict[str, dict] = {}
    for database in args.databases.split(","):
        if database == "sqlite":
            found, w = run_database(args, "SQLite", None)
        elif database == "postgres":
            url = postgres_database(args.postgres_url, "toolverdict_bench_pages", "create")
            try:
                found, w = run_database(args, "PostgreSQL", url)
            finally:
                postgres_database(args.postgres_url, "toolverdict_bench_pages", "drop")
        else:
            raise SystemExit(f"unknown database {database!r}")
        rows += found
        weights[database] = w

    lines = [
        f"gunicorn 2 workers per server, {args.concurrency} keep-alive clients sending "
        f"Accept-Encoding: gzip, {args.rounds} rounds x {args.seconds}s per endpoint, "
        "starter catalog"
        + ("" if args.no_panel else ", four-persona panel on both compared tools"),
        "",
        "| database | endpoint | req/s | p50 ms | p99 ms | req/s vs minimal | p50 vs minimal "
        "| server CPU µs/req | capacity vs minimal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, rps, p50, p99, ratio, p50_ratio, cpu_us, capacity in rows:
        figures = (
            f"{rps} | {p50:.2f} | {p99:.2f} | {ratio:.2f}x | {p50_ratio:.2f}x | "
            f"{cpu_us:.0f} | {capacity:.2f}x"
        )
        lines.append(f"| {label} | {name} | {figures} |")
    lines += [
        "",
        "Server CPU µs/req: user + system CPU of the gunicorn master and workers, the Redis "
        "server and the PostgreSQL backends, per request; capacity = the minimal view's CPU "
        "per request over the endpoint's (the request rate one core would serve, relative). "
        "Unlike req/s it does not count the load generator, which shares the machine.",
        "",
        "Goals (cached >= 0.5x minimal and >= 8x uncached; 304 >= 0.8x minimal), "
        "as req/s | as capacity:",
        "",
    ]
    by = {(r[0], r[1]): r for r in rows}
    for label in sorted({r[0] for r in rows}):
        for page in PAGES:
            uncached = by[(label, f"{page}, uncached")]
            for cache in [c for c in CACHE_NAMES if c in args.caches]:
                cached = by[(label, f"{page}, cached ({cache})")]
                not_modified = by[(label, f"{page}, 304 ({cache})")]
                lines.append(
                    f"- {label}, {page}, {cache}: cached {cached[5]:.2f}x | {cached[8]:.2f}x "
                    f"minimal, {cached[2] / uncached[2]:.1f}x | {cached[8] / uncached[8]:.1f}x "
                    f"uncached; 304 {not_modified[5]:.2f}x | {not_modified[8]:.2f}x minimal"
                )
    lines += [
        "",
        "Page weight (bytes on the wire with gzip accepted; all requests: HTML + its assets):",
        "",
        "| page | HTML bytes (raw) | all bytes (raw) | requests | uncached HTML bytes |",
        "|---|---:|---:|---:|---:|",
    ]
    first = next(iter(weights.values()))
    for page in PAGES:
        w, u = first["cached"][page], first["uncached"][page]
        lines.append(
            f"| {page} | {w['html']} ({w['html_raw']}) | {w['total']} ({w['total_raw']}) | "
            f"{w['requests']} | {u['html']} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
