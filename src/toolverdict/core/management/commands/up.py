"""`toolverdict up`: the main job on one machine.

Migrates, imports the starter catalog, queues the panel for every tool still to be
reviewed (the seed comparison's two tools first, see ``TOOLVERDICT_PANEL_FIRST``), starts
a background worker (which runs those reviews) and the scheduler, and serves the site.
Ctrl-C stops all. ``toolverdict status`` shows the panel's progress meanwhile.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Set up and run everything on this machine: migrate, import the starter catalog, "
        "start a task worker and the scheduler, and serve the site."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve")
        parser.add_argument("--no-worker", action="store_true", help="do not start a worker")
        parser.add_argument("--no-import", action="store_true", help="skip the starter import")

    def handle(self, *args, addr: str, no_worker: bool, no_import: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database ready")
        if not no_import:
            call_command("import", starter=True, stdout=self.stdout, stderr=self.stderr)
        self.queue_panel()
        children: list[subprocess.Popen] = []
        base = [sys.executable, "-m", "toolverdict.cli"]
        if not no_worker:
            children.append(subprocess.Popen([*base, "db_worker", "--queue-name", "*"]))
            self.stdout.write("task worker started")
            if settings.TOOLVERDICT_PERIODIC_JOBS:
                children.append(subprocess.Popen([*base, "scheduler"]))
                self.stdout.write("scheduler started")
        self.stdout.write(f"serving http://{addr}/")
        try:
            call_command("runserver", addr, use_reloader=False, skip_checks=True)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def queue_panel(self) -> None:
        """Queue what the panel still has to review (a restart picks up where it stopped)."""
        from toolverdict.panel.progress import panel_progress
        from toolverdict.panel.tasks import queue_backlog

        try:
            queue_backlog()
            progress = panel_progress(brief=True)
        except Exception:
            # The site still serves; `toolverdict review --all --queue` can queue it later.
            log.exception("could not queue the panel")
            return
        if not progress.done:
            first = ", ".join(getattr(settings, "TOOLVERDICT_PANEL_FIRST", ()) or ())
            self.stdout.write(
                f"panel: {progress.reviewed} of {progress.total} tools reviewed"
                + (f", {first} first" if first else "")
                + "; `toolverdict status` shows progress"
            )
