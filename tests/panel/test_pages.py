"""The panel on the pages and in the terminal: verdicts, flags, labels, escaping."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.panel.fakes import ScriptedModel, review_json
from toolverdict.panel.llm import ModelError
from toolverdict.panel.services import review_tools

#: One answer per question: sourced, contradicted (the plan costs $20), and the persona's
#: opinion.
ANSWERS = [
    "The Pro plan costs $20 per month.",
    "The Pro plan costs $35 per month.",
    "I expect terminal agents to be common soon.",
]
BUILDER_REASON = "For it: a long context window, an open licence and a free tier."
SKEPTIC_REASON = "For it: a long context window and an open licence."


def answers(request, texts=ANSWERS):
    keys = request.schema["properties"]["sections"]["required"]
    return {k: texts[i % len(texts)] for i, k in enumerate(keys)}


def _script(request, n):
    persona = request.prompt.persona_block.split(":")[0].removeprefix("You are the ")
    if persona == "Buyer":
        return ModelError("upstream 503 from llm-gw.internal key sk-live-abc123", retryable=False)
    return review_json(schema=request.schema, sections=answers(request), evidence=["E3"])


class LocalDraftModel(ScriptedModel):
    is_local_draft = True


@pytest.fixture
def reviewed(acme):
    review_tools([acme.pk], LocalDraftModel(_script))
    return acme


def test_tool_page_shows_verdicts_points_and_labels(client, reviewed):
    html = client.get(reviewed.get_absolute_url()).content.decode()
    # 3 ship of 3 published; the failed Buyer is not counted.
    assert "100% Panel ship</strong> · 3 of 4 reviewers: 3 say ship, 0 skip" in html
    assert BUILDER_REASON in html and SKEPTIC_REASON in html
    # The failed review shows a fixed sentence; the raw provider text stays in the database.
    assert "Review failed; it will be retried" in html
    assert "upstream 503" not in html and "sk-live-abc123" not in html
    assert "llm-gw.internal" not in html
    assert html.count("local draft") >= 3
    # Computed points look computed, with their numbers and evidence.
    assert "for · computed</span> Acme Coder is published under the MIT licence" in html
    # Sourced sentences carry their evidence; the persona's words are quoted as opinion.
    assert "The Pro plan costs $20 per month." in html and "[E3]" in html and "(sourced)" in html
    assert '<q class="opinion">I expect terminal agents to be common soon.</q>' in html
    # The contradicted price is not published anywhere on the page.
    assert "$35" not in html
    assert "sentence the claim check did not publish" in html
    assert 'id="evidence-E3"' in html  # the evidence list the ids refer to


def test_card_shows_panel_ship_percentage(client, reviewed):
    html = client.get(reviewed.get_absolute_url()).content.decode()
    assert "<dt>Panel ship</dt><dd>100% " in html
    assert "3 of 4 reviewers" in html


def test_compare_page_scorecard(client, reviewed, sample_catalog):
    html = client.get("/compare/acme-coder-vs-bolt-ide/").content.decode()
    assert "The reviewer scorecard" in html
    assert 'verdict-ship">Ship' in html and 'verdict-failed">Failed' in html
    assert SKEPTIC_REASON in html
    assert "<td>—</td>" in html  # Bolt IDE has no reviews yet


def test_model_text_is_escaped_everywhere(client, acme, sample_catalog):
    hostile = '<script>alert("x")</script>'
    model = ScriptedModel(
        lambda r, n: review_json(
            schema=r.schema, sections=answers(r, [f"I would pick it over {hostile}."])
        )
    )
    review_tools([acme.pk], model)
    for url in (acme.get_absolute_url(), "/compare/acme-coder-vs-bolt-ide/"):
        html = client.get(url).content.decode()
        assert hostile not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_sentences_the_check_rejects_are_not_published(client, acme):
    model = ScriptedModel(
        lambda r, n: review_json(
            schema=r.schema, sections=answers(r, ["It easily beats HyperForge for terminal work."])
        )
    )
    review_tools([acme.pk], model)
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "HyperForge" not in html and BUILDER_REASON in html
    review = acme.panel_reviews.get(persona_name="Builder", is_current=True)
    assert review.status == "published" and review.sections == {}
    first = review.claims.order_by("position").first()
    assert first.support == "unsupported" and "HyperForge" in first.problems[0]  # admin only


def test_compare_api_does_not_leak_rejected_or_failed_text(client, acme, sample_catalog):
    def script(request, n):
        if "Buyer" in request.prompt.persona_block.split(":")[0]:
            return ModelError("boom at 10.0.0.7 token sk-live-abc123", retryable=False)
        return review_json(
            schema=request.schema,
            sections=answers(request, ["It easily beats HyperForge for terminal work."]),
        )

    review_tools([acme.pk], ScriptedModel(script))
    body = client.get("/api/compare/acme-coder/bolt-ide").content.decode()
    for leaked in ("HyperForge", "sk-live-abc123", "10.0.0.7"):
        assert leaked not in body
    data = client.get("/api/compare/acme-coder/bolt-ide").json()
    reasons = {row["reason"] for row in data["scorecard"]["acme-coder"]}
    assert "Review failed; it will be retried" in reasons
    assert BUILDER_REASON in reasons and SKEPTIC_REASON in reasons


def test_review_command_runs_the_panel_with_progress(acme, settings):
    settings.TOOLVERDICT_PANEL_MODEL = "python:tests.panel.fakes.ScriptedModel"
    out = StringIO()
    call_command("review", "acme-coder", stdout=out)
    assert "reviewed 1 tool(s): 4 published" in out.getvalue()
    out = StringIO()
    call_command("review", "acme-coder", stdout=out)
    assert "4 reused" in out.getvalue()
    with pytest.raises(CommandError, match="no such tool: nope"):
        call_command("review", "nope")


def test_compare_command_prints_the_side_by_side_verdict(reviewed, sample_catalog):
    out = StringIO()
    call_command("compare", "bolt-ide", "acme-coder", stdout=out)
    text = out.getvalue()
    assert "Acme Coder vs Bolt IDE" in text
    assert "100%" in text and "Ship For it: a long context window and an" in text
    assert "Review failed; it will be retried" in text and "upstream 503" not in text
    assert "local draft" in text
    with pytest.raises(CommandError):
        call_command("compare", "acme-coder", "missing", stdout=StringIO())


def test_admin_lists_reviews_and_claims_with_provenance(admin_client, reviewed):
    html = admin_client.get("/admin/panel/review/").content.decode()
    assert "test:scripted" in html and "Acme Coder" in html
    review = reviewed.panel_reviews.get(persona="builder")
    detail = admin_client.get(f"/admin/panel/review/{review.pk}/change/").content.decode()
    assert review.dossier_hash in detail
    assert "The Pro plan costs $35 per month." in detail
    claims = admin_client.get("/admin/panel/claim/?support__exact=contradicted").content.decode()
    assert "$35 per month" in claims


def test_the_api_and_the_open_data_carry_only_published_sentences(client, reviewed):
    from toolverdict.opendata.export import collect

    tables = collect()
    texts = {c["text"] for c in tables["claims"]}
    assert "The Pro plan costs $20 per month." in texts
    assert "The Pro plan costs $35 per month." not in texts  # contradicted: kept off
    assert {c["support"] for c in tables["claims"]} <= {"supported", "computed", "opinion"}
    tool = client.get("/api/tools/acme-coder").json()
    assert (tool["panel_ship_pct"], tool["panel_reviews"]) == (100, 3)
    assert tool["panel_not_enough_evidence"] == 0
