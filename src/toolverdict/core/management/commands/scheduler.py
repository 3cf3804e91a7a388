"""`toolverdict scheduler`: call the periodic jobs every interval (or once with --once)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from toolverdict.core.scheduling import run_due_jobs


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (weekly digest, daily ingestion) whenever they are due. "
        "Due-ness is read from the database, so it is safe to run this from cron with "
        "--once, or as a long-running process, or both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument(
            "--interval",
            type=int,
            default=settings.TOOLVERDICT_SCHEDULER_INTERVAL,
            help="seconds between ticks (default: %(default)s)",
        )

    def handle(self, *args, once: bool, interval: int, **options) -> None:
        stop = threading.Event()
        if not once:
            # SIGTERM/SIGINT: the tick in progress finishes (every job is crash-safe, so a
            # SIGKILL mid-tick loses nothing either), then the scheduler exits.
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            for job, outcome in run_due_jobs().items():
                self.stdout.write(f"{job}: {outcome}")
            if once:
                return
            stop.wait(max(1, interval))
