"""Lighthouse on the home, tool, seed comparison and browse pages: every category must
score 1.00.

Serves the starter catalog with the seed pair reviewed (scripted stand-in model) from
gunicorn, runs Lighthouse 12.2.3 against Debian's chromium for each page and fails
(exit 1) naming the audits that cost points when any category is below the minimum.

Performance is timed: Lighthouse simulates a slow phone from the main-thread tasks it
observes, so a busy machine inflates Total Blocking Time. As Lighthouse's own guidance on
variability advises, each page is run ``--runs`` times and the median score is the
result (every run is printed); before each run the script waits, up to a bound, for the
machine's CPUs to be mostly idle. Accessibility, best practices and SEO are not timed:
their median is the same as every run's.

    apt-get install -y chromium
    .venv/bin/python bench/lighthouse.py [--min 1.0] [--runs 3] [--out test-artifacts/lighthouse]
        [--lighthouse "npx --yes lighthouse@12.2.3"]

CHROME_PATH defaults to /usr/bin/chromium. The JSON reports are kept under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_env, free_port, gunicorn, temp_data_dir  # noqa: E402
from pages import prepare  # noqa: E402

PAGES = {
    "home": "/",
    "tool": "/tools/claude-4-sonnet/",
    "comparison": "/compare/claude-4-sonnet-vs-smolvlm-2-5/",
    "browse": "/tools/?category=developer-tools&sort=panel",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Lighthouse now and then stops without a report ("NO_NAVSTART": its trace of the load
# missed the navigation; seen 3 times in the 12+ runs of one CI pass, twice in a row on one
# page, and 0 times in 10 runs by hand). No score was measured, so the run is made again.
ATTEMPTS = 5


def run_lighthouse(command: str, url: str, report: Path, chrome: str) -> dict:
    args = [
        *shlex.split(command),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        "--chrome-flags=--headless=new --no-sandbox",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    for attempt in range(1, ATTEMPTS + 1):
        done = subprocess.run(
            args, env={**os.environ, "CHROME_PATH": chrome}, capture_output=True, text=True
        )
        if done.returncode == 0:
            return json.loads(report.read_text())
        # Lighthouse itself failed (chromium did not start or answer in time): no score
        # was measured, so the run is made again rather than counted.
        print(
            f"lighthouse exited {done.returncode} on {url} (attempt {attempt}):\n"
            + done.stderr[-2000:],
            file=sys.stderr,
        )
        time.sleep(3)
    raise SystemExit(f"lighthouse failed {ATTEMPTS} times on {url}")


def losses(result: dict, category: str) -> list[str]:
    audits = result["audits"]
    found = []
    for ref in result["categories"][category]["auditRefs"]:
        audit = audits.get(ref["id"], {})
        score = audit.get("score")
        if ref.get("weight", 0) > 0 and score is not None and score < 1:
            found.append(f"{ref['id']} ({score:.2f}): {audit.get('title', '')}")
    return found


def _cpu_idle_share(seconds: float = 1.0) -> float | None:
    """Share of all CPUs' time spent idle over ``seconds`` (Linux /proc/stat), else None."""

    def sample() -> tuple[int, int] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        except (OSError, ValueError):
            return None
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    first = sample()
    time.sleep(seconds)
    second = sample()
    if first is None or second is None or second[1] == first[1]:
        return None
    return (second[0] - first[0]) / (second[1] - first[1])


def wait_for_quiet(idle: float = 0.8, at_most: float = 60.0) -> float | None:
    """Wait until the CPUs are at least ``idle`` idle, for ``at_most`` seconds at most."""
    deadline = time.monotonic() + at_most
    share = _cpu_idle_share()
    while share is not None and share < idle and time.monotonic() < deadline:
        share = _cpu_idle_share()
    return share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=1.0, help="lowest acceptable score")
    parser.add_argument("--out", default="test-artifacts/lighthouse", help="where the JSON goes")
    parser.add_argument("--lighthouse", default="npx --yes lighthouse@12.2.3")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per page; the median score counts"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait at most, before each run, for the CPUs to be 80%% idle",
    )
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    failures: list[str] = []
    rows: list[str] = []
    with temp_data_dir() as data_dir:
        port = free_port()
        # localhost is a secure context, like HTTPS; canonical links and share tags name
        # the address Lighthouse loads, as TOOLVERDICT_SITE_URL does in production.
        base = f"http://localhost:{port}"
        env = bench_env(data_dir, TOOLVERDICT_SITE_URL=base)
        prepare(env, panel=True)
        with gunicorn(env, workers=2, port=port):
            for name, path in PAGES.items():
                results = []
                for run in range(1, args.runs + 1):
                    wait_for_quiet(at_most=args.quiet_wait)
                    report = out / f"{name}-{run}.json"
                    results.append(
                        run_lighthouse(args.lighthouse, base + path, report, args.chrome)
                    )
                scores = {
                    c: statistics.median(
                        r["categories"][c]["score"]
                        if r["categories"][c]["score"] is not None
                        else 0.0
                        for r in results
                    )
                    for c in CATEGORIES
                }
                each = ", ".join(f"{r['categories']['performance']['score']:.2f}" for r in results)
                rows.append(
                    f"| {name} ({path}) | "
                    + " | ".join(f"{scores[c]:.2f}" for c in CATEGORIES)
                    + f" | {each} |"
                )
                for category, score in scores.items():
                    if score < args.min:
                        worst = min(results, key=lambda r: r["categories"][category]["score"] or 0)
                        failures.append(
                            f"{name} {category} {score:.2f} (median of {args.runs}): "
                            + "; ".join(losses(worst, category))
                        )
    print(f"Median of {args.runs} runs per page; the last column lists each run's performance.")
    print("| page | " + " | ".join(CATEGORIES) + " | performance of each run |")
    print("|---|" + "---:|" * len(CATEGORIES) + "---|")
    print("\n".join(rows))
    if failures:
        print("\nBelow the minimum:\n" + "\n".join(failures), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
