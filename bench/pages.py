"""Page throughput: the comparison page and the tool page against a minimal Django view.

All three are served by the same gunicorn server in the same run, interleaved in rounds so
machine noise hits them alike; the ratios are the result, the absolute numbers are not.

    .venv/bin/python bench/pages.py [--seconds 3] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, bench_env, gunicorn, manage, summary, temp_data_dir  # noqa: E402

ENDPOINTS = {
    "minimal view (/healthz)": "/healthz",
    "tool page": "/tools/claude-4-sonnet/",
    "comparison page": "/compare/claude-4-sonnet-vs-smolvlm-2-5/",
}


def hammer(base: str, path: str, seconds: float, concurrency: int) -> tuple[int, list[float]]:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: HTTP {response.status}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-panel", action="store_true", help="pages without reviews")
    args = parser.parse_args()

    with temp_data_dir() as data_dir:
        env = bench_env(data_dir)
        manage(env, "migrate", "-v0")
        manage(env, "import", "--starter")
        if not args.no_panel:
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
        with gunicorn(env, workers=2) as base:
            results: dict[str, tuple[list[int], list[float]]] = {k: ([], []) for k in ENDPOINTS}
            for path in ENDPOINTS.values():  # warm-up
                hammer(base, path, 0.5, 1)
            page = urllib.request.urlopen(base + ENDPOINTS["comparison page"]).read().decode()  # noqa: S310
            if not args.no_panel and page.count("verdict-ship") < 8:
                raise SystemExit("the panel was not written; the benchmark would be meaningless")
            for _ in range(args.rounds):
                for name, path in ENDPOINTS.items():
                    rps, lat = hammer(base, path, args.seconds, args.concurrency)
                    results[name][0].append(rps)
                    results[name][1].extend(lat)

    base_rps = median_int(results["minimal view (/healthz)"][0])
    base_p50 = summary(results["minimal view (/healthz)"][1])["p50_ms"]
    print(
        f"gunicorn 2 workers, {args.concurrency} keep-alive clients, {args.rounds} rounds x "
        f"{args.seconds}s per endpoint, SQLite, starter catalog"
        + ("" if args.no_panel else ", four-persona panel on both compared tools")
    )
    print(
        f"{'endpoint':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s vs minimal':>17} "
        f"{'p50 vs minimal':>15}"
    )
    for name, (rps_rounds, lat) in results.items():
        rps = median_int(rps_rounds)
        s = summary(lat)
        print(
            f"{name:28} {rps:8d} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} "
            f"{rps / base_rps:16.2f}x {s['p50_ms'] / base_p50:14.2f}x"
        )


if __name__ == "__main__":
    main()
