"""`toolverdict ingest [--date D] [--again]`: run the daily pipeline now, in this process.

It runs the day's task as a one-task worker of its own (core/foreground.py), not a bare
call: while it runs, its heartbeat tells everyone it is alive (the daily job and workers
never take the day over, however long it takes), and if it is killed the recovery step
notices within ``TOOLVERDICT_WORKER_STALE_AFTER``, puts the day back to "queued" and its
task back in the queue, where a worker or the next `toolverdict ingest` resumes it. A run
a worker has in hand is waited for, never run a second time beside it.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from toolverdict.core.foreground import run_in_foreground
from toolverdict.ingest.candidates import feed_error_rows
from toolverdict.ingest.models import PipelineRun, RunStatus
from toolverdict.ingest.pipeline import get_run
from toolverdict.ingest.tasks import run_daily_pipeline


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date wants YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Run the daily pipeline (read feeds, dedupe, import, panel review, choose "
        "comparisons, publish) for one day, in this process, and print its run record. "
        "It runs as a one-task worker: if it is killed, a worker or the next run resumes "
        "the day; while a worker runs the day, it waits for it. "
        "A day already done is left alone unless --again; a re-run only ingests entries "
        "never seen before, so it never imports a tool twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=_day,
            default=None,
            help="the day to run, YYYY-MM-DD (default: today, UTC)",
        )
        parser.add_argument(
            "--again", action="store_true", help="run a day that is already done once more"
        )
        parser.add_argument(
            "--model",
            default=None,
            help="panel model for the review stage (default: TOOLVERDICT_PANEL_MODEL)",
        )

    def handle(self, *args, date: dt.date | None, again: bool, model: str | None, **options):
        day = date or timezone.now().date()
        existing = PipelineRun.objects.filter(day=day).first()
        if existing and existing.status == RunStatus.DONE and not again:
            self.stdout.write(f"pipeline {day}: already done; --again runs it once more")
            return
        options = {"again": True} if again else {}
        if model:
            options["model"] = model

        def waiting() -> None:
            self.stderr.write(f"pipeline {day}: a worker is running it; waiting for it to finish")

        run_in_foreground(run_daily_pipeline, day.isoformat(), on_wait=waiting, **options)
        run = get_run(day)
        self.stdout.write(
            f"pipeline {run.day}: {run.status} (attempt {run.attempts})\n"
            f"  feeds read {run.feeds_read}, entries in {run.entries_in}, "
            f"new entries {run.new_entries}\n"
            f"  new candidates {run.new_candidates}, duplicates {run.duplicates}, "
            f"invalid {run.invalid}, imported {run.imported}\n"
            f"  reviewed {run.reviewed}, comparisons {run.comparisons.count()}, "
            f"published {run.published}"
            + (f"\n  panel: {run.panel_note}" if run.panel_note else "")
        )
        for row in feed_error_rows(run):
            self.stdout.write(f"  feed {row.name!r} ({row.url}): {row.error}")
        if run.status == RunStatus.FAILED:
            raise CommandError(f"pipeline failed: {run.error}")
