"""Personas as data, the bounded review schema, and the dossier-first prompt layout."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from toolverdict.panel.llm.local import chatml
from toolverdict.panel.personas import PersonaError, load_personas
from toolverdict.panel.prompts import RULES, build_prompt
from toolverdict.panel.review_schema import (
    ANSWER_MAX,
    REASON_MAX,
    json_schema,
    sections_model,
)

KEYS = ("primitive", "dx_bet", "first_ten_minutes", "decision")


def _review(answer="a", evidence=("E3",), **over):
    base = {
        "sections": {k: {"evidence": list(evidence), "answer": answer} for k in KEYS},
        "reason": "Good.",
        "verdict": "ship",
    }
    return base | over


def test_four_default_personas_with_distinct_lenses():
    personas = load_personas()
    assert [p.name for p in personas] == ["Builder", "Skeptic", "Futurist", "Buyer"]
    keys = [tuple(s.key for s in p.sections) for p in personas]
    assert len(set(keys)) == 4
    assert "competitor" in keys[1] and "thesis" in keys[2] and "moat" in keys[3]


def test_an_editor_adds_a_persona_without_code(tmp_path, settings, acme_dossier):
    (tmp_path / "ops.toml").write_text(
        'slug = "operator"\nname = "Operator"\nlens = "You run it at 3am."\n'
        'instructions = "Judge operability."\n'
        '[[sections]]\nkey = "pager"\nquestion = "What pages you?"\n'
    )
    settings.TOOLVERDICT_PERSONAS_DIR = str(tmp_path)
    [persona] = load_personas()
    schema = json_schema(sections_model(acme_dossier, persona))
    assert schema["properties"]["sections"]["required"] == ["pager"]


def test_a_broken_persona_file_is_a_clear_error(tmp_path):
    (tmp_path / "bad.toml").write_text('slug = "Bad Slug"\nname = "x"\n')
    with pytest.raises(PersonaError, match=r"bad\.toml: .*slug"):
        load_personas(tmp_path)


def test_schema_bounds_every_string_and_list(acme_dossier):
    model = sections_model(acme_dossier, load_personas()[0], judge=True)
    model.model_validate(_review())
    bad = [
        _review(reason="x" * (REASON_MAX + 1)),
        _review(answer="y" * (ANSWER_MAX + 1)),
        _review(answer=""),
        _review(verdict="maybe"),
        _review(evidence=("E1", "E2", "E3", "E4")),
        _review(sections={"primitive": {"evidence": [], "answer": "a"}}),
        _review(extra="field"),
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            model.model_validate(data)


def test_a_verdict_is_asked_for_only_when_the_model_judges(acme_dossier):
    persona = load_personas()[0]
    assert "verdict" not in json_schema(sections_model(acme_dossier, persona))["properties"]
    judged = json_schema(sections_model(acme_dossier, persona, judge=True))
    assert list(judged["properties"])[-2:] == ["reason", "verdict"]  # reason first


def test_evidence_ids_are_an_enum_of_the_dossier(acme_dossier):
    model = sections_model(acme_dossier, load_personas()[0])
    with pytest.raises(ValidationError):
        model.model_validate(_review(evidence=("E9",)))
    schema = json_schema(model)
    answer = schema["properties"]["sections"]["properties"]["primitive"]
    ids = answer["properties"]["evidence"]["items"]["enum"]
    assert ids == acme_dossier.ids
    assert ids[:5] == ["E1", "E2", "E3", "E4", "E5"] and any(i.startswith("C") for i in ids)
    assert "$ref" not in json.dumps(schema)


def test_four_prompts_share_the_dossier_as_identical_prefix(acme_dossier):
    personas = load_personas()
    prompts = [build_prompt(acme_dossier, p) for p in personas]
    assert len({p.messages[0].content for p in prompts}) == 1
    shared = prompts[0].messages[0].content
    assert shared.startswith(RULES) and acme_dossier.render() in shared
    for persona, prompt in zip(personas, prompts, strict=True):
        assert persona.lens in prompt.messages[-1].content
        assert persona.lens not in shared
    # The strings the local model tokenises share everything up to the persona block.
    texts = [chatml([(m.role, m.content) for m in p.messages]) for p in prompts]
    common = os.path.commonprefix(texts)
    assert texts[0].index("<|im_start|>user\n") < len(common)  # whole system turn shared
    assert acme_dossier.render() in common


def test_persona_first_layout_shares_almost_nothing(acme_dossier):
    personas = load_personas()
    texts = [
        chatml(
            [(m.role, m.content) for m in build_prompt(acme_dossier, p, "persona_first").messages]
        )
        for p in personas
    ]
    assert acme_dossier.render() not in os.path.commonprefix(texts)
