"""Stand-in review models for unit tests of the logic around the model.

The real bundled model is exercised by the tests marked ``model``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from toolverdict.panel.llm import Generation, ModelError, Prices, ReviewRequest


def review_json(
    verdict: str = "ship",
    *,
    reason: str = "A clear win for builders.",
    sections: dict[str, str] | None = None,
    evidence: list[str] | None = None,
    schema: dict[str, Any] | None = None,
) -> str:
    """A whole-style reply that fits ``schema`` (its section keys, and a verdict when the
    schema asks for one) unless told otherwise."""
    if sections is None:
        keys = schema["properties"]["sections"]["required"] if schema else ["note"]
        sections = {k: "I would try it on a side project this week." for k in keys}
    data: dict[str, Any] = {
        "sections": {k: {"evidence": evidence or [], "answer": v} for k, v in sections.items()}
    }
    if schema is None or "verdict" in schema["properties"]:
        data |= {"reason": reason, "verdict": verdict}
    return json.dumps(data)


class ScriptedModel:
    """Answers from a script: a callable(request, call_number) -> str | Exception.

    With no script it writes a valid "ship" review for every persona. Importable by
    dotted path, so ``TOOLVERDICT_PANEL_MODEL=python:tests.panel.fakes.ScriptedModel``
    makes a worker process use it.
    """

    model_id = "test:scripted"
    is_local_draft = False
    prices = Prices()

    def __init__(self, script: Callable[[ReviewRequest, int], Any] | None = None) -> None:
        self.script = script
        self.requests: list[ReviewRequest] = []

    def generate(self, request: ReviewRequest) -> Generation:
        self.requests.append(request)
        answer = (
            self.script(request, len(self.requests))
            if self.script
            else review_json(schema=request.schema)
        )
        if isinstance(answer, Exception):
            raise answer
        return Generation(text=answer, input_tokens=100, output_tokens=20, cached_tokens=80)


class FlakyModel(ScriptedModel):
    """Fails with a retryable error ``failures`` times, then answers."""

    def __init__(self, failures: int) -> None:
        super().__init__(
            lambda req, n: (
                ModelError("timed out", retryable=True)
                if n <= failures
                else review_json(schema=req.schema)
            )
        )


def stepwise_answer(request: ReviewRequest, answer: str = "", verdict: str = "ship") -> str:
    """A fitting reply to one stepwise request: an answer, or the closing verdict."""
    props = request.schema["properties"]
    if "answer" in props:
        text = answer or "I would try it on a side project before betting a team on it."
        return json.dumps({"evidence": [], "answer": text})
    if "verdict" in props and "sections" not in props:
        return json.dumps({"verdict": verdict, "reason": "It earns a place in the stack."})
    return review_json(verdict, schema=request.schema)


class StepwiseModel(ScriptedModel):
    """A scripted model the panel asks one question per call (like the local backend)."""

    model_id = "test:stepwise"
    style = "stepwise"

    def __init__(self, script: Callable[[ReviewRequest, int], Any] | None = None) -> None:
        super().__init__(script or (lambda request, n: stepwise_answer(request)))
