"""`toolverdict import PATH…`: validate and upsert TOML catalog files."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolverdict.catalog.importer import CatalogImportError, import_path


class Command(BaseCommand):
    help = (
        "Import TOML catalog files. Each file is validated in full first; a file with any "
        "error changes nothing and every error is printed with its tool and field. "
        "Re-importing an unchanged file changes nothing. Use --starter for the bundled "
        "starter catalog."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="catalog files (TOML); see docs/catalog.md")
        parser.add_argument(
            "--starter", action="store_true", help="import the bundled starter catalog"
        )

    def handle(self, *args, paths: list[str], starter: bool, **options) -> None:
        if starter:
            paths = [str(settings.TOOLVERDICT_STARTER_CATALOG), *paths]
        if not paths:
            raise CommandError("give at least one catalog file, or --starter")
        failed = False
        starter_path = str(settings.TOOLVERDICT_STARTER_CATALOG)
        for path in paths:
            label = "starter catalog" if path == starter_path else path
            try:
                report = import_path(path)
            except CatalogImportError as exc:
                failed = True
                self.stderr.write(f"{label}: {len(exc.errors)} error(s), nothing imported")
                for error in exc.errors:
                    self.stderr.write(f"  - {error}")
                continue
            self.stdout.write(
                f"{label}: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged"
                + (
                    f", {len(report.categories_created)} new categories"
                    if report.categories_created
                    else ""
                )
            )
        if failed:
            raise CommandError("some catalog files were not imported")
