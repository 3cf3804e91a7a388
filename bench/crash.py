"""Crash injection: SIGKILL at random points, repeated, for each kind of work.

    .venv/bin/python bench/crash.py [--parts review,votes,digest,ingest] [--seed 1]
        [--review-kills 12] [--vote-kills 8] [--digest-kills 200] [--ingest-kills 8]

Each part runs in its own process against its own SQLite database (WAL) in a temporary
folder, kills real processes with SIGKILL at random moments, restarts them, and checks the
state afterwards:

  review   a `toolverdict worker` reviewing the starter catalog (30 tools x 4 personas, a
           scripted model taking 50 ms per call) is killed at a random moment after it
           picked up a task, again and again; then one worker runs to the end. Every tool
           must end with a complete current panel, one review per tool and persona, and at
           most one model call redone per kill (the one in flight).
  votes    16 signed-in voters post htmx votes to gunicorn as fast as they can; the whole
           server (master and workers) is SIGKILLed mid-burst and restarted, repeatedly.
           Every vote the server acknowledged must be in the event log.
  digest   the send task in a forked process (a one-task worker, as `toolverdict digest
           send` runs it), SIGKILLed after a random delay (0-250 ms), restarted,
           repeatedly, into an aiosmtpd sink in its own process. The parent, which saw its
           child die, marks the child's heartbeat row stopped (what the recovery step
           concludes after STALE_AFTER, without the wait), so the restart resumes the
           requeued task at once. No recipient may get two copies, and each kill may leave
           at most one "unknown" row.
  ingest   the daily pipeline task (18 loopback JSON Feeds, 900 entries, dedupe, import, a
           review stage) run by a `toolverdict worker` that is killed at a random moment
           of the run, repeatedly; the recovery step requeues the run. The last rerun must
           complete with one candidate per entry, no tool imported twice, and the same
           outcome as an uninterrupted run of the same feeds.

Heartbeat 0.5 s, stale after 2 s (production: 10 s and 60 s). Random kills can hit the
same task many times in a row, so the give-up limit for a task whose workers keep dying
(TOOLVERDICT_TASK_MAX_ATTEMPTS, default 3; tested in tests/core/test_recovery.py) is
raised to 1000 here; the review part reports how many tasks it would have given up.
Prints, per part: trials, faults injected, work lost.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

SLOW_MODEL = "python:tests.core.fakes.SlowModel"


# --- shared -------------------------------------------------------------------------------


def part_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "TOOLVERDICT_DATA_DIR": str(data_dir),
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
            "TOOLVERDICT_LOG_LEVEL": "WARNING",
            "TOOLVERDICT_WORKER_HEARTBEAT": "0.5",
            "TOOLVERDICT_WORKER_STALE_AFTER": "2",
            "TOOLVERDICT_TASK_MAX_ATTEMPTS": "1000",
            "TOOLVERDICT_PANEL_FIRST": "",
            "TOOLVERDICT_PANEL_MODEL": SLOW_MODEL,
            "TOOLVERDICT_TEST_MODEL_DELAY": "0.05",
            "TOOLVERDICT_TEST_MODEL_LOG": str(data_dir / "calls.log"),
        }
    )
    env.update(extra)
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def start_worker(
    env: dict[str, str], log: Path, queues: str = "*", worker_id: str = ""
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toolverdict.cli",
            "worker",
            "--queue-name",
            queues,
            "--interval",
            "0.1",
            "--no-startup-delay",
            *(["--worker-id", worker_id] if worker_id else []),
        ],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)
    proc.wait(timeout=60)


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def close_db() -> None:
    from django.db import connections

    connections.close_all()


def queue_state(task_path: str) -> Counter:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=task_path).values_list("status", flat=True)
    state = Counter(rows)
    close_db()
    return state


def running_on(task_path: str, worker_id: str) -> bool:
    """True while ``worker_id`` runs a task of ``task_path``."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=task_path, status="RUNNING").values_list(
        "worker_ids", flat=True
    )
    mine = any((ids or [])[-1:] == [worker_id] for ids in rows)
    close_db()
    return mine


def kill_while_running(env, log, path, rng, longest, queues="*", n=0) -> bool:
    """Start a worker, wait until it runs a task, SIGKILL it at a random moment; True if
    the kill landed while the task was still its own and running."""
    worker_id = f"crash-{os.getpid()}-{n}"
    proc = start_worker(env, log, queues=queues, worker_id=worker_id)
    wait_for(lambda: running_on(path, worker_id) or proc.poll() is not None, 120)
    time.sleep(rng.uniform(0.0, longest))
    kill_group(proc)
    return running_on(path, worker_id)


