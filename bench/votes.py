"""Vote throughput under concurrency, on SQLite and on PostgreSQL in one run.

For each database the app runs under gunicorn (2 gthread workers x 16 threads, the
production shape) and 1, 8 and 64 signed-in voters post htmx ship/skip votes as fast as
they can, each voter's votes one after another. After each level the database is checked
against what the clients were told: every accepted vote must be in the event log once,
every account's current vote must be the last one it sent, and no (account, tool) may hold
two rows. Lost and duplicated votes are printed, and must be 0.

    .venv/bin/python bench/votes.py [--votes 640] [--levels 1,8,64]
        [--postgres-url postgres://postgres@127.0.0.1:5432/test] [--backends sqlite,postgres]

The PostgreSQL run uses a throwaway database (toolverdict_bench_votes) on that server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_env, free_port, manage, summary, temp_data_dir  # noqa: E402

BENCH_DB = "toolverdict_bench_votes"
VOTER_COUNT = 64
WORKERS, THREADS = 2, 16


# --- helpers that run inside Django (invoked as subprocesses with the bench env) ------


def _django() -> None:
    import django

    django.setup()


def setup_voters(count: int) -> None:
    """Create confirmed members with sessions; print their session keys and tool slugs."""
    _django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from toolverdict.catalog.models import Tool
    from toolverdict.community.models import Member

    sessions = []
    for i in range(count):
        user = get_user_model().objects.create_user(f"voter{i}@bench.test", f"voter{i}@bench.test")
        Member.objects.create(user=user, email_confirmed_at=user.date_joined)
        client = Client()
        client.force_login(user)
        sessions.append({"user_id": user.pk, "session": client.cookies["sessionid"].value})
    tools = list(Tool.objects.published().order_by("slug").values_list("slug", flat=True))
    print(json.dumps({"voters": sessions, "tools": tools}))


def reset_votes() -> None:
    _django()
    from toolverdict.community.models import PairVote, ToolVote, VoteEvent

    VoteEvent.objects.all().delete()
    ToolVote.objects.all().delete()
    PairVote.objects.all().delete()


def verify() -> None:
    """Read {"accepted": n, "final": {"user_id:slug": value}} on stdin; print the tally."""
    _django()
    from django.db.models import Count

    from toolverdict.community.models import ToolVote, VoteEvent

    expected = json.load(sys.stdin)
    events = VoteEvent.objects.filter(kind="tool").count()
    rows = {
        f"{user_id}:{slug}": value
        for user_id, slug, value in ToolVote.objects.values_list("user_id", "tool__slug", "value")
    }
    per_target = ToolVote.objects.values("user_id", "tool_id").annotate(n=Count("pk"))
    doubled_rows = per_target.filter(n__gt=1).count()
    wrong = sum(1 for key, value in expected["final"].items() if rows.get(key) != value)
    lost = max(0, expected["accepted"] - events) + wrong
    duplicated = max(0, events - expected["accepted"]) + doubled_rows
    extra_rows = max(0, len(rows) - len(expected["final"]))
    print(json.dumps({"lost": lost, "duplicated": duplicated + extra_rows, "events": events}))


# --- the load generator ---------------------------------------------------------------


class Voter:
    def __init__(self, base: str, user_id: int, session: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.user_id = user_id
        self.cookies = {"sessionid": session}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": self.cookies["csrftoken"],
                    "HX-Request": "true",
                }
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers.get("X-Vote-Accepted", "")
        finally:
            conn.close()


def run_level(
    base: str, voters: list[Voter], tools: list[str], total: int
) -> tuple[dict[str, str], int, list[float], list[str], float]:
    per_voter = total // len(voters)
    final: dict[str, str] = {}
    latencies: list[float] = []
    errors: list[str] = []
    accepted = 0
    lock = threading.Lock()

    def work(index: int, voter: Voter) -> None:
        nonlocal accepted
        mine_final: dict[str, str] = {}
        mine_latency: list[float] = []
        mine_errors: list[str] = []
        mine_accepted = 0
        for k in range(per_voter):
            slug = tools[(index * 7 + k) % len(tools)]
            # Each pass over the tools flips the value, so later passes are changed votes.
            value = "ship" if (k // len(tools) + index) % 2 == 0 else "skip"
            start = time.perf_counter()
            try:
                status, flag = voter.request("POST", f"/votes/tool/{slug}/", {"value": value})
            except OSError as exc:
                mine_errors.append(f"{type(exc).__name__}: {exc}")
                continue
            mine_latency.append(time.perf_counter() - start)
            if status == 200 and flag == "1":
                mine_accepted += 1
                mine_final[f"{voter.user_id}:{slug}"] = value
            else:
                mine_errors.append(f"HTTP {status}")
        with lock:
            final.update(mine_final)
            latencies.extend(mine_latency)
            errors.extend(mine_errors)
            accepted += mine_accepted

    threads = [threading.Thread(target=work, args=(i, v)) for i, v in enumerate(voters)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return final, accepted, latencies, errors, time.perf_counter() - began


# --- orchestration --------------------------------------------------------------------


def django_call(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def start_gunicorn(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "toolverdict.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            "--backlog",
            "512",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310 - loopback
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def postgres_database(url: str, action: str) -> str:
    """Create or drop the throwaway bench database; return its URL."""
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def bench_backend(name: str, database_url: str | None, levels: list[int], total: int) -> list[dict]:
    rows = []
    with temp_data_dir() as data_dir:
        extra = {
            "TOOLVERDICT_COMMUNITY_RATE_VOTE_USER": "100000000/60",
            "TOOLVERDICT_COMMUNITY_RATE_VOTE_IP": "100000000/60",
            "TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS": "0",
            "TOOLVERDICT_COMMUNITY_MIN_VOTES": "1",
        }
        env = bench_env(data_dir, **extra)
        if database_url:
            env["DATABASE_URL"] = database_url
        else:
            env.pop("DATABASE_URL", None)
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "import", "--starter", "--verbosity", "0")
        setup = json.loads(django_call(env, "_setup_voters", str(max(levels))))
        proc, base = start_gunicorn(env)
        try:
            pool = [Voter(base, v["user_id"], v["session"]) for v in setup["voters"]]
            for voter in pool:
                status, _ = voter.request("GET", "/rankings/")  # the CSRF cookie
                assert status == 200 and "csrftoken" in voter.cookies
            for level in levels:
                django_call(env, "_reset")
                run_level(base, pool[:level], setup["tools"], min(total, 4 * level))  # warm-up
                django_call(env, "_reset")
                final, accepted, latencies, errors, elapsed = run_level(
                    base, pool[:level], setup["tools"], total
                )
                tally = json.loads(
                    django_call(
                        env, "_verify", stdin=json.dumps({"accepted": accepted, "final": final})
                    )
                )
                rows.append(
                    {
                        "backend": name,
                        "voters": level,
                        "accepted": accepted,
                        "votes_per_s": accepted / elapsed,
                        **summary(latencies),
                        "errors": len(errors),
                        "first_error": errors[0] if errors else "",
                        "lost": tally["lost"],
                        "duplicated": tally["duplicated"],
                    }
                )
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=640, help="votes per level (default 640)")
    parser.add_argument("--levels", default="1,8,64", help="concurrent voters per level")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
        help="a server where the bench may create and drop its own database",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    if max(levels) > VOTER_COUNT:
        raise SystemExit(f"at most {VOTER_COUNT} voters")
    rows: list[dict] = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            rows += bench_backend("sqlite", None, levels, args.votes)
        elif backend == "postgres":
            url = postgres_database(args.postgres_url, "create")
            try:
                rows += bench_backend("postgres", url, levels, args.votes)
            finally:
                postgres_database(args.postgres_url, "drop")
        else:
            raise SystemExit(f"unknown backend {backend!r}")

    print(
        f"gunicorn {WORKERS} gthread workers x {THREADS} threads, {args.votes} htmx votes per "
        "level, new connection per vote, starter catalog (30 tools)"
    )
    base_rate = {r["backend"]: r["votes_per_s"] for r in rows if r["voters"] == levels[0]}
    sqlite_rate = {r["voters"]: r["votes_per_s"] for r in rows if r["backend"] == "sqlite"}
    header = (
        f"{'database':<9} {'voters':>6} {'accepted':>8} {'votes/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'vs 1 voter':>10} {'vs sqlite':>9} {'errors':>6} {'lost':>4} {'dup':>4}"
    )
    print(header)
    for r in rows:
        vs_sqlite = r["votes_per_s"] / sqlite_rate[r["voters"]] if r["voters"] in sqlite_rate else 0
        print(
            f"{r['backend']:<9} {r['voters']:>6} {r['accepted']:>8} {r['votes_per_s']:>8.0f} "
            f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
            f"{r['votes_per_s'] / base_rate[r['backend']]:>9.2f}x {vs_sqlite:>8.2f}x "
            f"{r['errors']:>6} {r['lost']:>4} {r['duplicated']:>4}"
        )
        if r["first_error"]:
            print(f"  first error: {r['first_error']}")
    bad = sum(r["lost"] + r["duplicated"] for r in rows)
    print(f"lost or duplicated votes: {bad}")
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_setup_voters":
        setup_voters(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_reset":
        reset_votes()
    elif len(sys.argv) > 1 and sys.argv[1] == "_verify":
        verify()
    else:
        main()
