"""Share images, badges and the browse page: drawn/rendered on every request vs from the
page cache, side by side.

Two gunicorn servers (2 workers each) serve the same SQLite data: one with the page cache
off (every request draws the PNG, builds the SVG, runs the browse query: "uncached") and
one with the embedded default cache ("cached", warmed first so every worker holds the
answer). Endpoints are interleaved in rounds so machine noise hits them alike; the ratios
are the result, the absolute numbers are not. The starter catalog carries a full scripted
panel on two tools, so the images and badges show figures; ``--tools N`` imports N more
made-up tools (spread over the starter categories) so the browse rows measure a larger
catalog.

    .venv/bin/python bench/share.py [--seconds 2] [--rounds 3] [--concurrency 2]
        [--tools 0] [--markdown /tmp/share_bench.md]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_env, gunicorn, manage, summary, temp_data_dir  # noqa: E402
from pages import hammer, prepare, request  # noqa: E402

CASES = {
    "tool share image (PNG)": "/share/tools/claude-4-sonnet.png",
    "comparison share image (PNG)": "/share/compare/claude-4-sonnet-vs-smolvlm-2-5.png",
    "badge (SVG)": "/badge/claude-4-sonnet.svg",
    "/tools/ with filters": "/tools/?category=developer-tools&pricing=free&sort=panel",
    "/tools/ (all tools)": "/tools/",
}


CATEGORIES = ["developer-tools", "foundation-models", "local-inference", "vector-databases"]
PRICING = ["free", "freemium", "paid", "open-weights"]


def extra_catalog(path: Path, count: int) -> None:
    """A catalog file of ``count`` made-up tools with one fact each."""
    blocks = []
    for i in range(count):
        blocks.append(
            f"""[[tools]]
slug = "bench-tool-{i}"
name = "Bench Tool {i}"
vendor = "Bench"
category = "{CATEGORIES[i % len(CATEGORIES)]}"
tagline = "A made-up tool for the browse benchmark"
homepage = "https://bench-{i}.example/"
pricing = "{PRICING[i % len(PRICING)]}"
license = "{"MIT" if i % 2 else "Proprietary"}"

[[tools.facts]]
key = "note"
value = "Made up"
source = "https://bench-{i}.example/"
retrieved = 2026-12-01
"""
        )
    path.write_text("\n".join(blocks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--tools", type=int, default=0, help="made-up tools to add")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()

    with temp_data_dir() as data_dir, ExitStack() as stack:
        env = bench_env(data_dir, TOOLVERDICT_PAGE_CACHE_TIMEOUT="0")
        env.pop("CACHE_URL", None)
        env.pop("DATABASE_URL", None)
        prepare(env, panel=True)
        if args.tools:
            extra_catalog(data_dir / "extra.toml", args.tools)
            manage(env, "import", str(data_dir / "extra.toml"))
        servers = {
            "uncached": stack.enter_context(
                gunicorn({**env, "TOOLVERDICT_PAGE_CACHE": "0"}, workers=2)
            ),
            "cached": stack.enter_context(gunicorn(env, workers=2)),
        }
        sizes: dict[str, int] = {}
        for name, path in CASES.items():
            response, body = request(servers["uncached"], path)
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
            sizes[name] = len(body)
            for _ in range(4):  # every worker stores it
                request(servers["cached"], path)
        results: dict[tuple[str, str], list[int]] = {}
        latencies: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name, path in CASES.items():
                for server in ("uncached", "cached"):
                    rps, lat = hammer(servers[server], path, args.seconds, args.concurrency)
                    results.setdefault((name, server), []).append(rps)
                    latencies.setdefault((name, server), []).extend(lat)

    header = (
        "| endpoint | bytes | uncached req/s | cached req/s | ratio | uncached p50 ms "
        "| cached p50 ms |\n|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for name in CASES:
        slow = statistics.median(results[(name, "uncached")])
        fast = statistics.median(results[(name, "cached")])
        slow_p50 = summary(latencies[(name, "uncached")])["p50_ms"]
        fast_p50 = summary(latencies[(name, "cached")])["p50_ms"]
        lines.append(
            f"| {name} | {sizes[name]} | {slow:.0f} | {fast:.0f} | {fast / slow:.1f}× "
            f"| {slow_p50:.1f} | {fast_p50:.1f} |"
        )
    table = "\n".join(lines)
    print(
        f"{args.rounds} rounds × {args.seconds:g} s per endpoint, concurrency "
        f"{args.concurrency}, 2 gunicorn workers per server, SQLite, starter catalog "
        f"+ {args.tools} made-up tools\n"
    )
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
