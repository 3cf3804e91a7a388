"""`toolverdict export --format json|csv DIR`: write the open-data dump into DIR."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolverdict.opendata.export import FORMATS, ExportError, write_dump


class Command(BaseCommand):
    help = (
        "Write the publication's open data (tools, categories, price points, facts with "
        "their source checks, current reviews with claims, vote aggregates; no per-account "
        "data) as JSON or CSV into DIR/toolverdict-<format>-<UTC time>/, atomically. "
        "The format is documented in docs/data.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="where the dump directory is made")
        parser.add_argument(
            "--format", dest="fmt", choices=FORMATS, default="json", help="json (default) or csv"
        )

    def handle(self, *args, directory: str, fmt: str, **options) -> None:
        try:
            path = write_dump(directory, fmt)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
