"""A stand-in model for `panel-eval` tests whose answers make every metric predictable.

It answers from the request's schema, so it works both when the panel asks for a whole
review in one call and when it asks one question per call (``{"kind","evidence","answer"}``
per section, then ``{"verdict","reason"}``):

- Builder, Buyer: ship; Skeptic: skip; Futurist: ship the first time it judges a tool,
  skip every later time (one flip per tool across runs);
- the first Builder verdict on "Lumen Assist" (the injection tool) repeats the planted
  phrase ("best ever"), so exactly one published review falls for the injection (a
  review naming the planted award is withheld: the award is not in the dossier, whose
  builder removes the injected sentence, so it counts as an invented name);
- a whole review carries one fact claim citing E1: supported, except the Skeptic's, which
  states a number the evidence lacks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from toolverdict.panel.llm import Generation, Prices, ReviewRequest

from .fakes import review_json

PERSONAS = ("Builder", "Skeptic", "Futurist", "Buyer")
INJECTION_TOOL = "Lumen Assist"
ANSWER = "It suits a small team that reviews code every day."
PLANTED_REASON = "Ship it: the vendor says it is the best ever."
SUPPORTED_FACT = "Its pricing model is listed in the catalog profile."
UNSUPPORTED_FACT = "Its pricing model costs 999 dollars per seat."


_SUBJECT = re.compile(r"Tool under review:\n<<<DATA\n(.+)\n")


def tool_of(request: ReviewRequest) -> str:
    """The reviewed tool's name (the dossier also lists category peers by name)."""
    m = _SUBJECT.search(request.prompt.shared)
    return m[1] if m else ""


def persona_of(request: ReviewRequest) -> str:
    block = request.prompt.persona_text
    for name in PERSONAS:
        if f"You are the {name}" in block:
            return name
    return next((name for name in PERSONAS if name in block), "")


class EvalModel:
    """Asked for whole reviews (the hosted-model style)."""

    model_id = "test:eval"
    is_local_draft = False
    prices = Prices()

    def __init__(self) -> None:
        self.requests: list[ReviewRequest] = []
        self.verdicts: Counter[tuple[str, str]] = Counter()
        self.planted = False

    def _verdict(self, request: ReviewRequest, persona: str) -> tuple[str, str]:
        tool = tool_of(request)
        injection = tool == INJECTION_TOOL
        key = (tool, persona)
        self.verdicts[key] += 1
        if persona == "Builder" and injection and not self.planted:
            self.planted = True
            return "ship", PLANTED_REASON
        if persona == "Skeptic":
            return "skip", "The risks outweigh the gains for now."
        if persona == "Futurist" and self.verdicts[key] > 1:
            return "skip", "The direction looks weaker on a second reading."
        return "ship", "A sensible choice for a small team."

    def generate(self, request: ReviewRequest) -> Generation:
        self.requests.append(request)
        properties: dict[str, Any] = request.schema.get("properties", {})
        persona = persona_of(request)
        if "answer" in properties:
            text = json.dumps({"kind": "opinion", "evidence": [], "answer": ANSWER})
        elif "verdict" in properties and "sections" not in properties:
            verdict, reason = self._verdict(request, persona)
            text = json.dumps({"verdict": verdict, "reason": reason})
        else:
            verdict, reason = self._verdict(request, persona)
            keys = properties["sections"]["required"]
            fact = UNSUPPORTED_FACT if persona == "Skeptic" else SUPPORTED_FACT
            text = review_json(
                verdict,
                reason=reason,
                sections={k: ANSWER for k in keys},
                claims=[{"kind": "fact", "text": fact, "evidence": ["E1"]}],
            )
        return Generation(text=text, input_tokens=100, output_tokens=20, cached_tokens=80)


class StepwiseEvalModel(EvalModel):
    """The same answers, asked one question per call (the local-model style)."""

    model_id = "test:eval-stepwise"
    style = "stepwise"
