"""Benchmark: digest emails/s into a local SMTP sink, clean and with a crash-and-resume.

    .venv/bin/python bench/digest.py [--subscribers 10000] [--database-url URL]

Three runs of the same composed issue (the starter catalog's week) to N subscribers,
each into its own aiosmtpd sink running in a separate process:

  bare     Django's stock SMTP backend, one reused connection, no delivery bookkeeping
           (the floor: rendering + SMTP only; no crash safety at all).
  digest   `toolverdict digest send` in a subprocess: the issue's claim, one Delivery row
           per recipient, claim-before-send and mark-after-send commits.
  crash    the same, but the sink SIGKILLs the sender while it accepts message N/2 (the
           worst moment: stored by the server, not yet acknowledged), then the command is
           run again to completion. Reports duplicates and missing recipients (must be 0).
           Heartbeat 0.5 s, stale after 2 s for these two commands: the rerun waits for
           the killed one's heartbeat to go stale (production: 60 s), so the time includes
           that wait.

Ratios are measured side by side in one run. SQLite (WAL) in a temporary folder unless
--database-url points at an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the sink (runs in its own process) ------------------------------------------------


def run_sink(port: int, out: str, kill_at: int, victim_file: str) -> None:
    from aiosmtpd.controller import Controller

    # Block the stop signals before the server thread starts, so sigwait receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    log = open(out, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    state = {"count": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            for rcpt in envelope.rcpt_tos:
                log.write(rcpt + "\n")
            state["count"] += 1
            if kill_at and state["count"] == kill_at:
                pid = int(Path(victim_file).read_text())
                os.kill(pid, signal.SIGKILL)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    Path(out + ".ready").write_text("1")
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    log.close()


class Sink:
    def __init__(self, workdir: Path, name: str, kill_at: int = 0) -> None:
        self.port = free_port()
        self.out = workdir / f"{name}.rcpts"
        self.victim = workdir / f"{name}.pid"
        self.out.write_text("")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--sink",
                str(self.port),
                str(self.out),
                str(kill_at),
                str(self.victim),
            ]
        )
        ready = Path(str(self.out) + ".ready")
        while not ready.exists():
            if self.proc.poll() is not None:
                raise SystemExit("the SMTP sink did not start")
            time.sleep(0.05)

    def stop(self) -> Counter:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        return Counter(line for line in self.out.read_text().splitlines() if line)


# --- the runs --------------------------------------------------------------------------


def sender_env(db_url: str, port: int, *, fast_heartbeat: bool = False) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "TOOLVERDICT_LOG_LEVEL": "WARNING",
        **(
            {"TOOLVERDICT_WORKER_HEARTBEAT": "0.5", "TOOLVERDICT_WORKER_STALE_AFTER": "2"}
            if fast_heartbeat
            else {}
        ),
    }


def send_command(issue_id: int) -> list[str]:
    return [sys.executable, "-m", "toolverdict.cli", "digest", "send", str(issue_id), "--rate", "0"]


def run_bare(issue_id: int, port: int) -> float:
    from django.core.mail import get_connection
    from django.test.utils import override_settings

    from toolverdict.digest.models import Issue, Subscriber
    from toolverdict.digest.rendering import build_message, render_issue
    from toolverdict.digest.subscriptions import unsubscribe_url

    issue = Issue.objects.get(pk=issue_id)
    subscribers = list(Subscriber.objects.filter(status="confirmed").order_by("pk"))
    start = time.perf_counter()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
    ):
        rendered = render_issue(issue)
        connection = get_connection()
        connection.open()
        for s in subscribers:
            message = build_message(
                rendered, issue, email=s.email, unsubscribe_url=unsubscribe_url(s), delivery_id=s.pk
            )
            connection.send_messages([message])
        connection.close()
    return time.perf_counter() - start


def run_digest(issue_id: int, db_url: str, port: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        send_command(issue_id), env=sender_env(db_url, port), check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def run_crash(issue_id: int, db_url: str, sink: Sink) -> tuple[float, int]:
    start = time.perf_counter()
    env = sender_env(db_url, sink.port, fast_heartbeat=True)
    proc = subprocess.Popen(send_command(issue_id), env=env, stdout=subprocess.DEVNULL)
    sink.victim.write_text(str(proc.pid))
    proc.wait()
    killed_rc = proc.returncode
    subprocess.run(send_command(issue_id), env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, killed_rc


def make_issues(names: list[str]) -> dict[str, int]:
    """This week's issue composed from the starter catalog, and identical copies of it."""
    from django.utils import timezone

    from toolverdict.digest.compose import compose_issue
    from toolverdict.digest.models import Issue, Section

    now = timezone.now()
    year, week, _ = now.isocalendar()
    first = compose_issue(year, week, now=now, auto_send=True)
    if first.status != Issue.Status.APPROVED:
        raise SystemExit(f"issue {first.key} is {first.status}, expected approved")
    sections = list(first.sections.all())
    ids = {names[0]: first.pk}
    for offset, name in enumerate(names[1:], 1):
        copy = Issue.objects.create(
            iso_year=year + offset,
            iso_week=week,
            subject=first.subject,
            intro=first.intro,
            status=Issue.Status.APPROVED,
            period_start=first.period_start,
            period_end=first.period_end,
        )
        for section in sections:
            section.pk = None
            section.issue = copy
        Section.objects.bulk_create(sections)
        ids[name] = copy.pk
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    db_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(
        {
            "TOOLVERDICT_DATA_DIR": str(workdir),
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "toolverdict.settings",
            "TOOLVERDICT_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from toolverdict.catalog.importer import import_path
    from toolverdict.digest.models import Delivery, Subscriber
    from toolverdict.digest.sending import materialize_deliveries  # noqa: F401 - warm import

    call_command("migrate", verbosity=0)
    import_path(settings.TOOLVERDICT_STARTER_CATALOG)
    n = args.subscribers
    Subscriber.objects.bulk_create(
        [Subscriber(email=f"reader{i}@example.com", status="confirmed") for i in range(n)],
        batch_size=2000,
    )
    emails = set(Subscriber.objects.values_list("email", flat=True))
    issues = make_issues(["bare", "digest", "crash"])
    engine = "PostgreSQL" if db_url.startswith("postgres") else "SQLite (WAL)"
    print(f"digest benchmark: {n} subscribers, {engine}, sink = aiosmtpd in its own process")

    sink = Sink(workdir, "bare")
    t_bare = run_bare(issues["bare"], sink.port)
    c_bare = sink.stop()

    sink = Sink(workdir, "digest")
    t_digest = run_digest(issues["digest"], db_url, sink.port)
    c_digest = sink.stop()

    sink = Sink(workdir, "crash", kill_at=n // 2)
    t_crash, killed_rc = run_crash(issues["crash"], db_url, sink)
    c_crash = sink.stop()

    def line(name: str, seconds: float, copies: Counter) -> float:
        rate = sum(copies.values()) / seconds
        dups = sum(c - 1 for c in copies.values() if c > 1)
        missing = len(emails - set(copies))
        print(
            f"  {name:<7} {sum(copies.values()):>6} emails in {seconds:7.2f} s = "
            f"{rate:8.1f} emails/s   duplicates {dups}   missing {missing}"
        )
        return rate

    r_bare = line("bare", t_bare, c_bare)
    r_digest = line("digest", t_digest, c_digest)
    r_crash = line("crash", t_crash, c_crash)
    statuses = Counter(
        Delivery.objects.filter(issue_id=issues["crash"]).values_list("status", flat=True)
    )
    print(
        f"  crash run: sender killed (rc {killed_rc}) at message {n // 2}; "
        f"rows after resume: {dict(statuses)}"
    )
    print(
        f"  ratio digest/bare = {r_digest / r_bare:.2f}   crash/digest = {r_crash / r_digest:.2f}"
    )
    dups = sum(c - 1 for c in c_crash.values() if c > 1)
    shutil.rmtree(workdir, ignore_errors=True)
    if dups or killed_rc != -signal.SIGKILL:
        raise SystemExit("FAILED: duplicates after crash-and-resume, or the sender was not killed")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        main()
