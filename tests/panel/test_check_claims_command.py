"""toolverdict check-claims: the claim check on any model's output, JSON lines in and out."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROW = {
    "tool": "GPT-4o",
    "evidence": {
        "E1": "Catalog profile — Name: GPT-4o. Vendor: OpenAI. Pricing model: Paid. "
        "License: Proprietary.",
        "E3": "Price: API input — API input: $2.50 (USD) per 1M input tokens",
        "E4": "Price: API output — API output: $10 (USD) per 1M output tokens",
    },
    "cites": ["E4"],
}


def lines(*claims: str) -> str:
    return "".join(
        json.dumps(ROW | {"id": f"L{i}", "claim": c}) + "\n" for i, c in enumerate(claims)
    )


def test_each_statement_gets_its_label_reason_and_evidence(tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text(
        lines(
            "GPT-4o output costs $10 per 1M output tokens.",
            "GPT-4o output costs $2.50 per 1M tokens.",
            "I would pick it for a prototype this week.",
            "GPT-4o is the best model on the market.",
        )
    )
    out = StringIO()
    call_command("check_claims", str(path), stdout=out)
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(g["id"], g["support"]) for g in got] == [
        ("L0", "supported"),
        ("L1", "contradicted"),
        ("L2", "opinion"),
        ("L3", "unsupported"),
    ]
    assert got[0]["evidence_ids"] == ["E4"]
    assert got[1]["reason"] == "gives a number the evidence states for something else"


def test_a_bad_line_names_its_number_and_nothing_is_written(tmp_path):
    path = tmp_path / "claims.jsonl"
    path.write_text(lines("GPT-4o output costs $10 per 1M output tokens.") + "{not json\n")
    out = StringIO()
    with pytest.raises(CommandError, match="line 2"):
        call_command("check_claims", str(path), stdout=out)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="cannot read"):
        call_command("check_claims", str(tmp_path / "missing.jsonl"))


def test_the_cli_reads_standard_input(tmp_path):
    toolverdict = Path(sys.executable).with_name("toolverdict")
    env_dir = tmp_path / "data"
    done = subprocess.run(
        [str(toolverdict), "check-claims", "-"],
        input=lines("GPT-4o output costs $10 per 1M output tokens."),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TOOLVERDICT_DATA_DIR": str(env_dir)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["support"] == "supported"
