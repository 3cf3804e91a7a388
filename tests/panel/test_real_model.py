"""The bundled models for real: SmolLM2 through catalog → worker → panel → page, the
OpenAI-compatible adapter against a real llama.cpp server on loopback, and the default
Qwen2.5-Coder-1.5B assembled from its packages, verified and asked one question.

Marked ``model`` and ``integration``; CI runs them (the models ship in packages, so they
never skip). Each review is a real generation: keep the number of tools small.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from toolverdict.catalog.file_format import CatalogFile
from toolverdict.catalog.importer import import_catalog
from toolverdict.catalog.models import Tool
from toolverdict.panel.generation import parse
from toolverdict.panel.llm import ReviewRequest, weights
from toolverdict.panel.llm.local import MODEL_ID
from toolverdict.panel.llm.openai_compat import OpenAIModel
from toolverdict.panel.models import Review
from toolverdict.panel.personas import load_personas
from toolverdict.panel.prompts import build_prompt
from toolverdict.panel.review_schema import json_schema, sections_model
from toolverdict.panel.services import _tools, panel_summaries, review_tools
from toolverdict.panel.substance import gibberish_problems

pytestmark = [pytest.mark.model, pytest.mark.integration]


def _starter_subset(*slugs: str) -> CatalogFile:
    raw = tomllib.loads(Path(settings.TOOLVERDICT_STARTER_CATALOG).read_text())
    raw["tools"] = [t for t in raw["tools"] if t["slug"] in slugs]
    return CatalogFile.model_validate(raw)


@pytest.mark.django_db(transaction=True)
def test_catalog_to_worker_to_real_panel_to_page(client, settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["panel"]}
    }
    settings.TOOLVERDICT_PANEL_MODEL = "local:smollm2"
    import_catalog(_starter_subset("claude-4-sonnet"))
    tool = Tool.objects.get(slug="claude-4-sonnet")
    assert not Review.objects.exists()  # importing only queued the work

    call_command("db_worker", queue_name="*", batch=True, startup_delay=False, verbosity=0)

    reviews = list(Review.objects.filter(tool=tool, is_current=True).order_by("persona_order"))
    assert [r.persona_name for r in reviews] == ["Builder", "Skeptic", "Futurist", "Buyer"]
    for review in reviews:
        assert review.model_id == MODEL_ID and review.is_local_draft
        assert review.output_tokens > 0 and review.latency_ms > 0
        assert review.status in ("published", "withheld", "failed")
        if review.status != "failed":
            assert review.verdict in ("ship", "skip")
    # Personas 2-4 reuse the dossier prefix evaluated for persona 1.
    assert reviews[0].cached_tokens < reviews[1].cached_tokens
    assert all(r.cached_tokens > r.input_tokens // 2 for r in reviews[1:])

    summary = panel_summaries([tool])[tool.pk]
    html = client.get(tool.get_absolute_url()).content.decode()
    if summary.ship_pct is not None:
        assert f"<dt>Panel ship</dt><dd>{summary.ship_pct}%" in html
        assert f"{summary.ship_pct}% Panel ship" in html
    else:
        assert "% Panel ship" not in html
    for card in summary.reviews.values():
        assert f'verdict-{card.verdict}">{card.label}</span>' in html
    assert "local draft" in html

    # Running the panel again with nothing changed costs nothing.
    outcomes = review_tools([tool.pk])
    assert all(o.reused for o in outcomes if o.status != "failed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` serving the bundled GGUF on loopback."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(weights.bundled_path(weights.SMOLLM2_135M)),
            "--model_alias",
            "smollm2",
            "--n_ctx",
            "4096",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2) as response:  # noqa: S310
                json.load(response)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.flush()
                # stdout and stderr both go to the log file (proc.stderr is None).
                tail = log_path.read_bytes().decode(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server did not start: {tail}")
            time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_openai_adapter_against_a_real_llama_cpp_server(db, llama_server):
    from tests.panel.conftest import SAMPLE
    from toolverdict.catalog.importer import parse_catalog
    from toolverdict.panel.dossier import build_dossier

    import_catalog(parse_catalog(SAMPLE))
    dossier = build_dossier(_tools([Tool.objects.get(slug="acme-coder").pk])[0])
    # llama.cpp's server ignores response_format json_schema; json_object + schema makes
    # it build a grammar, so the output must satisfy the schema.
    model = OpenAIModel("smollm2", base_url=llama_server, response_format="json_object")
    for persona in load_personas()[:1]:
        request = ReviewRequest(
            prompt=build_prompt(dossier, persona),
            schema=json_schema(sections_model(dossier, persona)),
        )
        generation = model.generate(request)
        review = parse(generation.text, sections_model(dossier, persona, strict_ids=False))
        assert set(review["sections"]) == {s.key for s in persona.sections}
        assert all(set(a["evidence"]) <= set(dossier.ids) for a in review["sections"].values())
        assert generation.input_tokens > 500 and generation.output_tokens > 0


@pytest.mark.django_db
def test_default_qwen_model_words_a_plain_case_and_every_sentence_is_checked(settings):
    """The default reviewer, for real, on a plain case: an open-weights model that is the
    cheapest of its category by far, with a long context and tool calling, is a ship for
    the Builder and the Buyer, and what the model writes is published only as its check
    labels it."""
    from toolverdict.catalog.importer import import_path
    from toolverdict.panel.claimcheck import PUBLISHED
    from toolverdict.panel.evaluation import EVAL_CATALOG, panel_enqueue_muted

    path = weights.bundled_path(weights.QWEN_CODER_1_5B)
    assert path.stat().st_size == weights.QWEN_CODER_1_5B.size
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    with panel_enqueue_muted():
        import_path(EVAL_CATALOG)
    tool = Tool.objects.get(slug="fernwood-8b")
    thin = Tool.objects.get(slug="nimbus-soon")

    outcomes = review_tools([tool.pk, thin.pk], "local")
    reviews = {(o.tool, o.persona): Review.objects.get(pk=o.review_id) for o in outcomes}
    for persona in ("Builder", "Buyer"):
        review = reviews[("fernwood-8b", persona)]
        assert review.model_id == "local:Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
        assert review.status == "published", review.problem
        assert review.verdict == "ship" and review.rubric_verdict == "ship"
        assert {p["signal"] for p in review.points} >= {"cheapest_wide", "open", "tool_use"}
        claims = list(review.claims.all())
        assert claims, "the model wrote nothing"
        for claim in claims:
            assert claim.support in (*PUBLISHED, "contradicted", "unsupported")
            assert gibberish_problems(claim.text) == [] or claim.support not in PUBLISHED
        for key, answer in review.sections.items():
            published = [c.text for c in claims if c.section == key and c.support in PUBLISHED]
            assert answer == " ".join(published)
    # A thin tool: no confident verdict, and no model call for it.
    for persona in ("Builder", "Skeptic", "Futurist", "Buyer"):
        review = reviews[("nimbus-soon", persona)]
        assert review.verdict == "insufficient" and review.output_tokens == 0


def build_dossier_ids(tool: Tool) -> list[str]:
    from toolverdict.panel.dossier import build_dossier

    return build_dossier(_tools([tool.pk])[0]).ids
