"""`toolverdict check-sources`: fetch every cited source URL and record what each check found."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolverdict.catalog.models import Source
from toolverdict.catalog.sources import CheckResult, source_status, stale_or_dead, sync_sources
from toolverdict.ingest.source_checks import check_sources


class Command(BaseCommand):
    help = (
        "Fetch every URL cited by a fact or price point of a published tool (through the "
        "ingest's address guard, with timeouts, a size limit, a polite per-host rate and a "
        "descriptive User-Agent) and record its status, final URL, date and content hash. "
        "Prints each result, then the sources that are unreachable or stale."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "urls", nargs="*", help="check only these cited URLs (default: every cited URL)"
        )
        parser.add_argument(
            "--list", action="store_true", help="print each source's status; fetch nothing"
        )

    def handle(self, *args, urls: list[str], list: bool, **options) -> None:  # noqa: A002
        if list:
            sync_sources()
            for source in Source.objects.order_by("url"):
                self.stdout.write(f"{source_status(source).label:<45} {source.url}")
            return
        if urls:
            known = set(Source.objects.filter(url__in=urls).values_list("url", flat=True))
            sync_sources()
            known |= set(Source.objects.filter(url__in=urls).values_list("url", flat=True))
            unknown = [u for u in urls if u not in known]
            if unknown:
                raise CommandError(
                    "not cited by any published tool: " + ", ".join(u[:200] for u in unknown)
                )

        def show(result: CheckResult) -> None:
            status = f"HTTP {result.http_status}" if result.http_status else "-"
            line = f"{result.outcome:<12} {status:<9} {result.url}"
            if result.detail:
                line += f"  ({result.detail})"
            self.stdout.write(line)

        results = check_sources(urls or None, progress=show)
        ok = sum(r.outcome == Source.Outcome.OK for r in results)
        self.stdout.write(
            f"{len(results)} source(s) checked: {ok} reachable, {len(results) - ok} not"
        )
        flagged = stale_or_dead()
        if flagged:
            self.stdout.write(f"{len(flagged)} source(s) unreachable or stale:")
            for url, status in sorted(flagged.items()):
                self.stdout.write(f"  {status.label}: {url}")
