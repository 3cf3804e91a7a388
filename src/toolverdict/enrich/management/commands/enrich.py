"""`toolverdict enrich SLUG…`: read tools' own pages now and store what they state."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from toolverdict.catalog.models import Tool
from toolverdict.enrich.services import ToolReport, enrich_tools


class Command(BaseCommand):
    help = (
        "Read each tool's homepage and the few same-site pages it links for pricing, docs, "
        "licence and model card (robots.txt obeyed, the ingest's address guard, timeouts, a "
        "size limit, one request per host at a time), extract prices, pricing model, free "
        "tier, licence, open weights, context window, API, tool calling and platforms, and "
        "store them as extracted facts awaiting an editor's review (/enrich/queue/). "
        "Prints what each tool's pages gave."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="tool slugs (default: every published tool)")
        parser.add_argument("--all", action="store_true", help="every tool, hidden ones included")

    def handle(self, *args, slugs: list[str], all: bool, **options) -> None:  # noqa: A002
        if slugs:
            found = {t.slug: t for t in Tool.objects.filter(slug__in=slugs)}
            missing = [s for s in slugs if s not in found]
            if missing:
                raise CommandError("no such tool: " + ", ".join(missing))
            tools = [found[s] for s in dict.fromkeys(slugs)]
        else:
            queryset = Tool.objects.all() if all else Tool.objects.published()
            tools = list(queryset.order_by("slug"))
        console = Console(file=self.stdout, stderr=False, force_terminal=None)
        lines: list[str] = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task("enrich", total=len(tools))

            def step(report: ToolReport) -> None:
                lines.append(f"{report.tool.slug}: {report.summary()}")
                progress.update(bar, advance=1, description=f"{report.tool.slug}")

            reports = enrich_tools(tools, progress=step)
        for line in lines:
            self.stdout.write(line)
        values = sum(len(r.stored.prices) + len(r.stored.facts) for r in reports if r.stored)
        self.stdout.write(
            f"enriched {len(reports)} tool(s): {values} value(s) extracted, awaiting review"
        )
