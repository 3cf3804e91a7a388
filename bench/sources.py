"""Source checks and the open-data export, measured side by side in one run.

    .venv/bin/python bench/sources.py [--hosts 4] [--per-host 6] [--latency 0.05]
        [--interval 0.2] [--scale 10]

Source checks: one HTTP server per host on loopback (127.0.0.1, 127.0.0.2, …: Linux
routes all of 127/8 to the loopback interface, so each address is a distinct host name
for the polite rate), each answering after --latency seconds. The same URLs are checked
three ways through the real fetch (address guard transport, streaming, hashing):
sequentially (one host at a time), with the polite per-host rate across hosts in parallel
(the default way), and with no per-host spacing (an impolite upper bound). Each is
printed as URLs per second and as a ratio to the sequential run; the polite run's
smallest gap between two requests to one host, as the servers saw them, is printed too.

Export: the starter catalog is imported into a throwaway SQLite database and written as
JSON and CSV; then --scale - 1 renamed copies of every tool are added and both formats
are written again. Printed: seconds per dump and the ratio of the scaled to the plain
catalog (rows grow by --scale).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(data_dir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "TOOLVERDICT_DATA_DIR": str(data_dir),
            "TOOLVERDICT_LOG_LEVEL": "WARNING",
            "TOOLVERDICT_TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES": "true",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Servers:
    """One threading HTTP server per loopback address; records when each request came."""

    def __init__(self, hosts: int, latency: float) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []
        self.bases: list[str] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = self.server.server_address[0]
                with state.lock:
                    state.arrivals.setdefault(host, []).append(time.monotonic())
                time.sleep(latency)
                body = b"<html>" + b"x" * 20_000 + self.path.encode() + b"</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        for i in range(hosts):
            httpd = ThreadingHTTPServer((f"127.0.0.{i + 1}", 0), Handler)
            httpd.daemon_threads = True
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
            self.servers.append(httpd)
            self.bases.append(f"http://127.0.0.{i + 1}:{httpd.server_address[1]}")

    def min_gap(self) -> float:
        gaps = [
            b - a
            for times in self.arrivals.values()
            for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
        ]
        return min(gaps) if gaps else float("nan")

    def close(self) -> None:
        for httpd in self.servers:
            httpd.shutdown()
            httpd.server_close()


def bench_checks(args: argparse.Namespace) -> None:
    from toolverdict.ingest.source_checks import check_urls

    servers = Servers(args.hosts, args.latency)
    try:
        urls = [f"{base}/page/{j}" for base in servers.bases for j in range(args.per_host)]
        check_urls(urls[: args.hosts], interval=0, concurrency=args.hosts)  # warm up
        ways = [
            ("sequential (1 host at a time)", args.interval, 1),
            (f"polite, {args.hosts} hosts at once", args.interval, args.hosts),
            (f"no spacing, {args.hosts} hosts at once", 0.0, args.hosts),
        ]
        rows = []
        for name, interval, concurrency in ways:
            servers.arrivals.clear()
            start = time.perf_counter()
            results = check_urls(urls, interval=interval, concurrency=concurrency)
            seconds = time.perf_counter() - start
            failed = [r for r in results if r.outcome != "ok"]
            assert not failed, failed
            rows.append((name, seconds, len(urls) / seconds, servers.min_gap()))
        base = rows[0][1]
        print(
            f"source checks: {len(urls)} URLs on {args.hosts} hosts, {args.latency * 1000:.0f} ms "
            f"per answer, per-host interval {args.interval:g} s"
        )
        print(f"  {'way':<34} {'seconds':>8} {'URLs/s':>8} {'speed-up':>9} {'min gap/host':>13}")
        for name, seconds, rate, gap in rows:
            print(f"  {name:<34} {seconds:8.2f} {rate:8.1f} {base / seconds:8.2f}x {gap:12.3f}s")
    finally:
        servers.close()


def scaled_copies(scale: int) -> str:
    """TOML of scale - 1 renamed copies of every starter tool."""
    from django.conf import settings

    data = tomllib.loads(Path(settings.TOOLVERDICT_STARTER_CATALOG).read_text())
    out: list[str] = []

    def q(value) -> str:
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        return str(value).lower() if isinstance(value, bool) else str(value)

    for copy in range(2, scale + 1):
        for tool in data["tools"]:
            out.append("[[tools]]")
            for key, value in tool.items():
                if key in ("price_points", "facts"):
                    continue
                if key == "slug":
                    value = f"{value}-copy-{copy}"
                if key == "name":
                    value = f"{value} copy {copy}"
                out.append(f"{key} = {q(value)}")
            for table in ("price_points", "facts"):
                for item in tool.get(table, []):
                    out.append(f"[[tools.{table}]]")
                    out.extend(f"{k} = {q(v)}" for k, v in item.items())
    return "\n".join(out) + "\n"


def bench_export(args: argparse.Namespace, data_dir: Path) -> None:
    from django.conf import settings

    from toolverdict.catalog.importer import import_catalog, import_path, parse_catalog
    from toolverdict.catalog.models import Fact, Tool
    from toolverdict.opendata.export import write_dump

    import_path(settings.TOOLVERDICT_STARTER_CATALOG)
    timings: dict[tuple[str, str], float] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for label in ("1x", f"{args.scale}x"):
        if label != "1x":
            import_catalog(parse_catalog(scaled_copies(args.scale)))
        sizes[label] = (Tool.objects.count(), Fact.objects.count())
        for fmt in ("json", "csv"):
            best = float("inf")
            for _ in range(args.rounds):
                target = Path(tempfile.mkdtemp(dir=data_dir))
                start = time.perf_counter()
                write_dump(target, fmt)
                best = min(best, time.perf_counter() - start)
            timings[(label, fmt)] = best
    big = f"{args.scale}x"
    print(f"export: best of {args.rounds}; starter catalog vs the same scaled x{args.scale}")
    print(f"  {'catalog':<10} {'tools':>6} {'facts':>6} {'json s':>8} {'csv s':>8}")
    for label in ("1x", big):
        tools, facts = sizes[label]
        print(
            f"  {label:<10} {tools:6d} {facts:6d} "
            f"{timings[(label, 'json')]:8.3f} {timings[(label, 'csv')]:8.3f}"
        )
    print(
        f"  ratio {big}/1x: json {timings[(big, 'json')] / timings[('1x', 'json')]:.2f}, "
        f"csv {timings[(big, 'csv')] / timings[('1x', 'csv')]:.2f} "
        f"(rows x{sizes[big][0] / sizes['1x'][0]:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--per-host", type=int, default=6)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toolverdict-bench-") as tmp:
        setup_django(Path(tmp))
        bench_checks(args)
        bench_export(args, Path(tmp))


if __name__ == "__main__":
    main()
