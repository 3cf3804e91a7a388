"""Substance: does a sentence say something, in readable prose?

The claim check (``claimcheck.py``) asks these questions of every sentence before it asks
whether the evidence backs it: a sentence that dodges its question ("None provided", "The
dossier does not say") is a *non-answer*; text that is not prose (snake_case fragments,
run-together words, JSON or bracket debris, a script other than the review's, words cut
off by a length limit) is *gibberish*. Neither is published. ``check_substance`` sums the
problems of a whole review for ``panel-eval``. The checks are lexical and deterministic,
so every decision can be explained.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

#: More non-answers than this withholds the review.
NON_ANSWERS_ALLOWED = 1

_MISSING = (
    r"(?:given|provided|specified|mentioned|stated|listed|found|available|known|clear"
    r"|disclosed|documented)"
)
# A whole answer that only says nothing is there ("None provided.", "Not specified.").
_EMPTY_ANSWER = re.compile(
    rf"""^\W*(?:
        none(?:\s+{_MISSING})? | n/?a | unknown | unclear | not\s+applicable
      | no\s+(?:answer|comment|information|data|details?)
      | (?:it\s+is\s+|this\s+is\s+|that\s+is\s+)?not\s+{_MISSING}
      | no\s+\w+(?:\s+\w+)?\s+(?:is\s+|are\s+|was\s+|were\s+)?{_MISSING}
    )(?:\s+(?:in|by|from)\s+the\s+(?:evidence|dossier|catalog|data|vendor))?\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
# An answer that opens by pointing at what the evidence lacks.
_DODGE = re.compile(
    r"""^\W*(?:
        (?:the\s+)?(?:dossier|evidence|catalog|data|information|vendor)\b[^.]{0,60}?
            \b(?:does\s+not|doesn't|do\s+not|don't|did\s+not|has\s+no|have\s+no|lacks?
               |is\s+silent)
      | there\s+(?:is|are)\s+no\s+(?:information|mention|data|details?|evidence)
      | (?:i\s+)?(?:cannot|can't|can\s+not)\s+(?:say|tell|determine|answer|judge)
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_NOT_IN_EVIDENCE = re.compile(
    r"\bnot\s+(?:in|found\s+in|stated\s+in|mentioned\s+in|specified\s+in|provided\s+in)\s+"
    r"the\s+(?:evidence|dossier)\b",
    re.IGNORECASE,
)

_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b", re.IGNORECASE)
_DEBRIS = re.compile(r'[{}|\\`]|":|",|\[\s*"|"\s*\]|\[(?!E\d{1,3}\])[^\]]*\]')
_NO_SPACE_AFTER_PUNCT = re.compile(r"[a-z]{2}[,;][a-z]{2}", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Lower-case words this long are run-together words in practice ("budgetpayershould…").
_RUN_TOGETHER_MIN = 20
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
_SENTENCE_BOUNDARY = re.compile(r"[.!?…][\"')\]]*(?=\s|$)")


@dataclass
class SectionCheck:
    key: str
    non_answer: bool = False
    gibberish: list[str] = field(default_factory=list)


@dataclass
class SubstanceCheck:
    sections: list[SectionCheck]
    gibberish: list[str]  # problems found anywhere (reason, sections, claims)

    @property
    def non_answers(self) -> list[str]:
        return [s.key for s in self.sections if s.non_answer]

    @property
    def publishable(self) -> bool:
        return not self.gibberish and len(self.non_answers) <= NON_ANSWERS_ALLOWED

    @property
    def withheld_reason(self) -> str:
        reasons = []
        if self.gibberish:
            reasons.append("unreadable text: " + "; ".join(self.gibberish[:5]))
        if len(self.non_answers) > NON_ANSWERS_ALLOWED:
            reasons.append("did not answer: " + ", ".join(self.non_answers))
        return "; ".join(reasons)


def is_non_answer(text: str) -> bool:
    """True for a section that dodges its question instead of answering it."""
    text = text.strip()
    if len(_WORD.findall(text)) < 3:
        return True
    return bool(_EMPTY_ANSWER.match(text) or _DODGE.match(text) or _NOT_IN_EVIDENCE.search(text))


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def gibberish_problems(text: str) -> list[str]:
    """What makes this text not prose; empty when it reads as ordinary sentences."""
    problems: list[str] = []
    if m := _SNAKE.search(text):
        problems.append(f"snake_case fragment {m[0]!r}")
    if m := _DEBRIS.search(text):
        problems.append(f"markup or JSON debris {m[0]!r}")
    if m := _NO_SPACE_AFTER_PUNCT.search(text):
        problems.append(f"words run together at {m[0]!r}")
    for word in _WORD.findall(text):
        if word.islower() and len(word) >= _RUN_TOGETHER_MIN and "-" not in word:
            problems.append(f"run-together words {word[:30]!r}")
            break
    letters = [c for c in text if c.isalpha()]
    foreign = [c for c in letters if _script(c) not in ("LATIN", "")]
    if letters and foreign and len(foreign) >= max(2, len(letters) // 20):
        problems.append(f"text in another script ({''.join(foreign[:6])!r})")
    stripped = text.strip()
    if stripped and not _SENTENCE_END.search(stripped):
        problems.append("cut off mid-sentence")
    return problems


def ends_sentence(text: str) -> bool:
    """Whether the text ends with a sentence stop (closing quotes or brackets may follow)."""
    return bool(_SENTENCE_END.search(text.strip()))


def end_on_sentence(text: str) -> str:
    """Text cut back to its last complete sentence; unchanged when it already ends on one.

    A length limit can stop generation mid-word. What remains after the last sentence
    boundary is dropped; text with no complete sentence is returned as is, so the gate
    flags it as cut off.
    """
    text = " ".join(text.split())
    if not text or _SENTENCE_END.search(text):
        return text
    ends = list(_SENTENCE_BOUNDARY.finditer(text))
    return text[: ends[-1].end()] if ends else text


def check_substance(
    *, reason: str, sections: Mapping[str, str], claims: list[str] = ()
) -> SubstanceCheck:
    """Non-answers per section and gibberish anywhere in the review."""
    checks = []
    gibberish: list[str] = []
    for key, text in sections.items():
        problems = gibberish_problems(text)
        checks.append(SectionCheck(key, non_answer=is_non_answer(text), gibberish=problems))
        gibberish += [f"{key}: {p}" for p in problems]
    gibberish += [f"reason: {p}" for p in gibberish_problems(reason)]
    for i, text in enumerate(claims, start=1):
        if text in sections.values():
            continue  # already checked as a section
        gibberish += [f"claim {i}: {p}" for p in gibberish_problems(text)]
    return SubstanceCheck(sections=checks, gibberish=gibberish)
