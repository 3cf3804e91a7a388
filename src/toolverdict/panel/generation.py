"""The wording stage: the model writes each persona's answers, in the style it can manage.

The verdict is already decided (``rubric.py``); the model is told it and explains it in the
persona's voice, answering the persona's questions. What it writes is not trusted: the
claim check (``claimcheck.py``) labels every sentence before anything is published.

Two styles produce the same draft (answers per question, each with its citations):

- ``whole``: one request for every answer as one JSON object. Strong hosted models answer
  this well, and it is one call per persona.
- ``stepwise``: one focused question per call. Small local models answer a single question
  concretely where they answer a four-question form with non-answers. Every question
  repeats the same opening (rules + dossier, then persona + decided verdict), so
  llama.cpp (or a prefix cache) evaluates the dossier once per tool, and no answer sees
  another: shown its earlier answers, a small model repeats them.

With ``TOOLVERDICT_PANEL_JUDGE=model`` the model also gives its own verdict (asked last in
the stepwise style); the rubric's stays beside it.

Either way the text ends on a sentence boundary: a length limit never leaves a word cut.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ValidationError

from .dossier import Dossier
from .llm import Generation, ModelError, ReviewModel, ReviewRequest
from .personas import Persona
from .prompts import build_prompt, persona_block, question_block, verdict_block
from .review_schema import (
    ANSWER_MAX,
    REASON_MAX,
    VERDICT_REASON_MAX,
    answer_model,
    json_schema,
    sections_model,
    verdict_model,
)
from .substance import end_on_sentence, ends_sentence

log = logging.getLogger(__name__)

STYLES = ("whole", "stepwise")
ANSWER_TOKENS = 130
VERDICT_TOKENS = 110


@dataclass
class Draft:
    """A persona's review as the model wrote it, before the gates; usage summed."""

    verdict: str = ""
    reason: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    claims: list[dict[str, Any]] = field(default_factory=list)  # section, text, evidence
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    attempts: int = 0
    calls: int = 0

    def add(self, generation: Generation, attempts: int) -> None:
        self.input_tokens += generation.input_tokens
        self.output_tokens += generation.output_tokens
        self.cached_tokens += generation.cached_tokens
        self.attempts = max(self.attempts, attempts)
        self.calls += 1

    @property
    def usage(self) -> Generation:
        return Generation("", self.input_tokens, self.output_tokens, self.cached_tokens)


class DraftError(ModelError):
    """The model produced no usable review; carries what it cost so far."""

    def __init__(self, message: str, draft: Draft, *, retryable: bool = False) -> None:
        super().__init__(message, retryable=retryable)
        self.draft = draft


def style_for(model: ReviewModel) -> str:
    """The configured style, else the backend's own (hosted backends: whole)."""
    configured = (settings.TOOLVERDICT_PANEL_STYLE or "").strip()
    style = configured or getattr(model, "style", "whole")
    if style not in STYLES:
        raise ValueError(f"TOOLVERDICT_PANEL_STYLE must be one of {', '.join(STYLES)}")
    return style


def generate_with_retry(model: ReviewModel, request: ReviewRequest) -> tuple[Generation, int]:
    """Call the model, retrying retryable errors with exponential backoff."""
    attempts = max(1, settings.TOOLVERDICT_PANEL_ATTEMPTS)
    backoff = settings.TOOLVERDICT_PANEL_BACKOFF
    for attempt in range(1, attempts + 1):
        try:
            return model.generate(request), attempt
        except ModelError as exc:
            if not exc.retryable or attempt == attempts:
                exc.attempts = attempt  # type: ignore[attr-defined]
                raise
            log.warning("panel model error (attempt %s/%s): %s", attempt, attempts, exc)
            time.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "review"
    return f"{where}: {err['msg']}"


def parse(text: str, model: type[BaseModel], what: str = "review") -> dict[str, Any]:
    """Parse and validate model output against ``model``; ModelError when it does not fit."""
    try:
        data = json.loads(text, strict=False)  # small models emit raw newlines in strings
    except json.JSONDecodeError as exc:
        raise ModelError(f"{what} is not JSON: {exc.msg} at character {exc.pos}") from exc
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ModelError(f"{what} does not match the review schema: {_first_error(exc)}") from exc


