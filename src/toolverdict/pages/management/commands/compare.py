"""`toolverdict compare A B`: the side-by-side verdict of two tools in the terminal."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table
from rich.text import Text

from toolverdict.catalog.services import canonical_pair
from toolverdict.pages.comparison import comparison

_STYLE = {"ship": "bold green", "skip": "bold red", "failed": "yellow"}


def _pct(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


class Command(BaseCommand):
    help = (
        "Print the comparison of two tools (slugs) side by side: panel ship %, community %, "
        "entry price, the pricing read and each reviewer's verdict and one-line reason. "
        "The same data as the /compare/<a>-vs-<b>/ page; it runs no model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("a", metavar="A", help="first tool slug")
        parser.add_argument("b", metavar="B", help="second tool slug")

    def handle(self, *args, a: str, b: str, **options) -> None:
        if a == b:
            raise CommandError("a comparison needs two different tools")
        first, second = canonical_pair(a, b)
        page = comparison(first, second)
        if page is None:
            raise CommandError(f"no such published tool: {a} or {b}")
        left, right = page.left, page.right
        console = Console(file=self.stdout, width=max(100, Console().width))
        table = Table(title=f"{page.title} — which one should you ship with?", show_lines=True)
        table.add_column("")
        table.add_column(left.tool.name, ratio=1)
        table.add_column(right.tool.name, ratio=1)
        table.add_row("Panel ship", left.panel.ship_label, right.panel.ship_label)
        table.add_row(
            "Reviewer split",
            f"{left.panel.ship} ship / {left.panel.skip} skip",
            f"{right.panel.ship} ship / {right.panel.skip} skip",
        )
        table.add_row("Community", _pct(left.community.pct), _pct(right.community.pct))
        table.add_row("Entry price", left.tool.entry_price, right.tool.entry_price)
        for row in page.scorecard:
            cells = []
            for cell in row.cells:
                if cell is None:
                    cells.append(Text("—"))
                    continue
                # Text(...) keeps model output literal: rich markup in it is not interpreted.
                text = Text(cell.label, style=_STYLE.get(cell.verdict, ""))
                shown = cell.reason if cell.status == "published" else cell.problem
                text.append(f" {shown}")
                if cell.is_local_draft:
                    text.append(" (local draft)", style="dim")
                cells.append(text)
            table.add_row(row.persona, *cells)
        console.print(table)
        for line in page.pricing_read:
            console.print(Text(line))
        if left.panel.is_local_draft or right.panel.is_local_draft:
            console.print(
                Text("Local draft: reviews written by the bundled small model.", style="dim")
            )
