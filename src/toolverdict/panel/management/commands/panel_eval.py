"""`toolverdict panel-eval`: measure the reviewer panel on the shipped evaluation catalog."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from toolverdict.panel.evaluation import (
    CHILD_MARKER,
    EvalError,
    child_environment,
    eval_slugs,
    run_eval,
)
from toolverdict.panel.personas import PersonaError, load_personas


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = (
        "Measure the AI reviewer panel on a shipped catalog of five FICTIONAL tools (a rich "
        "dossier, a thin one, one with a prompt injection, two with confusable names): "
        "published share, non-answers, gibberish, claim support, planted names, ship share, "
        "verdict flips across runs, agreement between personas and time per tool, each "
        "against its target. The tools go into a throw-away database in a child process, "
        "never into this site's catalog."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model",
            help="local, local:<name>, openai:<model>, anthropic:<model>, python:<path> "
            "(default: TOOLVERDICT_PANEL_MODEL)",
        )
        parser.add_argument(
            "--runs",
            type=int,
            default=3,
            help="how many times to run the panel over every tool, with seeds 1..K "
            "(default 3; the flip rate needs at least 2)",
        )
        parser.add_argument(
            "--temperature",
            type=float,
            default=0.5,
            help="sampling temperature for every request (default 0.5). At 0 the runs are "
            "deterministic, so the flip rate is 0 by construction and says nothing",
        )
        parser.add_argument(
            "--tools",
            default="",
            help="comma-separated eval tool slugs to review (default: all five)",
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="for tests: run against the current database instead of a throw-away one "
            "in a child process (refused when it holds other tools)",
        )

    def handle(
        self,
        *args: Any,
        model: str | None,
        runs: int,
        temperature: float,
        tools: str,
        as_json: bool,
        in_process: bool,
        **options: Any,
    ) -> None:
        chosen = [s.strip() for s in tools.split(",") if s.strip()]
        if runs < 1:
            raise CommandError("--runs must be at least 1")
        if temperature < 0:
            raise CommandError("--temperature cannot be negative")
        unknown = [s for s in chosen if s not in eval_slugs()]
        if unknown:
            raise CommandError(
                f"not in the eval catalog: {', '.join(unknown)} (known: {', '.join(eval_slugs())})"
            )
        if in_process:
            result = self._run_here(model, runs, temperature, chosen)
        else:
            result = self._run_child(model, runs, temperature, chosen)
        if as_json:
            self.stdout.write(_dumps(result))
        else:
            self._render(result)

    # --- running ------------------------------------------------------------------------

    def _run_here(
        self, model: str | None, runs: int, temperature: float, chosen: list[str]
    ) -> dict[str, Any]:
        if os.environ.get(CHILD_MARKER) == "1":
            call_command("migrate", verbosity=0, interactive=False)
        try:
            personas = len(load_personas())
        except PersonaError as exc:
            raise CommandError(str(exc)) from exc
        total = runs * len(chosen or eval_slugs()) * personas
        console = Console(stderr=True)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            bar = progress.add_task("panel-eval", total=total)

            def step(run: int, outcome: Any) -> None:
                shown = outcome.verdict or outcome.status
                progress.update(
                    bar,
                    advance=1,
                    description=f"run {run}/{runs} · {outcome.tool} · {outcome.persona}: {shown}",
                )

            try:
                return run_eval(
                    model, runs=runs, temperature=temperature, tools=chosen, progress=step
                )
            except EvalError as exc:
                raise CommandError(str(exc)) from exc

    def _run_child(
        self, model: str | None, runs: int, temperature: float, chosen: list[str]
    ) -> dict[str, Any]:
        command = [
            sys.executable,
            "-m",
            "toolverdict.cli",
            "panel_eval",
            "--in-process",
            "--json",
            f"--runs={runs}",
            f"--temperature={temperature}",
        ]
        if model:
            command.append(f"--model={model}")
        if chosen:
            command.append(f"--tools={','.join(chosen)}")
        with tempfile.TemporaryDirectory(prefix="toolverdict-eval-") as data_dir:
            # stderr (progress, errors) goes straight to ours; stdout carries the JSON.
            done = subprocess.run(  # noqa: S603 - our own interpreter and module
                command,
                env=child_environment(data_dir),
                stdout=subprocess.PIPE,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            raise CommandError(f"the evaluation process failed (exit status {done.returncode})")
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise CommandError("the evaluation process printed no result")
        return json.loads(lines[-1])

    # --- output -------------------------------------------------------------------------

    def _render(self, result: dict[str, Any]) -> None:
        m = result["metrics"]
        t = result["targets"]
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            force_terminal=self.stdout.isatty(),
            width=shutil.get_terminal_size((100, 24)).columns,
        )
        console.print(
            f"[bold]panel-eval[/] · model {result['model_id']} · {result['runs']} run(s) · "
            f"temperature {result['temperature']:g} · {len(result['tools'])} fictional tools · "
            f"{m['reviews']} reviews ({m['published']} published, {m['withheld']} withheld, "
            f"{m['failed']} failed)"
        )
        for warning in result.get("warnings", []):
            console.print(f"[yellow]warning:[/] {warning}")

        table = Table(title="Panel quality")
        for column in ("Metric", "Value", "Target", "Result"):
            table.add_column(column)
        style = {"met": "[green]met[/]", "missed": "[red]missed[/]", "n/a": "[dim]n/a[/]"}

        def target_row(key: str, value: str) -> None:
            row = t[key]
            table.add_row(row["label"], value, row["target"], style[row["status"]])

        target_row("published_share", f"{_pct(m['published_share'])} of {m['reviews']}")
        target_row("gibberish_published", str(m["gibberish_published"]))
        target_row("planted_names_published", str(m["planted_names_published"]))
        target_row("repeated_published", str(m["repeated_published"]))
        target_row("plain_right", f"{_pct(m['plain_right'])} of {m['plain_cases']}")
        target_row("thin_confident", str(m["thin_confident"]))
        target_row("flip_rate", f"{_pct(m['flip_rate'])} of {m['flip_pairs']} pairs")
        check = m.get("claim_check") or {}
        if check:
            target_row(
                "check_supported_precision",
                f"{_pct(check['supported_precision'])} of {check['supported_said']}",
            )
            target_row("check_contradicted_recall", _pct(check["contradicted_recall"]))
        table.add_section()
        labels = ", ".join(f"{k} {v}" for k, v in m["sentence_labels"].items()) or "—"
        info = [
            ("sentences by label (published reviews)", labels),
            (
                "sentences published",
                f"{m['sentences_published']} of {m['sentences']}",
            ),
            ("plain cases decided wrong", "; ".join(m["plain_wrong"]) or "none"),
            ("gibberish problems (all non-failed)", str(m["gibberish"])),
            (
                "injection success",
                f"{m['injection_success']} of {m['injection_reviews_published']} published",
            ),
            ("other twin's numbers published", str(m["misattributed_numbers_published"])),
            (
                "ship share per persona",
                ", ".join(f"{p}: {_pct(v)}" for p, v in m["ship_share_per_persona"].items()),
            ),
            ("Fleiss' kappa (personas)", f"{_num(m['fleiss_kappa'])} ({m['kappa_items']} items)"),
            ("seconds per tool (mean)", _num(m["seconds_per_tool"], 1)),
            (
                "total",
                f"{_num(m['total_seconds'], 1)} s, {m['total_output_tokens']} output tokens",
            ),
        ]
        for label, value in info:
            table.add_row(label, value, "—", "")
        console.print(table)

        per_tool = Table(title="Time per tool")
        for column in ("Tool", "Seconds per run", "Published", "Ship"):
            per_tool.add_column(column)
        records = result.get("records", [])
        for slug in result["tools"]:
            own = [r for r in records if r["tool"] == slug]
            with_verdict = [r for r in own if r["verdict"]]
            per_tool.add_row(
                slug,
                _num(m["seconds_per_tool_by_tool"].get(slug), 1),
                f"{sum(r['status'] == 'published' for r in own)}/{len(own)}",
                f"{sum(r['verdict'] == 'ship' for r in with_verdict)}/{len(with_verdict)}",
            )
        console.print(per_tool)
        missed = [row["label"] for row in t.values() if row["status"] == "missed"]
        unknown = [row["label"] for row in t.values() if row["status"] == "n/a"]
        if missed:
            console.print(f"[red]missed:[/] {', '.join(missed)}")
        elif unknown:
            console.print(f"no target missed; not measurable: {', '.join(unknown)}")
        else:
            console.print("[green]all targets met[/]")
        self.stdout.write(buffer.getvalue(), ending="")


def _dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, sort_keys=False)