def _tidy(text: str, limit: int) -> str:
    """One line ending on a sentence boundary.

    A string the model closed before the schema's length limit is complete, so a missing
    final stop is added ("SmolVLM, Cursor and Copilot" is a list, not a cut). One that
    reached the limit may be cut mid-word: it goes back to its last complete sentence.
    """
    text = " ".join(text.split())
    if len(text) < limit - 2 and text and not ends_sentence(text):
        return text + "."
    return end_on_sentence(text)


class _Asker:
    """One persona, one dossier: sends requests and sums their usage into a draft."""

    def __init__(
        self,
        model: ReviewModel,
        dossier: Dossier,
        persona: Persona,
        temperature: float,
        seed: int | None,
        decided: str = "",
    ) -> None:
        self.model, self.dossier, self.persona = model, dossier, persona
        self.temperature, self.seed = temperature, seed
        self.decided = decided
        self.draft = Draft()

    def ask(
        self,
        block: str,
        shown: type[BaseModel],
        parsed: type[BaseModel],
        max_tokens: int,
        what: str,
    ) -> dict[str, Any]:
        """Send one request with schema ``shown``; parse the reply with ``parsed``.

        ``parsed`` accepts any "E<n>"/"C<n>" evidence id: citations are checked by the
        claim check, so a backend without enum enforcement gets a dropped sentence, not a
        lost review.
        """
        request = ReviewRequest(
            prompt=build_prompt(self.dossier, self.persona, block=block),
            schema=json_schema(shown),
            max_tokens=max_tokens,
            temperature=self.temperature,
            seed=self.seed,
        )
        try:
            generation, attempts = generate_with_retry(self.model, request)
        except ModelError as exc:
            self.draft.attempts = max(self.draft.attempts, getattr(exc, "attempts", 1))
            raise DraftError(str(exc), self.draft, retryable=exc.retryable) from exc
        self.draft.add(generation, attempts)
        try:
            data = parse(generation.text, parsed, what)
        except ModelError as exc:
            raise DraftError(str(exc), self.draft) from exc
        return data


def write_whole(asker: _Asker, judge: bool) -> Draft:
    shown = sections_model(asker.dossier, asker.persona, judge=judge)
    parsed = sections_model(asker.dossier, asker.persona, strict_ids=False, judge=judge)
    block = persona_block(asker.persona, asker.decided, judge=judge)
    data = asker.ask(block, shown, parsed, 900, "output")
    draft = asker.draft
    for section in asker.persona.sections:
        answer = data["sections"][section.key]
        _add_answer(draft, section.key, answer["answer"], answer["evidence"])
    if judge:
        draft.verdict = data["verdict"]
        draft.reason = _tidy(data["reason"], REASON_MAX)
    return draft


def _add_answer(draft: Draft, key: str, text: str, evidence: list[str]) -> None:
    answer = _tidy(text, ANSWER_MAX)
    draft.sections[key] = answer
    draft.claims.append({"section": key, "text": answer, "evidence": list(dict.fromkeys(evidence))})


def write_stepwise(asker: _Asker, judge: bool) -> Draft:
    shown = answer_model(asker.dossier)
    parsed = answer_model(asker.dossier, strict_ids=False)
    draft = asker.draft
    for section in asker.persona.sections:
        block = question_block(asker.persona, section, asker.decided)
        data = asker.ask(block, shown, parsed, ANSWER_TOKENS, f"answer to {section.key!r}")
        _add_answer(draft, section.key, data["answer"], data["evidence"])
    if judge:
        block = f"{asker.persona.lens}\n{asker.persona.instructions}\n{verdict_block()}"
        data = asker.ask(block, verdict_model(), verdict_model(), VERDICT_TOKENS, "verdict")
        draft.verdict = data["verdict"]
        draft.reason = _tidy(data["reason"], VERDICT_REASON_MAX)
    return draft


def write_review(
    model: ReviewModel,
    dossier: Dossier,
    persona: Persona,
    *,
    decided: str = "",
    judge: bool = False,
    temperature: float | None = None,
    seed: int | None = None,
) -> Draft:
    """The persona's answers about the dossier, in the model's style; with ``judge`` also
    the model's own verdict. ``decided`` tells the persona the rubric's verdict. Raises
    DraftError."""
    if temperature is None:
        temperature = settings.TOOLVERDICT_PANEL_TEMPERATURE
    asker = _Asker(model, dossier, persona, temperature, seed, decided)
    if style_for(model) == "stepwise":
        return write_stepwise(asker, judge)
    return write_whole(asker, judge)
