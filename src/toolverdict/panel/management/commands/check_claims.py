"""toolverdict check-claims: the panel's claim check on any model's output (JSON lines)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolverdict.panel.claimcheck import COMPUTED, SUPPORTED, check_sentence, context_from_json


class Command(BaseCommand):
    help = (
        "Label statements with the panel's claim check. Reads JSON lines (tool, evidence "
        "{id: text}, cites [ids], claim; ids starting with C are computed comparisons) and "
        "writes one JSON line per statement with support (supported, contradicted, "
        "unsupported or opinion) and the reason. See docs/panel.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a JSON-lines file, or - for standard input")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        with stream:
            lines = [(n, line) for n, line in enumerate(stream, start=1) if line.strip()]
        rows = []
        for n, line in lines:  # read every line before writing any: bad input gives no output
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("claim"), str):
                    raise ValueError('each line must be an object with a "claim" string')
                ctx = context_from_json(row)
            except (ValueError, TypeError) as exc:
                raise CommandError(f"line {n}: {exc}") from exc
            rows.append((row, ctx))
        for row, ctx in rows:
            result = check_sentence(row["claim"], [str(c) for c in row.get("cites") or []], ctx)
            support = SUPPORTED if result.support == COMPUTED else result.support
            out = {"claim": row["claim"], "support": support, "reason": result.reason}
            if "id" in row:
                out = {"id": row["id"], **out}
            out["evidence_ids"] = result.evidence_ids
            self.stdout.write(json.dumps(out, ensure_ascii=False))
