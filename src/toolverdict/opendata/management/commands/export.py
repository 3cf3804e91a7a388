"""`toolverdict export [--format json|csv] [DIR]`: write the open-data dump into DIR."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolverdict.opendata.export import FORMATS, ExportError, prune, write_dump
from toolverdict.pagecache.versions import invalidate


class Command(BaseCommand):
    help = (
        "Write the publication's open data (tools, categories, price points, facts with "
        "their source checks, current reviews with claims, vote aggregates; no per-account "
        "data) as JSON or CSV into DIR/toolverdict-<format>-<UTC time>/, atomically. "
        "Without DIR, into TOOLVERDICT_EXPORT_DIR: /data/ then links the new dump at once "
        "and older dumps beyond TOOLVERDICT_EXPORT_KEEP are removed, as the periodic job "
        "does. The format is documented in docs/data.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            metavar="DIR",
            nargs="?",
            default=None,
            help="where the dump directory is made (default: TOOLVERDICT_EXPORT_DIR)",
        )
        parser.add_argument(
            "--format", dest="fmt", choices=FORMATS, default="json", help="json (default) or csv"
        )

    def handle(self, *args, directory: str | None, fmt: str, **options) -> None:
        served = Path(settings.TOOLVERDICT_EXPORT_DIR).resolve()
        target = served if directory is None else Path(directory).resolve()
        try:
            path = write_dump(target, fmt)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        if target == served:
            # What /data/ serves changed: keep the directory bounded as the job does, and
            # retire the cached /data/ page, which would otherwise link the old dump.
            prune(target, settings.TOOLVERDICT_EXPORT_KEEP)
            invalidate("data")
        self.stdout.write(str(path))
