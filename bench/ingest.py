"""Benchmark: entries/s through ingest + dedupe, and how dedupe grows with the catalog.

    .venv/bin/python bench/ingest.py [--entries 10000] [--embedder ngram|minilm]

Part 1 runs the pipeline's real ingest and dedupe stages on 10,000 synthetic launch
entries served as 50 JSON Feeds (200 entries each, the per-feed cap) by an HTTP server on
127.0.0.1, against a catalog of 1,000 tools in SQLite (a temporary data dir): fetch and
parse, store the entries, dedupe them into candidates. A fifth of the entries repeat a
catalog tool (same homepage with tracking parameters, same name respelled, or the same
name and tagline reworded) and a twentieth repeat another entry.

Part 2 times dedupe alone (index build + matching) for a fixed batch of 1,000 candidates
against 1,000, 2,000, 5,000 and 10,000 known tools, side by side in one run, and prints
the ratio to the 1,000 case: linear growth is 10x at 10,000; quadratic would be 100x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "nu",
    "ra",
    "se",
    "ti",
    "vo",
    "ze",
    "qua",
    "bri",
    "dex",
    "flo",
    "gri",
    "jun",
    "lex",
    "mor",
    "nix",
    "pax",
    "syl",
    "tro",
    "vex",
    "wim",
    "yor",
    "zan",
]
NOUNS = [
    "coder",
    "pilot",
    "vector",
    "agent",
    "lens",
    "forge",
    "stack",
    "mind",
    "flow",
    "scribe",
    "sense",
    "graph",
]
ADJECTIVES = [
    "open-source",
    "fast",
    "private",
    "hosted",
    "tiny",
    "visual",
    "typed",
    "secure",
    "serverless",
    "local",
]
THINGS = [
    "pair programmer",
    "vector database",
    "agent framework",
    "inference server",
    "speech API",
    "code reviewer",
    "test generator",
    "prompt debugger",
    "RAG pipeline",
    "GPU scheduler",
]
AUDIENCES = [
    "for your terminal",
    "for data teams",
    "for mobile apps",
    "for Rust projects",
    "for startups",
    "for notebooks",
    "for support desks",
    "for game studios",
    "for researchers",
    "for CI pipelines",
]


def tagline(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(THINGS)} {rng.choice(AUDIENCES)}"


def tool_name(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
    return f"{word} {rng.choice(NOUNS).capitalize()}"


def make_known(n: int, rng: random.Random) -> list[tuple[int, str, str, str]]:
    seen, rows = set(), []
    while len(rows) < n:
        name = tool_name(rng)
        if name in seen:
            continue
        seen.add(name)
        slug = name.lower().replace(" ", "-")
        rows.append((len(rows) + 1, name, f"https://{slug}.example/", tagline(rng)))
    return rows


def make_entries(
    n: int, known: list[tuple[int, str, str, str]], rng: random.Random
) -> list[dict[str, str]]:
    """Launch entries: 20% repeat a known tool, 5% repeat an earlier entry, the rest new."""
    entries: list[dict[str, str]] = []
    names = {k[1] for k in known}
    for i in range(n):
        roll = rng.random()
        if roll < 0.2:
            _, name, homepage, known_tagline = rng.choice(known)
            kind = rng.randrange(4)
            if kind == 0:
                link, title = homepage + "?utm_source=launch", f"{name} 2.0 ships"
            elif kind == 1:
                link, title = f"https://news.example/{i}", name.replace(" ", "").upper()
            elif kind == 2:
                link, title = f"https://blog.example/{i}", f"{name}: {known_tagline}"
            else:  # reworded: only the embedding can tell
                link, title = f"https://launch.example/{i}", f"{name} for teams"
            summary = known_tagline
        elif roll < 0.25 and entries:
            earlier = rng.choice(entries)
            link, title, summary = (
                f"https://mirror.example/{i}",
                earlier["title"],
                earlier["content_text"],
            )
        else:
            name = tool_name(rng)
            while name in names:
                name = tool_name(rng)
            names.add(name)
            link = f"https://{name.lower().replace(' ', '-')}-{i}.example/"
            pitch = tagline(rng).lower()
            title = f"Introducing {name}: {pitch}"
            summary = f"{name} is a {pitch}. It launched today."
        planted = "k" if roll < 0.2 else ("r" if roll < 0.25 and entries else "n")
        entries.append(
            {"id": f"{planted}{i}", "url": link, "title": title, "content_text": summary}
        )
    return entries


def serve(feeds: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = feeds.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/feed+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def setup_django(data_dir: Path, embedder: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "toolverdict.settings"
    os.environ["TOOLVERDICT_DATA_DIR"] = str(data_dir)
    os.environ["TOOLVERDICT_LOG_LEVEL"] = "WARNING"
    os.environ["TOOLVERDICT_INGEST_EMBEDDER"] = embedder
    # The benchmark's feed server is on loopback, which the address guard refuses by default.
    os.environ["TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES"] = "true"
    os.environ["TOOLVERDICT_TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def part1(n_entries: int, n_known: int, rng: random.Random) -> None:
    from toolverdict.catalog.models import Category, Tool
    from toolverdict.ingest import candidates, dedupe
    from toolverdict.ingest.models import Candidate, Feed, PipelineRun

    category = Category.objects.create(slug="bench", name="Bench")
    known = make_known(n_known, rng)
    Tool.objects.bulk_create(
        Tool(
            slug=f"t{pk}",
            name=name,
            vendor="v",
            category=category,
            tagline=line,
            homepage=homepage,
            pricing="free",
        )
        for pk, name, homepage, line in known
    )
    entries = make_entries(n_entries, known, rng)
    per_feed = 200
    bodies = {
        f"/feed{i}.json": json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "items": entries[s : s + per_feed]}
        ).encode()
        for i, s in enumerate(range(0, len(entries), per_feed))
    }
    httpd, base = serve(bodies)
    feeds = [
        Feed.objects.create(name=f"feed {i}", url=base + path, category=category)
        for i, path in enumerate(bodies)
    ]
    embedder = dedupe.get_embedder()
    embedder.encode(["warm up"])
    run = PipelineRun.objects.create(day="2026-11-24", status="running")

    t0 = time.perf_counter()
    results = candidates.read_feeds(feeds)
    t1 = time.perf_counter()
    candidates.store_entries(run, results)
    t2 = time.perf_counter()
    candidates.dedupe_entries(run, embedder)
    t3 = time.perf_counter()
    httpd.shutdown()
    run.refresh_from_db()
    errors = [r.error for r in results if r.error]
    total = t3 - t0
    print(
        f"Part 1: {n_entries:,} entries in {len(feeds)} JSON Feeds over loopback HTTP, "
        f"{n_known:,} known tools, embedder={embedder.name}, SQLite"
    )
    print(f"  fetch + parse   {t1 - t0:7.2f} s  {n_entries / (t1 - t0):9,.0f} entries/s")
    print(f"  store entries   {t2 - t1:7.2f} s  {n_entries / (t2 - t1):9,.0f} entries/s")
    print(f"  dedupe          {t3 - t2:7.2f} s  {n_entries / (t3 - t2):9,.0f} entries/s")
    print(f"  ingest + dedupe {total:7.2f} s  {n_entries / total:9,.0f} entries/s")
    print(
        f"  entries stored {run.new_entries:,}, new candidates {run.new_candidates:,}, "
        f"duplicates {run.duplicates:,}, "
        f"feed errors {len(errors)}"
    )
    assert Candidate.objects.count() == n_entries
    pairs = list(Candidate.objects.values_list("entry__guid", "status"))
    planted = sum(1 for guid, _ in pairs if guid[0] in "kr")
    caught = sum(1 for guid, st in pairs if guid[0] in "kr" and st == "duplicate")
    false = sum(1 for guid, st in pairs if guid[0] == "n" and st == "duplicate")
    print(
        f"  planted duplicates {planted:,}: caught {caught:,} ({caught / planted:.1%}); "
        f"new tools wrongly merged {false:,}"
    )


def part2(rng: random.Random, batch: int, rounds: int) -> None:
    from toolverdict.ingest import dedupe
    from toolverdict.ingest.candidates import tool_items

    embedder = dedupe.get_embedder()
    sizes = [1_000, 2_000, 5_000, 10_000]
    catalogs = {n: make_known(n, random.Random(n)) for n in sizes}
    candidates_raw = make_entries(batch, catalogs[1_000], random.Random(7))
    candidates = [
        dedupe.Item(i, e["title"], e["url"], f"{e['title']}. {e['content_text']}")
        for i, e in enumerate(candidates_raw)
    ]
    timings: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(rounds):  # interleaved so that machine noise hits every size alike
        for n in sizes:
            t0 = time.perf_counter()
            index = dedupe.KnownIndex.build(tool_items(catalogs[n]), embedder)
            dedupe.find_duplicates(candidates, index)
            timings[n].append(time.perf_counter() - t0)
    base = statistics.median(timings[1_000])
    print(
        f"\nPart 2: dedupe of {batch:,} candidates (index build + match), "
        f"median of {rounds} interleaved rounds, embedder={embedder.name}"
    )
    print(
        f"  {'known tools':>11}  {'seconds':>8}  {'vs 1,000':>8}  {'linear':>6}  {'quadratic':>9}"
    )
    for n in sizes:
        t = statistics.median(timings[n])
        print(f"  {n:>11,}  {t:8.3f}  {t / base:7.2f}x  {n / 1000:5.0f}x  {(n / 1000) ** 2:8.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--known", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=1_000, help="part 2 candidates")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--embedder", default="ngram", choices=["ngram", "minilm"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toolverdict-bench-") as tmp:
        setup_django(Path(tmp), args.embedder)
        part1(args.entries, args.known, random.Random(1))
        part2(random.Random(2), args.batch, args.rounds)


if __name__ == "__main__":
    main()
