"""Running the panel with a stand-in model: storage, reuse, retries, failures, aggregation."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.panel.fakes import FlakyModel, ScriptedModel, review_json
from toolverdict.catalog.models import Fact
from toolverdict.panel.llm import ModelError
from toolverdict.panel.llm.local import MODEL_ID, LocalModel
from toolverdict.panel.llm.openai_compat import OpenAIModel
from toolverdict.panel.models import Claim, Review
from toolverdict.panel.personas import DEFAULT_DIR, load_personas
from toolverdict.panel.prompts import PROMPT_VERSION, prompt_version
from toolverdict.panel.services import panel_summaries, review_tools, scorecard_rows

#: Acme Coder's verdicts by the default rubrics: an open licence, the only context window in
#: its category (long), a free tier.
ACME_VERDICTS = [("Builder", "ship"), ("Skeptic", "ship"), ("Futurist", "ship"), ("Buyer", "ship")]


def _by_persona(verdicts: dict[str, str]):
    """A script answering each persona (recognised by its lens): an error where told,
    else the same sourced sentence to every question."""

    def answer(request, n):
        persona = request.prompt.persona_block.split(":")[0].removeprefix("You are the ")
        verdict = verdicts.get(persona, "ship")
        if verdict == "error":
            return ModelError("HTTP 400: bad request", retryable=False)
        keys = request.schema["properties"]["sections"]["required"]
        sections = dict.fromkeys(keys, "The Pro plan costs $20 per month.")
        return review_json(verdict, schema=request.schema, sections=sections, evidence=["E3"])

    return answer


def test_review_stores_provenance_and_grounded_claims(acme):
    model = ScriptedModel(_by_persona({}))
    outcomes = review_tools([acme.pk], model)
    assert [(o.persona, o.status, o.verdict, o.reused) for o in outcomes] == [
        (name, "published", verdict, False) for name, verdict in ACME_VERDICTS
    ]
    review = Review.objects.get(tool=acme, persona="builder")
    assert review.model_id == "test:scripted"
    builder = next(p for p in load_personas() if p.slug == "builder")
    assert review.prompt_version == prompt_version(builder)
    assert (
        review.prompt_version.startswith(f"{PROMPT_VERSION}+") and len(review.prompt_version) <= 20
    )
    assert len(review.dossier_hash) == 64
    assert (review.input_tokens, review.output_tokens, review.cached_tokens) == (100, 20, 80)
    assert review.is_current and review.attempts == 1
    assert review.rubric_verdict == "ship" and review.points
    first, *repeats = review.claims.order_by("position")
    assert (first.support, first.evidence_ids, first.section) == ("supported", ["E3"], "primitive")
    # The same sentence for every question: published once, the repeats kept off the page.
    assert [(c.support, c.problems) for c in repeats] == [
        ("unsupported", ["repeats an earlier sentence"])
    ] * 3
    assert review.sections == {"primitive": "The Pro plan costs $20 per month."}
    assert review.support_rate == 0.25


def test_unchanged_inputs_are_reused_at_no_cost(acme):
    review_tools([acme.pk], ScriptedModel())
    again = ScriptedModel()
    outcomes = review_tools([acme.pk], again)
    assert again.requests == []
    assert all(o.reused for o in outcomes)
    assert Review.objects.count() == 4


def test_a_changed_dossier_is_reviewed_again(acme):
    review_tools([acme.pk], ScriptedModel())
    Fact.objects.filter(tool=acme, key="languages").update(value="Supports Python only")
    again = ScriptedModel()
    review_tools([acme.pk], again)
    assert len(again.requests) == 4
    assert Review.objects.count() == 8
    assert Review.objects.filter(is_current=True).count() == 4  # pages see the new ones


def test_changed_persona_instructions_are_reviewed_again(acme, settings, tmp_path):
    for path in DEFAULT_DIR.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text())
    settings.TOOLVERDICT_PERSONAS_DIR = str(tmp_path)
    review_tools([acme.pk], ScriptedModel())
    builder = tmp_path / "builder.toml"
    text = builder.read_text()
    assert 'instructions = """Judge' in text
    builder.write_text(text.replace('instructions = """Judge', 'instructions = """Be terse. Judge'))
    again = ScriptedModel()
    outcomes = review_tools([acme.pk], again)
    # Only the edited persona is asked again; the others' reviews still stand.
    assert [(o.persona, o.reused) for o in outcomes] == [
        ("Builder", False),
        ("Skeptic", True),
        ("Futurist", True),
        ("Buyer", True),
    ]
    assert len(again.requests) == 1 and "Be terse." in again.requests[0].prompt.persona_block
    changed = next(p for p in load_personas() if p.slug == "builder")
    current = Review.objects.get(persona="builder", is_current=True)
    assert current.prompt_version == prompt_version(changed)
    assert Review.objects.filter(persona="builder").count() == 2


