"""`toolverdict up`: the main job on one machine, as a supervisor.

Migrates, imports the starter catalog, sends ``up_starting`` (core/signals.py), on which
the apps resume their own work (the panel queues every tool still to be reviewed, the seed
comparison's two tools first, and says how far it has got), then supervises three kinds
of child process (core/supervisor.py):

- the web server: gunicorn (``--dev``: Django's development server with autoreload);
- the task worker(s): ``toolverdict worker``, which runs those reviews, the digest and the
  daily ingest, with a heartbeat so that a dead worker's task is requeued;
- the scheduler, which runs the periodic jobs (the recovery job among them).

A child that dies is restarted with a doubling backoff, and each restart is logged.
SIGTERM or SIGINT (Ctrl-C) stops them all within ``--grace`` seconds: the worker finishes
its task if it can and otherwise hands it back to the queue; nothing outlives `up`.
``toolverdict status`` shows the panel's progress meanwhile.
"""

from __future__ import annotations

import logging
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from toolverdict.core.scheduling import periodic_jobs
from toolverdict.core.signals import up_starting
from toolverdict.core.supervisor import Child, Supervisor

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Set up and run everything on this machine: migrate, import the starter catalog, "
        "then serve the site (gunicorn) and run a task worker and the scheduler, restarting "
        "any that dies, until SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve")
        parser.add_argument("--no-worker", action="store_true", help="do not start a worker")
        parser.add_argument("--no-import", action="store_true", help="skip the starter import")
        parser.add_argument(
            "--dev",
            action="store_true",
            help="serve with Django's development server, reloading on code changes",
        )
        parser.add_argument(
            "--web-workers", type=int, default=2, help="gunicorn worker processes (default 2)"
        )
        parser.add_argument(
            "--workers", type=int, default=1, help="task worker processes (default 1)"
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=10.0,
            help="seconds the children get to stop after SIGTERM/SIGINT before they are "
            "killed (default 10); the worker hands an unfinished task back before that",
        )

    def handle(
        self,
        *args,
        addr: str,
        no_worker: bool,
        no_import: bool,
        dev: bool,
        web_workers: int,
        workers: int,
        grace: float,
        **options,
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database ready")
        if not no_import:
            call_command("import", starter=True, stdout=self.stdout, stderr=self.stderr)
        self.announce_start()
        children = self.children(addr, no_worker, dev, web_workers, workers, grace)
        self.stdout.write(f"serving http://{addr}/" + (" (development server)" if dev else ""))
        self.stdout.flush()
        supervisor = Supervisor(children, grace=grace, announce=self.announce)
        supervisor.run()
        self.stdout.write("stopped")

    def announce(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def children(
        self, addr: str, no_worker: bool, dev: bool, web_workers: int, workers: int, grace: float
    ) -> list[Child]:
        base = [sys.executable, "-m", "toolverdict.cli"]
        if dev:
            web = Child("web server", [*base, "runserver", addr, "--skip-checks"])
        else:
            web = Child(
                "web server",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "toolverdict.wsgi:application",
                    "--bind",
                    addr,
                    "--workers",
                    str(max(1, web_workers)),
                    "--graceful-timeout",
                    str(max(1, int(grace) - 2)),
                    # No runtime control socket in $HOME: two sites on one machine would
                    # share its path, and `up` is what controls this server.
                    "--no-control-socket",
                ],
            )
        children = [web]
        if not no_worker:
            # The worker must hand its task back before `up` gives up waiting on it.
            worker_grace = str(max(0.0, grace - 3))
            for n in range(max(1, workers)):
                name = "task worker" + (f" {n + 1}" if workers > 1 else "")
                children.append(
                    Child(name, [*base, "worker", "--queue-name", "*", "--grace", worker_grace])
                )
            if periodic_jobs():
                children.append(Child("scheduler", [*base, "scheduler"]))
        return children

    def announce_start(self) -> None:
        """Send ``up_starting`` and print what its receivers report (the panel's progress).

        A receiver's failure is logged and the site still starts (`toolverdict review --all
        --queue` queues the panel by hand).
        """
        for receiver, outcome in up_starting.send_robust(sender=type(self)):
            if isinstance(outcome, Exception):
                log.error("start: %r failed", receiver, exc_info=(type(outcome), outcome, None))
            elif outcome:
                self.stdout.write(str(outcome))
