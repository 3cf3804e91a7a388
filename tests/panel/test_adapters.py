"""Request construction and usage reading of the hosted backends, over a fake transport.

No network here: httpx's MockTransport answers as the provider would. The
OpenAI-compatible adapter also runs against a real llama.cpp server in test_real_model.
"""

from __future__ import annotations

import json

import httpx2
import pytest

from toolverdict.panel.llm import ModelError, ReviewRequest
from toolverdict.panel.llm.anthropic_api import TOOL_NAME, AnthropicModel
from toolverdict.panel.llm.openai_compat import OpenAIModel
from toolverdict.panel.personas import load_personas
from toolverdict.panel.prompts import RULES, build_prompt
from toolverdict.panel.review_schema import json_schema, sections_model


@pytest.fixture
def request_(acme_dossier):
    persona = load_personas()[1]
    return ReviewRequest(
        prompt=build_prompt(acme_dossier, persona),
        schema=json_schema(sections_model(acme_dossier, persona)),
    )


def _client(handler, seen):
    def record(request):
        seen.append(request)
        return handler(request)

    return httpx2.Client(transport=httpx2.MockTransport(record))


def _openai_reply(content='{"verdict": "ship"}', cached=640, finish="stop"):
    return httpx2.Response(
        200,
        json={
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish,
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {
                "prompt_tokens": 900,
                "completion_tokens": 120,
                "total_tokens": 1020,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        },
    )


def test_openai_sends_strict_json_schema_and_reads_cached_tokens(request_):
    seen = []
    model = OpenAIModel(
        "gpt-4o-mini",
        base_url="http://llm.test/v1",
        http_client=_client(lambda r: _openai_reply(), seen),
        response_format="json_schema",
    )
    generation = model.generate(request_)
    body = json.loads(seen[0].content)
    assert str(seen[0].url) == "http://llm.test/v1/chat/completions"
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    sent = body["response_format"]["json_schema"]["schema"]
    assert "maxLength" not in json.dumps(sent)  # strict mode rejects it; we validate after
    answer = sent["properties"]["sections"]["properties"]["competitor"]
    assert answer["properties"]["evidence"]["maxItems"] == 3
    assert sent["required"] == request_.schema["required"]
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"].startswith(RULES)  # the shared, cacheable prefix
    assert (generation.input_tokens, generation.output_tokens, generation.cached_tokens) == (
        900,
        120,
        640,
    )
    assert model.prices.input > 0  # a known model gets a cost estimate


def test_openai_json_object_form_for_llama_cpp_server(request_):
    seen = []
    model = OpenAIModel(
        "local", http_client=_client(lambda r: _openai_reply(), seen), response_format="json_object"
    )
    model.generate(request_)
    body = json.loads(seen[0].content)
    assert body["response_format"] == {"type": "json_object", "schema": request_.schema}


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (503, True), (400, False)])
def test_openai_errors_say_whether_to_retry(request_, status, retryable):
    model = OpenAIModel(
        "m",
        base_url="http://llm.test/v1",
        http_client=_client(
            lambda r: httpx2.Response(status, json={"error": {"message": "no"}}), []
        ),
    )
    with pytest.raises(ModelError) as info:
        model.generate(request_)
    assert info.value.retryable is retryable


def test_openai_timeouts_are_retryable(request_):
    def timeout(request):
        raise httpx2.ReadTimeout("slow", request=request)

    model = OpenAIModel("m", base_url="http://llm.test/v1", http_client=_client(timeout, []))
    with pytest.raises(ModelError) as info:
        model.generate(request_)
    assert info.value.retryable


def test_openai_truncated_output_is_an_error(request_):
    model = OpenAIModel(
        "m",
        base_url="http://llm.test/v1",
        http_client=_client(lambda r: _openai_reply(finish="length"), []),
    )
    with pytest.raises(ModelError, match="token limit"):
        model.generate(request_)


def _anthropic_reply(review):
    return httpx2.Response(
        200,
        json={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5",
            "stop_reason": "tool_use",
            "content": [{"type": "tool_use", "id": "t1", "name": TOOL_NAME, "input": review}],
            "usage": {
                "input_tokens": 60,
                "output_tokens": 150,
                "cache_read_input_tokens": 800,
                "cache_creation_input_tokens": 0,
            },
        },
    )


def test_anthropic_caches_the_dossier_and_forces_the_review_tool(request_, acme_dossier):
    seen = []
    review = {"sections": {}, "reason": "r", "verdict": "skip"}
    model = AnthropicModel(
        "claude-sonnet-5",
        api_key="test-key",
        http_client=_client(lambda r: _anthropic_reply(review), seen),
    )
    generation = model.generate(request_)
    body = json.loads(seen[0].content)
    assert seen[0].headers["authorization"] == "Bearer test-key"
    system = body["system"]
    assert system[0] == {"type": "text", "text": RULES}
    assert system[1]["cache_control"] == {"type": "ephemeral"}
    assert system[1]["text"] == acme_dossier.render()
    assert body["messages"] == [{"role": "user", "content": request_.prompt.persona_block}]
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert body["tools"][0]["input_schema"] == request_.schema
    assert "temperature" not in body  # the API no longer takes sampling parameters
    assert json.loads(generation.text) == review
    assert (generation.input_tokens, generation.cached_tokens, generation.output_tokens) == (
        860,
        800,
        150,
    )


def test_anthropic_overload_is_retryable(request_):
    model = AnthropicModel(
        "claude-sonnet-5",
        api_key="k",
        http_client=_client(
            lambda r: httpx2.Response(529, json={"type": "error", "error": {"message": "busy"}}), []
        ),
    )
    with pytest.raises(ModelError) as info:
        model.generate(request_)
    assert info.value.retryable


def test_stepwise_turns_reach_both_hosted_apis(acme_dossier):
    from toolverdict.panel.personas import load_personas
    from toolverdict.panel.prompts import Message, build_prompt, verdict_block

    persona = load_personas()[0]
    history = (
        Message("user", "Question: What primitive does it give a developer?"),
        Message("assistant", '{"kind": "opinion", "evidence": [], "answer": "Tool use."}'),
    )
    stepwise = ReviewRequest(
        prompt=build_prompt(acme_dossier, persona, block=verdict_block(), history=history),
        schema={"type": "object"},
    )
    seen = []
    model = OpenAIModel(
        "gpt-4o-mini", api_key="k", http_client=_client(lambda r: _openai_reply("{}"), seen)
    )
    model.generate(stepwise)
    messages = json.loads(seen[0].content)["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == history[1].content

    seen = []
    model = AnthropicModel(
        "claude-sonnet-5",
        api_key="k",
        http_client=_client(lambda r: _anthropic_reply({"verdict": "ship"}), seen),
    )
    model.generate(stepwise)
    [message] = json.loads(seen[0].content)["messages"]
    # A forced tool call cannot precede a plain assistant turn: a transcript instead.
    assert message["role"] == "user"
    assert message["content"].startswith("USER: Question: What primitive")
    assert 'ASSISTANT: {"kind": "opinion"' in message["content"]
    assert message["content"].endswith(f"USER: {verdict_block()}")
