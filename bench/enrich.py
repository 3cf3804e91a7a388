"""Enrichment measured on the fixture web: per-field precision and recall, pages per second.

    .venv/bin/python bench/enrich.py [--rounds 3] [--model local|off]

The fixture web (tests/enrich/fixtures/sites/: fictional vendor sites written by hand,
with their labelled right answers in answers.toml) is served on loopback, one origin per
site. Each round reads every site through the real fetch (robots.txt, the address guard
transport, size limit; no per-host pause, so the figure is the fetch-and-parse cost, not
the polite rate) and extracts with the real parsers. Printed: per field, values
extracted, right and expected, precision and recall (the same in every round: the
parsers are deterministic), and pages per second for each round with their median.

Two sets are scored apart: the development sites (the parsers were written against them)
and the held-out sites (tests/enrich/fixtures/heldout/, written later and not used to
change the parsers). Each set is scored twice, side by side: the parsers alone, and the
parsers plus the lines the model picks where they read nothing (enrich/spans.py), with
the model's calls and time; ``--model off`` skips the second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(data_dir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "TOOLVERDICT_DATA_DIR": str(data_dir),
            "TOOLVERDICT_LOG_LEVEL": "WARNING",
            "TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES": "true",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    import django

    django.setup()


def table(title: str, counts: dict) -> None:
    print(title)
    print(
        f"{'field':<18}{'extracted':>10}{'right':>7}{'expected':>9}{'precision':>11}{'recall':>8}"
    )
    for field, c in counts.items():
        p = f"{c.precision:.2f}" if c.precision is not None else "-"
        r = f"{c.recall:.2f}" if c.recall is not None else "-"
        print(f"{field:<18}{c.extracted:>10}{c.right:>7}{c.expected:>9}{p:>11}{r:>8}")
    total = [
        sum(getattr(c, k) for c in counts.values()) for k in ("extracted", "right", "expected")
    ]
    print(
        f"{'all fields':<18}{total[0]:>10}{total[1]:>7}{total[2]:>9}"
        f"{total[1] / total[0]:>11.2f}{total[1] / total[2]:>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--model",
        default="local",
        help="the model that picks lines (enrich/spans.py): local (default), or off",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(Path(data_dir))
        from tests.enrich.fixtures.score import score
        from tests.enrich.fixtures.web import HELDOUT, SITES, answers, serve_sites

        from toolverdict.enrich.extract import extract
        from toolverdict.enrich.fetch import Fetcher
        from toolverdict.enrich.services import read_site
        from toolverdict.enrich.spans import model_asker, pick_spans

        rates, read_pages = [], {}
        for label, root in (("development", SITES), ("held out", HELDOUT)):
            with serve_sites(root=root) as urls:
                for _ in range(args.rounds):
                    fetcher = Fetcher(interval=0, timeout=5.0, max_bytes=2_000_000)
                    started = time.perf_counter()
                    extractions, pages = {}, 0
                    for name, url in urls.items():
                        _fetches, read = read_site(url, fetcher)
                        pages += len(read)
                        extractions[name] = extract(read)
                        read_pages[(label, name)] = read
                    elapsed = time.perf_counter() - started
                    rates.append(pages / elapsed)
            want = answers(root)
            print(
                f"\n{label} sites: {len(urls)} sites, {pages} pages read per round "
                f"({fetcher.requests} requests with robots.txt)"
            )
            table(f"parsers only ({label})", score(extractions, want))
            if args.model == "off":
                continue
            ask = model_asker(args.model)
            calls, started = 0, time.perf_counter()
            for name in urls:
                read = read_pages[(label, name)]
                calls += pick_spans(name, read, extractions[name], ask).calls
            took = time.perf_counter() - started
            table(
                f"parsers + lines picked by the {args.model} model ({label}): {calls} model "
                f"calls, {took:.0f} s",
                score(extractions, want),
            )
        print(
            "\npages/s per round (fetch and parse, no model): "
            + ", ".join(f"{r:.0f}" for r in rates)
            + f"; median {statistics.median(rates):.0f}"
        )


if __name__ == "__main__":
    main()
