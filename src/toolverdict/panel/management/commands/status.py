"""`toolverdict status`: how far the reviewer panel has got, from the stored state."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.text import Text

from toolverdict.panel.progress import panel_progress


class Command(BaseCommand):
    help = (
        "Show the reviewer panel's progress: tools reviewed of all published tools, the "
        "tool a worker is reviewing now, the queue, and an estimate of the time left from "
        "the measured speed. --json prints the same as JSON. Runs no model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")

    def handle(self, *args, as_json: bool, **options) -> None:
        progress = panel_progress()
        if as_json:
            self.stdout.write(json.dumps(progress.as_dict(), indent=2, sort_keys=True))
            return
        console = Console(file=self.stdout, width=max(100, Console().width), highlight=False)
        # Text keeps tool names literal: rich markup in them is not interpreted.
        console.print(Text.assemble(("Panel: ", "bold"), progress.summary()))
        if progress.failed:
            console.print(
                f"{progress.failed} tool(s) have a failed review; "
                "`toolverdict review --all --queue` retries them."
            )
        if not progress.done and not progress.current and not progress.queued:
            console.print(
                f"{progress.remaining} tool(s) are not reviewed and none is queued: "
                "`toolverdict review --all --queue` queues them for the worker."
            )
