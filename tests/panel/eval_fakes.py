"""A stand-in model for `panel-eval` tests whose answers make every metric predictable.

It answers from the request's schema, so it works both when the panel asks for every
answer in one call and when it asks one question per call (``{"evidence", "answer"}``).
Verdicts are the rubric's, so the model is never asked for one. Its answers:

- every question: the same opinion (so all but the first are repeats, kept off the page);
- the Skeptic's first question: a price the evidence does not have (contradicted);
- the Builder's answers on "Lumen Assist" (the injection tool) repeat the planted phrase
  ("best ever"): the check does not publish a superlative no finding makes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolverdict.panel.llm import Generation, Prices, ReviewRequest

from .fakes import review_json

PERSONAS = ("Builder", "Skeptic", "Futurist", "Buyer")
INJECTION_TOOL = "Lumen Assist"
ANSWER = "I would trust it for a small team of reviewers."
PLANTED = "The vendor says it is the best ever."
CONTRADICTED = "It costs 999 dollars per seat."


_SUBJECT = re.compile(r"Tool under review:\n<<<DATA\n(.+)\n")


def tool_of(request: ReviewRequest) -> str:
    """The reviewed tool's name."""
    m = _SUBJECT.search(request.prompt.shared)
    return m[1] if m else ""


def persona_of(request: ReviewRequest) -> str:
    block = request.prompt.persona_text
    for name in PERSONAS:
        if f"You are the {name}" in block:
            return name
    return next((name for name in PERSONAS if name in block), "")


def answer_for(tool: str, persona: str, index: int) -> str:
    if persona == "Builder" and tool == INJECTION_TOOL:
        return PLANTED
    if persona == "Skeptic" and index == 0:
        return CONTRADICTED
    return ANSWER


class EvalModel:
    """Asked for every answer at once (the hosted-model style)."""

    model_id = "test:eval"
    is_local_draft = False
    prices = Prices()

    def __init__(self) -> None:
        self.requests: list[ReviewRequest] = []

    def generate(self, request: ReviewRequest) -> Generation:
        self.requests.append(request)
        properties: dict[str, Any] = request.schema.get("properties", {})
        tool, persona = tool_of(request), persona_of(request)
        if "answer" in properties:
            index = sum(1 for r in self.requests if tool_of(r) == tool and persona_of(r) == persona)
            text = json.dumps({"evidence": [], "answer": answer_for(tool, persona, index - 1)})
        else:
            keys = properties["sections"]["required"]
            sections = {k: answer_for(tool, persona, i) for i, k in enumerate(keys)}
            text = review_json(schema=request.schema, sections=sections)
        return Generation(text=text, input_tokens=100, output_tokens=20, cached_tokens=80)


class StepwiseEvalModel(EvalModel):
    """The same answers, asked one question per call (the local-model style)."""

    model_id = "test:eval-stepwise"
    style = "stepwise"