def recoveries() -> Counter:
    from toolverdict.core.models import TaskRecovery

    return Counter(TaskRecovery.objects.values_list("action", flat=True))


# --- review ---------------------------------------------------------------------------


def part_review(kills: int, seed: int) -> dict:
    rng = random.Random(seed)
    data_dir = Path(tempfile.mkdtemp(prefix="crash-review-"))
    env = part_env(data_dir)
    setup_django(env)
    from django.conf import settings
    from django.db.models import Count

    from toolverdict.catalog.importer import import_path
    from toolverdict.catalog.models import Tool
    from toolverdict.panel.models import Review
    from toolverdict.panel.progress import persona_slugs
    from toolverdict.panel.tasks import review_tool

    import_path(settings.TOOLVERDICT_STARTER_CATALOG)  # its signal queues every tool
    personas = len(persona_slugs())
    tools = Tool.objects.published().count()
    path = review_tool.module_path
    close_db()
    log = data_dir / "worker.log"
    faults = mid_task = 0
    started = time.monotonic()
    for _ in range(kills):
        state = queue_state(path)
        if not state["READY"] and not state["RUNNING"]:
            break
        mid_task += kill_while_running(env, log, path, rng, 1.0, n=faults)
        faults += 1
    proc = start_worker(env, log)
    done = wait_for(
        lambda: not (lambda s: s["READY"] + s["RUNNING"])(queue_state(path)), 600, step=0.3
    )
    kill_group(proc, signal.SIGTERM)
    elapsed = time.monotonic() - started
    current = (
        Tool.objects.published()
        .annotate(n=Count("panel_reviews", filter=models_q_current()))
        .values_list("n", flat=True)
    )
    complete = sum(1 for n in current if n >= personas)
    per_key = Review.objects.values("tool_id", "persona").annotate(n=Count("pk"))
    doubled = per_key.filter(n__gt=1).count()
    rows = Review.objects.count()
    calls_path = data_dir / "calls.log"
    calls = len(calls_path.read_text().splitlines()) if calls_path.exists() else 0
    prompts = Counter(line.split()[1] for line in calls_path.read_text().splitlines())
    from toolverdict.core.models import TaskRecovery

    losses = Counter(
        TaskRecovery.objects.filter(action="requeued").values_list("task_id", flat=True)
    )
    return {
        "part": "review",
        "trials": faults + 1,
        "faults": faults,
        "kills_mid_task": mid_task,
        "completed": done,
        "tools": tools,
        "tools_complete": complete,
        "work_lost": tools - complete,
        "review_rows": rows,
        "duplicate_reviews": doubled,
        "model_calls": calls,
        "model_calls_needed": tools * personas,
        "prompts_repeated": sum(n - 1 for n in prompts.values() if n > 1),
        "requeued": sum(losses.values()),
        "would_give_up_at_3": sum(1 for n in losses.values() if n >= 3),
        "seconds": round(elapsed, 1),
    }


def models_q_current():
    from django.db.models import Q

    from toolverdict.panel.progress import persona_slugs

    return Q(panel_reviews__is_current=True, panel_reviews__persona__in=persona_slugs())


# --- votes ----------------------------------------------------------------------------


