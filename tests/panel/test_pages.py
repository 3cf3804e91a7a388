"""The panel on the pages and in the terminal: verdicts, flags, labels, escaping."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.panel.fakes import ScriptedModel, review_json
from toolverdict.panel.llm import ModelError
from toolverdict.panel.services import review_tools

CLAIMS = [
    {"kind": "fact", "text": "The Pro plan costs $20 per month.", "evidence": ["E3"]},
    {"kind": "fact", "text": "The Pro plan costs $35 per month.", "evidence": ["E3"]},
    {"kind": "forecast", "text": "Terminal agents will be common soon.", "evidence": []},
]


def _script(request, n):
    persona = request.prompt.persona_block.split(":")[0].removeprefix("You are the ")
    if persona == "Buyer":
        return ModelError("upstream 503 from llm-gw.internal key sk-live-abc123", retryable=False)
    verdict = "skip" if persona == "Skeptic" else "ship"
    return review_json(verdict, reason=f"{persona} reason.", schema=request.schema, claims=CLAIMS)


class LocalDraftModel(ScriptedModel):
    is_local_draft = True


@pytest.fixture
def reviewed(acme):
    review_tools([acme.pk], LocalDraftModel(_script))
    return acme


def test_tool_page_shows_verdicts_flags_and_labels(client, reviewed):
    html = client.get(reviewed.get_absolute_url()).content.decode()
    # 2 ship of 3 published; the failed Buyer is not counted.
    assert "67% Panel ship</strong> · 3 of 4 reviewers: 2 say ship, 1 skip" in html
    assert "Builder reason." in html and "Skeptic reason." in html
    # The failed review shows a fixed sentence; the raw provider text stays in the database.
    assert "Review failed; it will be retried" in html
    assert "upstream 503" not in html and "sk-live-abc123" not in html
    assert "llm-gw.internal" not in html
    assert html.count("local draft") >= 3
    assert "[E3]" in html
    assert html.count('<span class="flag"') == 3  # the $35 claim, once per published review
    assert "forecast, not judged" in html
    assert 'id="evidence-E3"' in html  # the evidence list the ids refer to


def test_card_shows_panel_ship_percentage(client, reviewed):
    html = client.get(reviewed.get_absolute_url()).content.decode()
    assert "<dt>Panel ship</dt><dd>67% " in html
    assert '<span class="muted figure-note">3 of 4 reviewers</span>' in html


def test_compare_page_scorecard(client, reviewed, sample_catalog):
    html = client.get("/compare/acme-coder-vs-bolt-ide/").content.decode()
    assert "The reviewer scorecard" in html
    assert 'verdict-skip">Skip' in html and 'verdict-failed">Failed' in html
    assert "Skeptic reason." in html
    assert "<td>—</td>" in html  # Bolt IDE has no reviews yet


def test_model_text_is_escaped_everywhere(client, acme, sample_catalog):
    hostile = '<script>alert("x")</script>'
    claims = [{"kind": "opinion", "text": f"Nice {hostile}.", "evidence": []}]
    model = ScriptedModel(
        lambda r, n: review_json(reason=f"Pick {hostile}.", schema=r.schema, claims=claims)
    )
    review_tools([acme.pk], model)
    for url in (acme.get_absolute_url(), "/compare/acme-coder-vs-bolt-ide/"):
        html = client.get(url).content.decode()
        assert hostile not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_withheld_review_text_is_not_published(client, acme):
    claims = [{"kind": "opinion", "text": "Beats HyperForge 3 easily.", "evidence": []}]
    review_tools(
        [acme.pk],
        ScriptedModel(
            lambda r, n: review_json(reason="Secret words.", schema=r.schema, claims=claims)
        ),
    )
    html = client.get(acme.get_absolute_url()).content.decode()
    assert "Withheld: failed the grounding check" in html
    assert "Secret words" not in html and "Beats HyperForge" not in html
    assert "HyperForge" not in html  # the grounding problem names it: admin only
    review = acme.panel_reviews.get(persona_name="Builder", is_current=True)
    assert "HyperForge" in review.problem and review.reason == "Secret words."


def test_compare_api_does_not_leak_withheld_or_failed_text(client, acme, sample_catalog):
    claims = [{"kind": "opinion", "text": "Beats HyperForge 3 easily.", "evidence": []}]

    def script(request, n):
        if "Buyer" in request.prompt.persona_block.split(":")[0]:
            return ModelError("boom at 10.0.0.7 token sk-live-abc123", retryable=False)
        return review_json(reason="Secret words.", schema=request.schema, claims=claims)

    review_tools([acme.pk], ScriptedModel(script))
    body = client.get("/api/compare/acme-coder/bolt-ide").content.decode()
    for leaked in ("Secret words", "HyperForge", "sk-live-abc123", "10.0.0.7"):
        assert leaked not in body
    data = client.get("/api/compare/acme-coder/bolt-ide").json()
    reasons = {row["reason"] for row in data["scorecard"]["acme-coder"]}
    assert reasons == {
        "Withheld: failed the grounding check",
        "Review failed; it will be retried",
    }


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
    assert "67%" in text and "Skip Skeptic reason." in text
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
    claims = admin_client.get("/admin/panel/claim/?support__exact=unsupported").content.decode()
    assert "$35 per month" in claims