def test_another_openai_server_or_gguf_file_is_another_model(acme, settings):
    default = OpenAIModel("gpt-4o-mini", api_key="k")
    other = OpenAIModel("gpt-4o-mini", api_key="k", base_url="http://user:pw@vllm.lan:8000/v1")
    assert default.model_id == "openai:gpt-4o-mini"
    assert other.model_id == "openai:gpt-4o-mini@vllm.lan:8000"  # no credentials in the id
    assert LocalModel("smollm2").model_id == MODEL_ID
    assert LocalModel().model_id == "local:Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
    settings.TOOLVERDICT_LOCAL_MODEL_PATH = "/models/Qwen2.5-0.5B-Instruct.Q4_K_M.gguf"
    assert LocalModel().model_id == "local:Qwen2.5-0.5B-Instruct.Q4_K_M.gguf"

    first, second = ScriptedModel(), ScriptedModel()
    first.model_id, second.model_id = default.model_id, other.model_id
    review_tools([acme.pk], first)
    outcomes = review_tools([acme.pk], second)
    assert not any(o.reused for o in outcomes) and len(second.requests) == 4
    assert set(Review.objects.filter(is_current=True).values_list("model_id", flat=True)) == {
        other.model_id
    }


def test_transient_errors_are_retried(acme, settings):
    settings.TOOLVERDICT_PANEL_ATTEMPTS = 3
    flaky = FlakyModel(failures=2)
    outcome = review_tools([acme.pk], flaky)[0]
    assert outcome.status == "published"
    assert Review.objects.get(tool=acme, persona="builder").attempts == 3


def test_a_review_that_keeps_failing_is_stored_as_failed(acme, settings):
    settings.TOOLVERDICT_PANEL_ATTEMPTS = 2
    model = ScriptedModel(lambda r, n: ModelError("read timed out", retryable=True))
    review_tools([acme.pk], model)
    assert len(model.requests) == 8  # two attempts for each of four personas
    failed = Review.objects.get(tool=acme, persona="skeptic")
    assert (failed.status, failed.problem, failed.attempts) == ("failed", "read timed out", 2)
    summary = panel_summaries([acme])[acme.pk]
    assert summary.valid == 0 and summary.ship_pct is None
    assert summary.reviews["Skeptic"].verdict == "failed"
    # The public card carries a fixed sentence; the raw error stays on the stored review.
    assert summary.reviews["Skeptic"].reason == "Review failed; it will be retried"
    assert "read timed out" not in summary.reviews["Skeptic"].problem


def test_failed_reviews_are_retried_on_the_next_run(acme):
    review_tools([acme.pk], ScriptedModel(lambda r, n: "not json"))
    assert Review.objects.filter(status="failed").count() == 4
    review_tools([acme.pk], ScriptedModel())
    assert Review.objects.filter(status="published").count() == 4
    assert Review.objects.count() == 4  # the failed rows were replaced, not duplicated


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("{not json", "output is not JSON"),
        (json.dumps({"verdict": "ship"}), "output does not match the review schema: sections"),
    ],
)
def test_bad_output_is_a_failed_review_with_the_reason(acme, output, problem):
    review_tools([acme.pk], ScriptedModel(lambda r, n: output))
    review = Review.objects.get(tool=acme, persona="builder")
    assert review.status == "failed" and review.problem.startswith(problem)
    assert not review.claims.exists()


def test_a_wrong_citation_is_replaced_by_the_items_that_state_the_sentence(acme):
    sections = {"primitive": "The Pro plan costs $20 per month."}
    sections |= {k: "I would try it on a side project." for k in ("dx_bet",)}
    model = ScriptedModel(
        lambda r, n: review_json(
            schema=r.schema,
            sections={
                k: sections.get(k, "A team could adopt it after one trial week.")
                for k in r.schema["properties"]["sections"]["required"]
            },
            evidence=["E77"],
        )
    )
    review_tools([acme.pk], model)
    claim = Claim.objects.get(review__persona="builder", section="primitive")
    assert (claim.support, claim.evidence_ids) == ("supported", ["E3"])