def part_votes(kills: int, seed: int, voters: int = 16) -> dict:
    import votes as votes_bench

    rng = random.Random(seed)
    data_dir = Path(tempfile.mkdtemp(prefix="crash-votes-"))
    env = part_env(
        data_dir,
        TOOLVERDICT_TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",
        TOOLVERDICT_COMMUNITY_RATE_VOTE_USER="100000000/60",
        TOOLVERDICT_COMMUNITY_RATE_VOTE_IP="100000000/60",
        TOOLVERDICT_COMMUNITY_NEW_ACCOUNT_DELAY_HOURS="0",
        TOOLVERDICT_COMMUNITY_MIN_VOTES="1",
    )
    setup_django(env)
    from django.conf import settings

    from toolverdict.catalog.importer import import_path

    import_path(settings.TOOLVERDICT_STARTER_CATALOG)
    close_db()
    setup = json.loads(votes_bench.django_call(env, "_setup_voters", str(voters)))
    proc, base = start_gunicorn(env)
    pool = [votes_bench.Voter(base, v["user_id"], v["session"]) for v in setup["voters"]]
    for n, voter in enumerate(pool):
        # A CSRF secret of our own in cookie and header (what a page's token unmasks to),
        # so the bench does not depend on which pages set the cookie.
        voter.cookies["csrftoken"] = f"crashbench{n:04d}".ljust(32, "x")
    tools = setup["tools"]
    acked: Counter = Counter()
    attempts = errors = 0
    stop = threading.Event()
    lock = threading.Lock()
    server = {"base": base}

    def vote(index: int, voter) -> None:
        nonlocal attempts, errors
        k = 0
        while not stop.is_set():
            slug = tools[(index * 7 + k) % len(tools)]
            value = "ship" if (k // len(tools) + index) % 2 == 0 else "skip"
            k += 1
            host_port = server["base"].rsplit(":", 1)[1]
            voter.port = int(host_port)
            try:
                status, flag = voter.request("POST", f"/votes/tool/{slug}/", {"value": value})
            except (OSError, http.client.HTTPException):  # the server died mid-answer
                with lock:
                    attempts += 1
                    errors += 1
                time.sleep(0.02)
                continue
            with lock:
                attempts += 1
                if status == 200 and flag == "1":
                    acked[(voter.user_id, slug, value)] += 1
                else:
                    errors += 1

    threads = [threading.Thread(target=vote, args=(i, v)) for i, v in enumerate(pool)]
    for t in threads:
        t.start()
    faults = 0
    started = time.monotonic()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.5, 2.5))  # mid-burst: the voters never pause
            kill_group(proc)
            faults += 1
            time.sleep(rng.uniform(0.0, 0.5))
            proc, base = start_gunicorn(env, port=int(server["base"].rsplit(":", 1)[1]))
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
        kill_group(proc, signal.SIGTERM)
    elapsed = time.monotonic() - started
    from toolverdict.community.models import ToolVote, VoteEvent

    events = Counter(
        VoteEvent.objects.filter(kind="tool").values_list("user_id", "tool__slug", "value")
    )
    lost = sum(max(0, n - events.get(key, 0)) for key, n in acked.items())
    from django.db.models import Count

    doubled = (
        ToolVote.objects.values("user_id", "tool_id").annotate(n=Count("pk")).filter(n__gt=1)
    ).count()
    return {
        "part": "votes",
        "trials": faults + 1,
        "faults": faults,
        "attempts": attempts,
        "acknowledged": sum(acked.values()),
        "recorded": sum(events.values()),
        "recorded_not_acknowledged": max(0, sum(events.values()) - sum(acked.values())),
        "failed_requests": errors,
        "work_lost": lost,
        "duplicate_rows": doubled,
        "seconds": round(elapsed, 1),
    }


