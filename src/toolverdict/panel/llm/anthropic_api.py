"""Anthropic backend via the official ``anthropic`` SDK.

The rules and the dossier go in the system prompt as two blocks, the dossier block marked
``cache_control: ephemeral``, so personas 2–4 of a tool read it from Anthropic's prompt
cache. The review comes back through a forced tool call whose input schema is the review
schema. Cache reads are reported as cached tokens; cache writes count as input. The
Messages API in this SDK version takes no temperature, so none is sent.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from ..prompts import RULES
from .base import Generation, ModelError, ReviewRequest, import_sdk
from .remote import is_retryable_status, prices_for

TOOL_NAME = "submit_review"


class AnthropicModel:
    """`ReviewModel` for Anthropic's Messages API."""

    is_local_draft = False

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        http_client: Any = None,
    ) -> None:
        anthropic = import_sdk("anthropic", "anthropic:<model>")

        self.model = model
        self.model_id = f"anthropic:{model}"
        self.prices = prices_for(model)
        self.client = anthropic.Anthropic(
            api_key=api_key,  # None: the SDK reads ANTHROPIC_API_KEY
            base_url=base_url,
            timeout=timeout or settings.TOOLVERDICT_PANEL_TIMEOUT,
            max_retries=0,
            http_client=http_client,
        )

    def request_kwargs(self, request: ReviewRequest) -> dict[str, Any]:
        prompt = request.prompt
        system, user = prompt.messages[0].content, prompt.messages[-1].content
        if prompt.history:
            # Earlier stepwise turns go in as a transcript: a forced tool call cannot be
            # followed by a plain assistant turn in this API.
            turns = "\n\n".join(f"{m.role.upper()}: {m.content}" for m in prompt.history)
            user = f"{turns}\n\nUSER: {user}"
        if prompt.layout == "dossier_first":
            dossier = system.removeprefix(RULES).strip()
            system_blocks = [
                {"type": "text", "text": RULES},
                {"type": "text", "text": dossier, "cache_control": {"type": "ephemeral"}},
            ]
        else:
            system_blocks = [{"type": "text", "text": system}]
        return {
            "model": self.model,
            "max_tokens": request.max_tokens,
            # No temperature: this API version no longer takes sampling parameters, so
            # the verdict's stability rests on the model (see docs/panel.md).
            "system": system_blocks,
            "messages": [{"role": "user", "content": user}],
            "tools": [
                {
                    "name": TOOL_NAME,
                    "description": "Submit your review of the tool.",
                    "input_schema": request.schema,
                }
            ],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        }

    def generate(self, request: ReviewRequest) -> Generation:
        anthropic = import_sdk("anthropic", "anthropic:<model>")

        try:
            message = self.client.messages.create(**self.request_kwargs(request))
        except anthropic.APIConnectionError as exc:  # includes timeouts
            raise ModelError(f"cannot reach Anthropic: {exc}", retryable=True) from exc
        except anthropic.APIStatusError as exc:
            raise ModelError(
                f"Anthropic answered {exc.status_code}: {exc.message}",
                retryable=is_retryable_status(exc.status_code),
            ) from exc
        if message.stop_reason == "max_tokens":
            raise ModelError(f"output reached the {request.max_tokens}-token limit unfinished")
        tool_input = next(
            (b.input for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME),
            None,
        )
        if tool_input is None:
            raise ModelError("the model did not call the review tool")
        usage = message.usage
        cache_read = getattr(usage, "cache_read_input_tokens", None) or 0
        cache_write = getattr(usage, "cache_creation_input_tokens", None) or 0
        return Generation(
            text=json.dumps(tool_input),
            # Anthropic reports uncached input separately from cache reads and writes.
            input_tokens=usage.input_tokens + cache_read + cache_write,
            output_tokens=usage.output_tokens,
            cached_tokens=cache_read,
        )
