"""Scale-out on PostgreSQL: three workers and two web processes review the starter catalog.

    .venv/bin/python bench/scale.py [--postgres-url postgres://postgres@127.0.0.1:5432/postgres]
        [--delay 0.25] [--workers 3]

One throwaway database (toolverdict_bench_scale) on that server. The starter catalog is
imported (its signal queues one panel task per tool: 30 tools x 4 personas), then two
gunicorn servers (standing in for two web machines) and N `toolverdict worker` processes
(standing in for N worker machines; no scheduler: the workers recover each other) start
against it. A scripted stand-in model takes --delay seconds per call. Once a third of the
tools are reviewed, one worker is SIGKILLed while it runs a task; the others go on.

Checks: every tool ends with a complete current panel, exactly one review per tool and
persona, no prompt sent to the model twice except the one in flight at the kill, the
killed worker's task requeued in place and finished by another worker; both web servers
answer throughout. The same catalog is then reviewed by one worker alone (no kill), in a
second database, for the speed-up ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _common import free_port, gunicorn_command  # noqa: E402
from crash import kill_group, part_env, start_worker, wait_for  # noqa: E402

DB = "toolverdict_bench_scale"


def database(url: str, name: str, action: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def django_json(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- inside Django (subprocesses) -----------------------------------------------------


def _django() -> None:
    import django

    django.setup()


def prepare() -> None:
    _django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from toolverdict.catalog.importer import import_path

    import_path(settings.TOOLVERDICT_STARTER_CATALOG)  # queues one task per tool
    from toolverdict.catalog.models import Tool
    from toolverdict.panel.progress import persona_slugs

    slugs = list(Tool.objects.published().values_list("slug", flat=True))
    print(json.dumps({"slugs": slugs, "personas": len(persona_slugs())}))


STATE_SQL = """
SELECT
  (SELECT count(*) FROM (
     SELECT t.id FROM catalog_tool t
     JOIN panel_review r ON r.tool_id = t.id AND r.is_current
     WHERE t.is_published GROUP BY t.id HAVING count(*) >= %s) done),
  (SELECT count(*) FROM django_tasks_database_dbtaskresult
     WHERE task_path = %s AND status IN ('READY', 'RUNNING'))
"""
TASK = "toolverdict.panel.tasks.review_tool"


def state(url: str, personas: int) -> dict:
    """Progress and the running tasks with their worker, read with plain SQL (cheap)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        done, open_tasks = conn.execute(STATE_SQL, [personas, TASK]).fetchone()
        running = [
            {"id": str(pk), "worker": (ids or [""])[-1]}
            for pk, ids in conn.execute(
                "SELECT id, worker_ids FROM django_tasks_database_dbtaskresult "
                "WHERE task_path = %s AND status = 'RUNNING'",
                [TASK],
            )
        ]
    return {"done": done, "running": running, "open": open_tasks}


def verify() -> None:
    _django()
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from toolverdict.catalog.models import Tool
    from toolverdict.core.models import TaskRecovery
    from toolverdict.panel.models import Review
    from toolverdict.panel.progress import persona_slugs

    tasks = DBTaskResult.objects.filter(task_path="toolverdict.panel.tasks.review_tool")
    finished_by = Counter((r or [""])[-1] for r in tasks.values_list("worker_ids", flat=True))
    print(
        json.dumps(
            {
                "tools": Tool.objects.published().count(),
                "personas": len(persona_slugs()),
                "reviews": Review.objects.count(),
                "current": Review.objects.filter(is_current=True).count(),
                "doubled": Review.objects.values("tool_id", "persona")
                .annotate(n=Count("pk"))
                .filter(n__gt=1)
                .count(),
                "statuses": dict(Counter(tasks.values_list("status", flat=True))),
                "finished_by": dict(finished_by),
                "recoveries": [
                    {"task": str(r.task_id), "worker": r.worker_id, "action": r.action}
                    for r in TaskRecovery.objects.all()
                ],
                "task_workers": {
                    str(pk): ids
                    for pk, ids in tasks.values_list("pk", "worker_ids")
                    if len(ids or []) > 1
                },
            }
        )
    )


# --- orchestration --------------------------------------------------------------------