def start_gunicorn(env: dict[str, str], port: int | None = None) -> tuple[subprocess.Popen, str]:
    import urllib.request

    from _common import free_port, gunicorn_command

    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    for _attempt in range(50):
        proc = subprocess.Popen(
            gunicorn_command(
                port,
                2,
                *("--worker-class", "gthread", "--threads", "8"),
                *("--log-level", "critical", "--no-control-socket"),
            ),
            env=env,
            start_new_session=True,
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310
                return proc, base
            except OSError:
                if proc.poll() is not None:
                    break  # the port is not free yet: try again
                time.sleep(0.1)
        kill_group(proc)
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


# --- digest ---------------------------------------------------------------------------


def part_digest(kills: int, seed: int, recipients: int = 1500) -> dict:
    from digest import Sink

    rng = random.Random(seed)
    data_dir = Path(tempfile.mkdtemp(prefix="crash-digest-"))
    db = data_dir / "digest.sqlite3"
    env = part_env(data_dir, DATABASE_URL=f"sqlite:///{db}")
    setup_django(env)
    from django.utils import timezone

    from toolverdict.core.foreground import run_in_foreground
    from toolverdict.core.models import WorkerHeartbeat
    from toolverdict.digest.models import Delivery, Issue, Section, Subscriber
    from toolverdict.digest.tasks import send_issue_task

    Subscriber.objects.bulk_create(
        [Subscriber(email=f"reader{i}@example.com", status="confirmed") for i in range(recipients)],
        batch_size=1000,
    )
    emails = set(Subscriber.objects.values_list("email", flat=True))
    faults = issues = 0
    unknown = duplicates = missing = 0
    in_flight_delivered = 0
    max_unknown_per_kill = 0
    started = time.monotonic()
    while faults < kills:
        issues += 1
        now = timezone.now()
        issue = Issue.objects.create(
            iso_year=2100 + issues,
            iso_week=1,
            subject="Weekly AI Tool Verdicts",
            status=Issue.Status.APPROVED,
            period_start=now,
            period_end=now,
        )
        Section.objects.create(issue=issue, kind="tool", heading="A by Acme", body="The A tool.")
        sink = Sink(data_dir, f"issue{issues}")
        os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        finished = False
        while faults < kills and not finished:
            close_db()
            pid = os.fork()
            if pid == 0:  # the sender
                code = 0
                try:
                    run_in_foreground(send_issue_task, issue.pk, rate=0)
                except BaseException:  # noqa: BLE001 - reported by the exit code
                    code = 1
                os._exit(code)
            time.sleep(rng.uniform(0.0, 0.25))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            if os.WIFSIGNALED(status):
                WorkerHeartbeat.objects.filter(pid=pid, stopped_at__isnull=True).update(
                    stopped_at=timezone.now()
                )
                faults += 1
                # The rows this kill left in flight ("sending"): the next sender marks them
                # "unknown" and never resends them.
                in_flight = Delivery.objects.filter(issue=issue, status="sending").count()
                max_unknown_per_kill = max(max_unknown_per_kill, in_flight)
            finished = Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENT).exists()
        # Run to completion (no kill), then count.
        close_db()
        report = run_in_foreground(send_issue_task, issue.pk, rate=0)
        copies = sink.stop()
        rows = Counter(Delivery.objects.filter(issue=issue).values_list("status", flat=True))
        unknown_emails = set(
            Delivery.objects.filter(issue=issue, status="unknown").values_list(
                "subscriber__email", flat=True
            )
        )
        duplicates += sum(n - 1 for n in copies.values() if n > 1)
        unknown += rows.get("unknown", 0)
        in_flight_delivered += sum(1 for e in unknown_emails if copies.get(e))
        missing += len(emails - set(copies) - unknown_emails)
        assert report["finished"], report
    elapsed = time.monotonic() - started
    return {
        "part": "digest",
        "trials": faults + issues,
        "faults": faults,
        "issues": issues,
        "recipients_per_issue": recipients,
        "duplicates": duplicates,
        "unknown": unknown,
        "unknown_delivered": in_flight_delivered,
        "max_unknown_per_kill": max_unknown_per_kill,
        "work_lost": missing,
        "seconds": round(elapsed, 1),
    }


# --- ingest ---------------------------------------------------------------------------


def ingest_setup(data_dir: Path, base_env: dict) -> tuple[dict, object]:
    import ingest as ingest_bench

    rng = random.Random(11)
    entries = ingest_bench.make_entries(900, ingest_bench.make_known(30, rng), rng)
    bodies = {
        f"/feed{i}.json": json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "items": entries[s : s + 50]}
        ).encode()
        for i, s in enumerate(range(0, len(entries), 50))
    }
    httpd, base = ingest_bench.serve(bodies)
    return {"feeds": [base + p for p in bodies], "entries": len(entries)}, httpd


def ingest_db(env: dict, feeds: list[str]) -> None:
    """A fresh database with the starter catalog, the feeds, and the day's task queued."""
    from django.conf import settings

    from toolverdict.catalog.importer import import_path
    from toolverdict.catalog.models import Category
    from toolverdict.ingest.models import Feed

    import_path(settings.TOOLVERDICT_STARTER_CATALOG)
    category = Category.objects.order_by("pk").first()
    for i, url in enumerate(feeds):
        Feed.objects.create(name=f"feed {i}", url=url, category=category)


def ingest_outcome(day) -> dict:
    from django.db.models import Count

    from toolverdict.catalog.models import Tool
    from toolverdict.ingest.models import Candidate, FeedEntry, PipelineRun

    run = PipelineRun.objects.get(day=day)
    statuses = Counter(Candidate.objects.values_list("status", flat=True))
    per_entry = Candidate.objects.values("entry_id").annotate(n=Count("pk")).filter(n__gt=1)
    imported = Candidate.objects.filter(status="imported")
    tools_from_feed = Tool.objects.filter(ingest_candidates__isnull=False).distinct()
    by_homepage = tools_from_feed.values("homepage").annotate(n=Count("pk")).filter(n__gt=1)
    return {
        "status": run.status,
        "attempts": run.attempts,
        "entries": FeedEntry.objects.count(),
        "entries_without_candidate": FeedEntry.objects.filter(candidate__isnull=True).count(),
        "candidates": dict(statuses),
        "candidates_per_entry_over_1": per_entry.count(),
        "imported_tools": tools_from_feed.count(),
        "imported_candidates": imported.count(),
        "tools_imported_twice": by_homepage.count(),
        "unpublished_imports": tools_from_feed.filter(is_published=False).count(),
    }