def test_a_crash_while_storing_leaves_nothing_half_written(acme, monkeypatch):
    review_tools([acme.pk], ScriptedModel())
    Fact.objects.filter(tool=acme, key="languages").update(value="Supports Go only")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Claim.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        review_tools([acme.pk], ScriptedModel())
    # The old current reviews stay current; no new review without its claims is visible.
    assert Review.objects.count() == 4
    assert Review.objects.filter(is_current=True).count() == 4


def test_ship_pct_counts_valid_reviews_only(acme):
    model = ScriptedModel(_by_persona({"Skeptic": "skip", "Buyer": "error"}))
    review_tools([acme.pk], model)
    summary = panel_summaries([acme])[acme.pk]
    assert (summary.ship, summary.valid, summary.skip, summary.ship_pct) == (3, 3, 0, 100)
    assert summary.not_counted == 1
    assert summary.reviews["Buyer"].verdict == "failed"


def test_an_invented_name_is_kept_off_the_page_and_the_review_stands(acme):
    def script(r, n):
        keys = r.schema["properties"]["sections"]["required"]
        return review_json(schema=r.schema, sections=dict.fromkeys(keys, "Better than MegaCode."))

    review_tools([acme.pk], ScriptedModel(script))
    summary = panel_summaries([acme])[acme.pk]
    assert summary.valid == 4
    card = summary.reviews["Builder"]
    assert (card.status, card.verdict) == ("published", "ship")
    assert not card.claims and not card.sections  # the model's text is not on the card
    assert card.not_published == 4
    stored = Claim.objects.filter(review__persona="builder").first()
    assert stored.support == "unsupported" and "MegaCode" in stored.problems[0]


def test_local_draft_label_follows_the_model(acme):
    class LocalDraft(ScriptedModel):
        is_local_draft = True

    review_tools([acme.pk], LocalDraft())
    summary = panel_summaries([acme])[acme.pk]
    assert summary.is_local_draft and summary.reviews["Builder"].is_local_draft


def test_read_side_uses_a_constant_number_of_queries(sample_catalog):
    tools = list(sample_catalog.values())
    review_tools([t.pk for t in tools], ScriptedModel())
    with CaptureQueriesContext(connection) as ctx:
        summaries = panel_summaries(tools)
        rows = scorecard_rows(tools, summaries)
    assert len(ctx.captured_queries) == 2
    assert [r.persona for r in rows] == ["Builder", "Skeptic", "Futurist", "Buyer"]
    assert all(cell is not None for r in rows for cell in r.cells)


def test_scorecard_cells_are_none_before_any_review(sample_catalog):
    tools = list(sample_catalog.values())
    rows = scorecard_rows(tools, panel_summaries(tools))
    assert len(rows) == 4 and all(cell is None for r in rows for cell in r.cells)


def test_model_spec_picks_the_backend(settings):
    from toolverdict.panel.llm import get_review_model

    assert get_review_model("local:smollm2").is_local_draft
    assert not get_review_model("local").is_local_draft  # the default, Qwen2.5-Coder-1.5B
    assert get_review_model("openai:gpt-4o-mini").model_id == "openai:gpt-4o-mini"
    assert get_review_model("anthropic:claude-sonnet-5").model_id.startswith("anthropic:")
    fake = get_review_model("python:tests.panel.fakes.ScriptedModel")
    assert fake.model_id == "test:scripted"
    with pytest.raises(ValueError, match="unknown panel model"):
        get_review_model("gemini:pro")


def test_cost_is_estimated_from_prices(acme):
    from decimal import Decimal

    from toolverdict.panel.llm import Prices

    class Priced(ScriptedModel):
        prices = Prices(Decimal("3"), Decimal("0.3"), Decimal("15"))

    review_tools([acme.pk], Priced())
    review = Review.objects.get(tool=acme, persona="builder")
    # 20 fresh input, 80 cached input, 20 output tokens.
    assert review.cost_usd == Decimal("0.000384")