def gunicorn(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        gunicorn_command(port, 1, "--log-level", "warning", "--no-control-socket"),
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    if not wait_for(lambda: _ok(base + "/healthz"), 120, step=0.2):
        raise SystemExit("gunicorn did not start")
    return proc, base


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            response.read()
            return response.status == 200
    except OSError:
        return False


def run(env: dict, workers: int, kill_after: int | None, webs: int) -> dict:
    data_dir = Path(env["TOOLVERDICT_DATA_DIR"])
    prepared = django_json(env, "_prepare")
    slugs, personas = prepared["slugs"], prepared["personas"]
    servers = [gunicorn(env) for _ in range(webs)]
    reads = Counter()
    stop = threading.Event()

    def reader(base: str) -> None:
        n = 0
        while not stop.is_set():
            url = base + (f"/tools/{slugs[n % len(slugs)]}/" if n % 2 else "/")
            reads["ok" if _ok(url) else "failed"] += 1
            n += 1
            time.sleep(0.2)

    readers = [threading.Thread(target=reader, args=(b,)) for _, b in servers]
    for t in readers:
        t.start()
    log = data_dir / "workers.log"
    ids = [f"scale-{os.getpid()}-{n}" for n in range(workers)]
    started = time.monotonic()
    procs = {wid: start_worker(env, log, queues="*", worker_id=wid) for wid in ids}
    killed = None
    killed_at = None
    killed_task = None
    total = len(slugs)
    try:
        while time.monotonic() - started < 1200:
            s = state(env["DATABASE_URL"], personas)
            if kill_after is not None and killed is None and s["done"] >= kill_after:
                victims = [r for r in s["running"] if r["worker"] in procs]
                if victims:
                    killed, killed_task = victims[0]["worker"], victims[0]["id"]
                    kill_group(procs.pop(killed))
                    killed_at = time.monotonic() - started
            if s["done"] >= total and not s["open"]:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for proc in procs.values():
            kill_group(proc, signal.SIGTERM)
        stop.set()
        for t in readers:
            t.join(timeout=30)
        for proc, _ in servers:
            kill_group(proc, signal.SIGTERM)
    result = django_json(env, "_verify")
    calls = (data_dir / "calls.log").read_text().splitlines()
    prompts = Counter(line.split()[1] for line in calls)
    result.update(
        {
            "workers": workers,
            "webs": webs,
            "seconds": round(elapsed, 1),
            "killed": killed,
            "killed_task": killed_task,
            "killed_at": round(killed_at, 1) if killed_at else None,
            "model_calls": len(calls),
            "prompts_repeated": sum(n - 1 for n in prompts.values() if n > 1),
            "reads": dict(reads),
        }
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a server where the bench may create and drop its own databases",
    )
    parser.add_argument("--delay", type=float, default=0.25, help="seconds per model call")
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    results = {}
    for name, workers, kill, webs in (("scale", args.workers, True, 2), ("one", 1, False, 1)):
        url = database(args.postgres_url, f"{DB}_{name}", "create")
        data_dir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{name}-"))
        env = part_env(
            data_dir,
            DATABASE_URL=url,
            TOOLVERDICT_TEST_MODEL_DELAY=str(args.delay),
            CACHE_URL="locmemcache://scale",
        )
        try:
            results[name] = run(env, workers, 10 if kill else None, webs)
        finally:
            database(args.postgres_url, f"{DB}_{name}", "drop")

    r, one = results["scale"], results["one"]
    needed = r["tools"] * r["personas"]
    print(
        f"scale-out on PostgreSQL: {r['workers']} workers + {r['webs']} gunicorn servers, "
        f"starter catalog ({r['tools']} tools x {r['personas']} personas), scripted model "
        f"{args.delay:.2f} s per call"
    )
    print(
        f"  reviews stored {r['reviews']} (current {r['current']}) for {needed} needed; "
        f"tool/persona pairs reviewed twice: {r['doubled']}"
    )
    print(
        f"  model calls {r['model_calls']} ({r['prompts_repeated']} prompt(s) sent twice: "
        "the call in flight at the kill)"
    )
    print(
        f"  worker {r['killed']} SIGKILLed at {r['killed_at']} s while running task "
        f"{r['killed_task']}; recovery: {r['recoveries']}"
    )
    print(f"  tasks: {r['statuses']}; finished per worker: {r['finished_by']}")
    print(f"  web reads during the run: {r['reads']}")
    print(
        f"  done in {r['seconds']} s; one worker alone (no kill): {one['seconds']} s; "
        f"speed-up {one['seconds'] / r['seconds']:.2f}x with {r['workers']} workers"
    )
    bad = (
        r["reviews"] != needed
        or r["doubled"]
        or r["prompts_repeated"] > 1
        or r["statuses"] != {"SUCCESSFUL": r["tools"]}
        or not r["killed"]
        or r["reads"].get("failed")
        or not any(x["task"] == r["killed_task"] for x in r["recoveries"])
    )
    if bad:
        raise SystemExit("FAILED")


if __name__ == "__main__":
    commands = {"_prepare": prepare, "_verify": verify}
    if len(sys.argv) > 1 and sys.argv[1] in commands:
        commands[sys.argv[1]]()
    else:
        main()
