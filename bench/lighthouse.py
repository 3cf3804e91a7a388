"""Lighthouse on the home, tool, seed comparison and browse pages: every category must
score 1.00.

Serves the starter catalog with the seed pair reviewed (scripted stand-in model) from
gunicorn, runs Lighthouse 12.2.3 against Debian's chromium for each page and fails
(exit 1) naming the audits that cost points when any category is below the minimum.

    apt-get install -y chromium
    .venv/bin/python bench/lighthouse.py [--min 1.0] [--out test-artifacts/lighthouse]
        [--lighthouse "npx --yes lighthouse@12.2.3"] [--retries 1]

CHROME_PATH defaults to /usr/bin/chromium. The JSON reports are kept under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
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
    subprocess.run(args, check=True, env={**os.environ, "CHROME_PATH": chrome})
    return json.loads(report.read_text())


def losses(result: dict, category: str) -> list[str]:
    audits = result["audits"]
    found = []
    for ref in result["categories"][category]["auditRefs"]:
        audit = audits.get(ref["id"], {})
        score = audit.get("score")
        if ref.get("weight", 0) > 0 and score is not None and score < 1:
            found.append(f"{ref['id']} ({score:.2f}): {audit.get('title', '')}")
    return found


def _meets(result: dict, category: str, minimum: float) -> bool:
    score = result["categories"][category]["score"]
    return score is not None and score >= minimum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=1.0, help="lowest acceptable score")
    parser.add_argument("--out", default="test-artifacts/lighthouse", help="where the JSON goes")
    parser.add_argument("--lighthouse", default="npx --yes lighthouse@12.2.3")
    parser.add_argument(
        "--min-performance",
        type=float,
        default=None,
        help="lowest acceptable performance score (default: --min); performance is timed",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help="runs again a page whose only loss is performance, up to this many times",
    )
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()
    minimum = {c: args.min for c in CATEGORIES}
    if args.min_performance is not None:
        minimum["performance"] = args.min_performance
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
                report = out / f"{name}.json"
                result = run_lighthouse(args.lighthouse, base + path, report, args.chrome)
                note = ""
                for attempt in range(args.retries):
                    low = {c for c in CATEGORIES if not _meets(result, c, minimum[c])}
                    if low != {"performance"}:
                        break
                    # Performance is timed on a shared machine; the other categories are
                    # not, so only a performance loss earns another run (both are shown).
                    note += f" (performance {result['categories']['performance']['score']:.2f}"
                    note += f" on run {attempt + 1}, rerun)"
                    result = run_lighthouse(args.lighthouse, base + path, report, args.chrome)
                scores = {c: result["categories"][c]["score"] for c in CATEGORIES}
                rows.append(
                    f"| {name} ({path}){note} | "
                    + " | ".join(f"{scores[c]:.2f}" for c in CATEGORIES)
                    + " |"
                )
                for category, score in scores.items():
                    if score is None or score < minimum[category]:
                        failures.append(
                            f"{name} {category} {score}: " + "; ".join(losses(result, category))
                        )
    print("| page | " + " | ".join(CATEGORIES) + " |")
    print("|---|" + "---:|" * len(CATEGORIES))
    print("\n".join(rows))
    if failures:
        print("\nBelow the minimum:\n" + "\n".join(failures), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