def part_ingest(kills: int, seed: int, per_trial: int = 2) -> dict:
    """Trials of one fresh database each: the day's run, SIGKILLed at random moments (up
    to ``per_trial`` times), recovered and rerun to the end; compared with a reference."""
    import datetime as dt

    rng = random.Random(seed)
    data_dir = Path(tempfile.mkdtemp(prefix="crash-ingest-"))
    common = {
        "TOOLVERDICT_INGEST_EMBEDDER": "ngram",
        "TOOLVERDICT_INGEST_ALLOW_PRIVATE_ADDRESSES": "true",
        "TOOLVERDICT_INGEST_REVIEW_LIMIT": "12",
        "TOOLVERDICT_TEST_MODEL_DELAY": "0.03",
    }
    day = dt.date(2026, 12, 1)
    feeds_info, httpd = ingest_setup(data_dir, {})

    def one(name: str, kills_here: int, longest: float) -> dict:
        env = part_env(data_dir, DATABASE_URL=f"sqlite:///{data_dir / name}.sqlite3", **common)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "_ingest_run",
                name,
                json.dumps(feeds_info["feeds"]),
                day.isoformat(),
                str(kills_here),
                str(rng.randrange(1 << 30)),
                str(longest),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if out.returncode:
            raise SystemExit(f"ingest {name} run failed:\n{out.stdout}\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    ref = one("reference", 0, 0.0)
    keys = ("candidates", "imported_tools", "status", "entries")
    trials = faults = mid_run = lost = doubled = twice = 0
    differ = 0
    stages: Counter = Counter()
    started = time.monotonic()
    while faults < kills:
        trials += 1
        run = one(f"trial{trials}", min(per_trial, kills - faults), ref["run_seconds"])
        o = run["outcome"]
        faults += run["faults"]
        mid_run += run["mid_run"]
        stages.update(run["stages"])
        doubled += o["candidates_per_entry_over_1"]
        twice += o["tools_imported_twice"]
        lost += o["entries_without_candidate"] + o["unpublished_imports"] + (o["status"] != "done")
        differ += any(o[k] != ref["outcome"][k] for k in keys)
    httpd.shutdown()
    return {
        "part": "ingest",
        "trials": trials,
        "faults": faults,
        "kills_mid_run": mid_run,
        "stages_at_kill": dict(stages),
        "reference": ref["outcome"],
        "reference_seconds": ref["run_seconds"],
        "runs_unlike_reference": differ,
        "duplicate_candidates": doubled,
        "tools_imported_twice": twice,
        "work_lost": lost,
        "seconds": round(time.monotonic() - started, 1),
    }


def ingest_run(
    name: str, feeds: list[str], day_text: str, kills: int, seed: int, longest: float
) -> dict:
    import datetime as dt

    rng = random.Random(seed)
    env = dict(os.environ)
    setup_django(env)
    ingest_db(env, feeds)
    from toolverdict.ingest.models import PipelineRun
    from toolverdict.ingest.pipeline import get_run
    from toolverdict.ingest.tasks import run_daily_pipeline

    day = dt.date.fromisoformat(day_text)
    get_run(day)
    run_daily_pipeline.enqueue(day.isoformat())
    close_db()
    path = run_daily_pipeline.module_path
    log = Path(os.environ["TOOLVERDICT_DATA_DIR"]) / f"ingest-{name}.log"
    faults = mid_run = 0
    stages: Counter = Counter()
    started = time.monotonic()

    def run_state():
        row = PipelineRun.objects.filter(day=day).values("status", "stage").first()
        close_db()
        return row

    for n in range(kills):
        if run_state()["status"] == "done":
            break
        # The first kill anywhere in a whole run's length; later ones in the rerun.
        span = longest if n == 0 else longest / 2
        kill_while_running(env, log, path, rng, span, queues="ingest", n=n)
        faults += 1
        state = run_state()
        if state["status"] == "running":
            mid_run += 1
            stages[state["stage"] or "start"] += 1
    proc = start_worker(env, log, queues="ingest")
    wait_for(lambda: run_state()["status"] == "done", 600, step=0.3)
    wait_for(lambda: not queue_state(path)["RUNNING"], 60)
    kill_group(proc, signal.SIGTERM)
    run = PipelineRun.objects.get(day=day)
    return {
        "faults": faults,
        "mid_run": mid_run,
        "stages": dict(stages),
        "outcome": ingest_outcome(day),
        "recoveries": dict(recoveries()),
        "run_seconds": (run.finished_at - run.started_at).total_seconds(),
        "seconds": round(time.monotonic() - started, 1),
    }


# --- orchestration --------------------------------------------------------------------


PARTS = {"review": part_review, "votes": part_votes, "digest": part_digest, "ingest": part_ingest}


def run_part(name: str, kills: int, seed: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "_part", name, str(kills), str(seed)],
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )
    if out.returncode:
        raise SystemExit(f"part {name} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="review,votes,digest,ingest")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--review-kills", type=int, default=12)
    parser.add_argument("--vote-kills", type=int, default=8)
    parser.add_argument("--digest-kills", type=int, default=200)
    parser.add_argument("--ingest-kills", type=int, default=8)
    args = parser.parse_args()
    kills = {
        "review": args.review_kills,
        "votes": args.vote_kills,
        "digest": args.digest_kills,
        "ingest": args.ingest_kills,
    }
    failed = []
    print(f"crash injection (SIGKILL), seed {args.seed}, SQLite (WAL)")
    print(f"{'part':<8} {'trials':>6} {'faults':>6} {'work lost':>9}  checks")
    for name in args.parts.split(","):
        r = run_part(name, kills[name], args.seed)
        if name == "review":
            checks = (
                f"{r['tools_complete']}/{r['tools']} tools complete, "
                f"{r['duplicate_reviews']} duplicate reviews ({r['review_rows']} rows), "
                f"{r['kills_mid_task']} kills mid-task, {r['requeued']} tasks requeued, "
                f"model calls {r['model_calls']} for {r['model_calls_needed']} reviews "
                f"({r['prompts_repeated']} repeated), {r['would_give_up_at_3']} task(s) "
                f"killed 3+ times, {r['seconds']} s"
            )
            bad = r["work_lost"] or r["duplicate_reviews"] or not r["completed"]
            bad = bad or r["prompts_repeated"] > r["faults"]
        elif name == "votes":
            checks = (
                f"{r['acknowledged']} votes acknowledged, {r['recorded']} recorded "
                f"({r['recorded_not_acknowledged']} committed but unanswered), "
                f"{r['failed_requests']} requests failed while down, "
                f"{r['duplicate_rows']} duplicate rows, {r['seconds']} s"
            )
            bad = r["work_lost"] or r["duplicate_rows"] or not r["acknowledged"]
        elif name == "digest":
            checks = (
                f"{r['issues']} issues x {r['recipients_per_issue']} recipients, "
                f"{r['duplicates']} duplicates, {r['unknown']} unknown "
                f"({r['unknown_delivered']} of them delivered), at most "
                f"{r['max_unknown_per_kill']} unknown per kill, {r['seconds']} s"
            )
            bad = r["duplicates"] or r["work_lost"] or r["unknown"] > r["faults"]
            bad = bad or r["max_unknown_per_kill"] > 1
        else:
            o = r["reference"]
            checks = (
                f"{r['kills_mid_run']} kills mid-run (last stage done: {r['stages_at_kill']}); "
                f"{o['entries']} entries, candidates {o['candidates']} in an uninterrupted "
                f"run of {r['reference_seconds']:.1f} s; runs ending otherwise "
                f"{r['runs_unlike_reference']}, {r['duplicate_candidates']} duplicate "
                f"candidates, {r['tools_imported_twice']} tools imported twice, "
                f"{r['seconds']} s"
            )
            bad = r["work_lost"] or r["duplicate_candidates"] or r["tools_imported_twice"]
            bad = bad or r["runs_unlike_reference"]
        print(f"{name:<8} {r['trials']:>6} {r['faults']:>6} {r['work_lost']:>9}  {checks}")
        if bad:
            failed.append(name)
    if failed:
        raise SystemExit(f"FAILED: {', '.join(failed)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_part":
        result = PARTS[sys.argv[2]](int(sys.argv[3]), int(sys.argv[4]))
        print(json.dumps(result))
    elif len(sys.argv) > 1 and sys.argv[1] == "_ingest_run":
        result = ingest_run(
            sys.argv[2],
            json.loads(sys.argv[3]),
            sys.argv[4],
            int(sys.argv[5]),
            int(sys.argv[6]),
            float(sys.argv[7]),
        )
        print(json.dumps(result))
    else:
        main()
