"""Benchmark: the four-persona panel's prompt layout, whole-review style, on SmolLM2.

    .venv/bin/python bench/panel.py [--tool claude-4-sonnet] [--extra-facts 40] [--repeat 1]

Two ratios, measured side by side in one run on the same loaded model:

  layout    the four persona prompts of one tool, dossier first (shared prefix) vs persona
            first (nothing shared past the rules). Reported for the prompt phase alone
            (one output token each, which isolates what the layout changes) and for whole
            reviews (grammar-constrained JSON, temperature 0).
  overhead  `review_tools` (prompt building, grammar, llama.cpp, parsing, grounding and the
            atomic database writes) vs raw `Llama.create_completion` on the same prompts
            with the same grammar and settings, which yields the same tokens.

The KV cache is cleared before every panel so each starts cold for its first persona.
``--extra-facts`` adds synthetic sourced facts to the tool so the dossier is large, as
catalog entries with many facts are; 0 uses the starter entry as it is.
SQLite in a temporary folder; the tasks backend is a dummy, so no worker runs. The
panel is asked in the whole-review style (TOOLVERDICT_PANEL_STYLE=whole), one request per
persona, on the small bundled model (local:smollm2), so the layout is what varies. The
default stepwise style on Qwen2.5-Coder-1.5B is measured by `toolverdict panel-eval`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def setup(data_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "toolverdict.settings"
    os.environ["TOOLVERDICT_DATA_DIR"] = data_dir
    os.environ["TOOLVERDICT_LOG_LEVEL"] = "WARNING"
    os.environ["TOOLVERDICT_TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["TOOLVERDICT_PANEL_STYLE"] = "whole"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def import_tool(slug: str, extra_facts: int) -> int:
    from django.conf import settings

    from toolverdict.catalog.file_format import CatalogFile
    from toolverdict.catalog.importer import import_catalog
    from toolverdict.catalog.models import Tool

    raw = tomllib.loads(Path(settings.TOOLVERDICT_STARTER_CATALOG).read_text())
    raw["tools"] = [t for t in raw["tools"] if t["slug"] == slug]
    facts = raw["tools"][0].setdefault("facts", [])
    for i in range(extra_facts):
        facts.append(
            {
                "key": f"changelog_{i}",
                "value": (
                    f"Release note {i}: improved tool calling, file editing and long-context "
                    f"retrieval; latency down {i % 9 + 1}% on the vendor's internal benchmark"
                ),
                "source": f"https://example.com/changelog/{i}",
                "retrieved": "2026-11-01",
            }
        )
    import_catalog(CatalogFile.model_validate(raw))
    return Tool.objects.get(slug=slug).pk


def requests_for(tool_id: int, layout: str):
    from toolverdict.panel.dossier import build_dossier
    from toolverdict.panel.llm import ReviewRequest
    from toolverdict.panel.personas import load_personas
    from toolverdict.panel.prompts import build_prompt
    from toolverdict.panel.review_schema import json_schema, review_model
    from toolverdict.panel.services import _tools

    dossier = build_dossier(_tools([tool_id])[0])
    return [
        ReviewRequest(
            prompt=build_prompt(dossier, p, layout),
            schema=json_schema(review_model(dossier, p)),
        )
        for p in load_personas()
    ]


def raw_panel(llm, model, requests, *, max_tokens: int | None = None) -> tuple[float, int, int]:
    """Plain llama.cpp calls: (seconds, prompt tokens evaluated, output tokens)."""
    from toolverdict.panel.llm.local import _EOS, _grammar

    llm.reset()
    evaluated = produced = 0
    started = time.perf_counter()
    for request in requests:
        tokens = llm.tokenize(model.prompt_text(request).encode(), add_bos=False, special=True)
        reused = 0
        for a, b in zip(llm.input_ids[: llm.n_tokens], tokens, strict=False):
            if a != b:
                break
            reused += 1
        evaluated += len(tokens) - reused
        out = llm.create_completion(
            prompt=tokens,
            max_tokens=max_tokens or request.max_tokens,
            temperature=0.0,
            grammar=None if max_tokens else _grammar(json.dumps(request.schema)),
            stop=[_EOS],
            repeat_penalty=model.repeat_penalty,
            seed=0,
        )
        produced += out["usage"]["completion_tokens"]
    return time.perf_counter() - started, evaluated, produced


def full_panel(llm, model, tool_id: int) -> tuple[float, int]:
    from toolverdict.panel.models import Review
    from toolverdict.panel.services import review_tools

    llm.reset()
    started = time.perf_counter()
    outcomes = review_tools([tool_id], model, force=True)
    elapsed = time.perf_counter() - started
    produced = sum(Review.objects.get(pk=o.review_id).output_tokens for o in outcomes)
    return elapsed, produced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tool", default="claude-4-sonnet")
    parser.add_argument("--extra-facts", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="take the best of N runs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-panel-") as data_dir:
        setup(data_dir)
        from toolverdict.panel.llm.local import LocalModel, get_llama

        tool_id = import_tool(args.tool, args.extra_facts)
        model = LocalModel("smollm2")
        llm = get_llama(model.path())
        first = requests_for(tool_id, "dossier_first")
        persona_first = requests_for(tool_id, "persona_first")
        prompt_tokens = len(llm.tokenize(model.prompt_text(first[0]).encode(), add_bos=False))
        print(
            f"tool {args.tool} with {args.extra_facts} extra facts; "
            f"persona-1 prompt {prompt_tokens} tokens; n_ctx {llm.n_ctx()}; "
            f"best of {args.repeat}"
        )

        def best(fn, *a, **kw):
            runs = [fn(*a, **kw) for _ in range(args.repeat)]
            return min(runs, key=lambda r: r[0])

        # Layout, prompt phase only (one output token per persona).
        pf_p = best(raw_panel, llm, model, persona_first, max_tokens=1)
        df_p = best(raw_panel, llm, model, first, max_tokens=1)
        # Layout, whole reviews; the dossier-first run doubles as the raw baseline.
        pf_f = best(raw_panel, llm, model, persona_first)
        df_f = raw = best(raw_panel, llm, model, first)
        # Overhead: our pipeline right after raw llama.cpp on the same prompts.
        ours = best(full_panel, llm, model, tool_id)

        print()
        print(f"{'measurement':46} {'seconds':>8} {'prompt tok':>10} {'out tok':>8}")
        rows = [
            ("prompts only, persona first", pf_p),
            ("prompts only, dossier first", df_p),
            ("whole reviews, persona first", pf_f),
            ("whole reviews, dossier first (raw llama.cpp)", df_f),
        ]
        for name, (secs, evaluated, produced) in rows:
            print(f"{name:46} {secs:8.2f} {evaluated:10d} {produced:8d}")
        print(
            f"{'review_tools panel (ours), dossier first':46} {ours[0]:8.2f} {'':>10} {ours[1]:8d}"
        )
        print()
        print(f"layout, prompt phase:  dossier first is {pf_p[0] / df_p[0]:.1f}x faster")
        print(f"layout, whole panel:   dossier first is {pf_f[0] / df_f[0]:.1f}x faster")
        print(
            f"overhead: panel / raw llama.cpp = {ours[0] / raw[0]:.2f}x "
            f"(same output tokens: {ours[1] == raw[2]})"
        )


if __name__ == "__main__":
    main()
