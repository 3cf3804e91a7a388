"""`toolverdict review TOOL…`: run the reviewer panel now, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from toolverdict.catalog.models import Tool
from toolverdict.panel.llm import get_review_model
from toolverdict.panel.personas import PersonaError, load_personas
from toolverdict.panel.services import enqueue_panel, review_tools


class Command(BaseCommand):
    help = (
        "Run the four-persona reviewer panel for the given tools (slugs) now and store the "
        "reviews. Reviews whose inputs (dossier, persona, model, prompt version) are "
        "unchanged are reused at no cost. --all reviews every published tool; --queue hands "
        "the work to the task worker instead; --model overrides TOOLVERDICT_PANEL_MODEL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tools", nargs="*", metavar="TOOL", help="tool slugs to review")
        parser.add_argument("--all", action="store_true", help="review every published tool")
        parser.add_argument(
            "--model",
            help="local, openai:<model>, anthropic:<model> (default: TOOLVERDICT_PANEL_MODEL)",
        )
        parser.add_argument(
            "--force", action="store_true", help="re-run reviews even when inputs are unchanged"
        )
        parser.add_argument(
            "--queue", action="store_true", help="enqueue for db_worker instead of running now"
        )

    def handle(
        self,
        *args,
        tools: list[str],
        all: bool,
        model: str | None,
        force: bool,
        queue: bool,
        **options,
    ) -> None:  # noqa: A002
        if all:
            found = list(Tool.objects.published().order_by("name"))
        else:
            if not tools:
                raise CommandError("name at least one tool slug, or use --all")
            by_slug = {t.slug: t for t in Tool.objects.filter(slug__in=tools)}
            missing = [s for s in tools if s not in by_slug]
            if missing:
                raise CommandError(f"no such tool: {', '.join(missing)}")
            found = [by_slug[s] for s in dict.fromkeys(tools)]
        if queue:
            enqueue_panel([t.pk for t in found])
            self.stdout.write(f"queued the panel for {len(found)} tool(s) on the 'panel' queue")
            return
        try:
            personas = load_personas()
            review_model = get_review_model(model)
        except (PersonaError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

        console = Console(file=self.stdout, stderr=False, force_terminal=None)
        counts: dict[str, int] = {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task(
                f"panel ({review_model.model_id})", total=len(found) * len(personas)
            )

            def step(outcome) -> None:
                key = "reused" if outcome.reused else outcome.status
                counts[key] = counts.get(key, 0) + 1
                shown = outcome.verdict or outcome.status
                progress.update(
                    bar, advance=1, description=f"{outcome.tool} · {outcome.persona}: {shown}"
                )

            review_tools([t.pk for t in found], review_model, force=force, progress=step)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"reviewed {len(found)} tool(s): {summary}")
