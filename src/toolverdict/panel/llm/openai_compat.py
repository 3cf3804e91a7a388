"""OpenAI-compatible backend (OpenAI, vLLM, Ollama, llama.cpp server) via the ``openai`` SDK.

Structured output: ``json_schema`` (strict) for servers that honour it (OpenAI, vLLM,
Ollama). llama.cpp's server ignores that form; it builds a grammar from
``{"type": "json_object", "schema": …}`` instead, so
``TOOLVERDICT_OPENAI_RESPONSE_FORMAT=json_object`` selects that form. Cached prompt
tokens are read from ``usage.prompt_tokens_details.cached_tokens`` where reported.
The SDK's own retries are off: the panel retries with backoff itself, the same way for
every backend.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from .base import Generation, ModelError, ReviewRequest, import_sdk
from .remote import is_retryable_status, prices_for

# Keywords OpenAI's strict structured-output mode rejects. The bounds still hold: the panel
# validates every reply against the full pydantic schema, and an over-long field fails the
# review with the reason.
_STRICT_UNSUPPORTED = ("minLength", "maxLength")


def strict_schema(node: Any) -> Any:
    """The review schema without the keywords strict mode does not accept."""
    if isinstance(node, dict):
        return {k: strict_schema(v) for k, v in node.items() if k not in _STRICT_UNSUPPORTED}
    if isinstance(node, list):
        return [strict_schema(v) for v in node]
    return node


class OpenAIModel:
    """`ReviewModel` for any server speaking the OpenAI chat completions API."""

    is_local_draft = False

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        response_format: str | None = None,
        timeout: float | None = None,
        http_client: Any = None,
    ) -> None:
        openai = import_sdk("openai", "openai:<model>")

        self.model = model
        # A different server is a different model even under the same name (a local vLLM
        # "gpt-4o-mini" is not OpenAI's): the host is part of the reuse key when not default.
        host = urlsplit(base_url or settings.TOOLVERDICT_OPENAI_BASE_URL or "").netloc.lower()
        host = host.rpartition("@")[2]  # never credentials from the URL
        suffix = f"@{host}" if host and host != "api.openai.com" else ""
        self.model_id = f"openai:{model}{suffix}"[:120]
        self.prices = prices_for(model)
        self.response_format = response_format or settings.TOOLVERDICT_OPENAI_RESPONSE_FORMAT
        if self.response_format not in ("json_schema", "json_object"):
            raise ValueError("response_format must be json_schema or json_object")
        self.client = openai.OpenAI(
            # OPENAI_API_KEY as usual; local servers (llama.cpp, vLLM, Ollama) take any key.
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            base_url=base_url or settings.TOOLVERDICT_OPENAI_BASE_URL,
            timeout=timeout or settings.TOOLVERDICT_PANEL_TIMEOUT,
            max_retries=0,
            http_client=http_client,
        )

    def request_kwargs(self, request: ReviewRequest) -> dict[str, Any]:
        if self.response_format == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "review",
                    "schema": strict_schema(request.schema),
                    "strict": True,
                },
            }
        else:
            response_format = {"type": "json_object", "schema": request.schema}
        return {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.prompt.messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "response_format": response_format,
        }

    def generate(self, request: ReviewRequest) -> Generation:
        openai = import_sdk("openai", "openai:<model>")

        try:
            response = self.client.chat.completions.create(**self.request_kwargs(request))
        except openai.APIConnectionError as exc:  # includes timeouts
            raise ModelError(f"cannot reach the model server: {exc}", retryable=True) from exc
        except openai.APIStatusError as exc:
            raise ModelError(
                f"model server answered {exc.status_code}: {exc.message}",
                retryable=is_retryable_status(exc.status_code),
            ) from exc
        choice = response.choices[0]
        if choice.finish_reason == "length":
            raise ModelError(f"output reached the {request.max_tokens}-token limit unfinished")
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise ModelError(f"the model refused: {refusal}")
        usage = response.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        return Generation(
            text=choice.message.content or "",
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=(getattr(details, "cached_tokens", None) or 0) if details else 0,
        )
