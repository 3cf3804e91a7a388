"""The grounding gate: every fact or comparison claim must be backed by what it cites.

Rules (docs/panel.md explains them for readers):
- a fact or comparison claim must cite at least one evidence id, and every cited id must
  exist in the dossier;
- every number, date and name in such a claim must occur in the evidence it cites;
- a claim saying something was verified/tested must cite a verification item;
- the reviewed tool's own name and vendor may appear in any claim about it;
- opinions and forecasts are labelled "not judged", never marked supported; but one that
  states a number or date found nowhere in the dossier (arithmetic of the model's own)
  is flagged unsupported;
- a review that names a product found nowhere in the dossier or the catalog, or that
  repeats the panel's rules, is withheld (not published).

The checks are lexical on purpose: they are cheap, deterministic and explainable, and a
claim that paraphrases a number into words is flagged rather than trusted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .dossier import Dossier
from .prompts import RULES

SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
NOT_JUDGED = "not_judged"
JUDGED_KINDS = ("fact", "comparison")

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})\b", re.I)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])(\d+(?:,\d{3})*(?:\.\d+)?)\s*(k|m|b|thousand|million|billion)?(?![A-Za-z0-9])",
    re.I,
)
_SCALE = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
_SCALE |= {"b": 1_000_000_000, "billion": 1_000_000_000}
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-+.'][A-Za-z0-9]+)*\+*")
_POSSESSIVE = re.compile(r"['’]s$")  # "QuillCoder's" names QuillCoder
_SENTENCE_BREAK = re.compile(r"(?:^|[.!?:;\"(]\s+|\n)")
_VERIFIED = re.compile(
    r"\b(verified|we tested|was tested|were tested|confirmed|benchmarked|hands-on)\b", re.I
)
# "cannot be verified", "hard to confirm", "not tested": doubt, not a claim of a check.
_NEGATED = re.compile(
    r"(\bnot|n't|\bcannot|\bno|\bunable to|\bhard to|\bdifficult to)\s+(be\s+)?$", re.I
)
_EVIDENCE_ID = re.compile(r"^E\d+$")

# Capitalised words that are not product names. Kept short on purpose: anything else
# capitalised mid-sentence is treated as a name and must be found in the evidence.
GENERIC_WORDS = frozenset(
    """i a an the it its this that these they we you api apis ai llm llms sdk sdks cli ide ides
    gpu gpus cpu cpus json http https url usd eur gbp ok yes no ship skip pro free paid open
    builder skeptic futurist buyer mac os ios saas oss faq ux dx mvp roi vs etc
    monday tuesday wednesday thursday friday saturday sunday
    python javascript typescript java rust go ruby php swift kotlin sql html css markdown
    linux windows macos android docker kubernetes git rest graphql openapi oauth sso saml
    gdpr soc hipaa eu us uk english however overall""".split()  # noqa: SIM905
) | frozenset(_MONTHS)


@dataclass
class ClaimCheck:
    status: str
    problems: list[str] = field(default_factory=list)


@dataclass
class ReviewCheck:
    claims: list[ClaimCheck]
    support_rate: float | None
    invented_names: list[str]
    leaks_rules: bool

    @property
    def publishable(self) -> bool:
        return not self.invented_names and not self.leaks_rules

    @property
    def withheld_reason(self) -> str:
        reasons = []
        if self.invented_names:
            reasons.append("names products not in the dossier: " + ", ".join(self.invented_names))
        if self.leaks_rules:
            reasons.append("repeats the panel's instructions")
        return "; ".join(reasons)


def _dates(text: str) -> tuple[set[tuple[int, int, int]], set[tuple[int, int]], str]:
    """(full dates, month-year pairs, text with the dates removed)."""
    full: set[tuple[int, int, int]] = set()
    months: set[tuple[int, int]] = set()

    def iso(m: re.Match) -> str:
        full.add((int(m[1]), int(m[2]), int(m[3])))
        return " "

    def dmy(m: re.Match) -> str:
        full.add((int(m[3]), _MONTHS[m[2].lower()], int(m[1])))
        return " "

    def mdy(m: re.Match) -> str:
        full.add((int(m[3]), _MONTHS[m[1].lower()], int(m[2])))
        return " "

    def my(m: re.Match) -> str:
        months.add((int(m[2]), _MONTHS[m[1].lower()]))
        return " "

    text = _ISO_DATE.sub(iso, text)
    text = _DAY_MONTH_YEAR.sub(dmy, text)
    text = _MONTH_DAY_YEAR.sub(mdy, text)
    text = _MONTH_YEAR.sub(my, text)
    return full, months, text


def _numbers(text: str, *, both_forms: bool) -> set[Decimal]:
    """Numbers in the text; "1M" counts as 1000000 (and also as 1 when ``both_forms``)."""
    found: set[Decimal] = set()
    for m in _NUMBER.finditer(text):
        try:
            value = Decimal(m[1].replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex only matches numbers
            continue
        scale = _SCALE.get((m[2] or "").lower())
        if scale:
            found.add((value * scale).normalize())
            if both_forms:
                found.add(value.normalize())
        else:
            found.add(value.normalize())
    return found


def names_in(text: str) -> list[str]:
    """Words that look like names: capitalised mid-sentence, CamelCase, or letters+digits."""
    names: list[str] = []
    for sentence in _SENTENCE_BREAK.split(text):
        for position, m in enumerate(_TOKEN.finditer(sentence)):
            word = _POSSESSIVE.sub("", m[0]).rstrip(".'")
            if _EVIDENCE_ID.match(word) or word.lower() in GENERIC_WORDS:
                continue
            inner_caps = any(c.isupper() for c in word[1:])
            has_digit = any(c.isdigit() for c in word)
            if (word[0].isupper() and position > 0) or inner_caps or has_digit:
                names.append(word)
    return names


_STOPWORDS = frozenset(
    """about after also been being between both could does from have into it's more most much
    only other over same such than that their them then there these they this those through
    very what when where which while will with would your""".split()  # noqa: SIM905
)


def _content_words(text: str) -> set[str]:
    """Words of four or more letters that carry meaning, lower-cased."""
    return {w for w in re.findall(r"[a-z][a-z0-9'-]{3,}", text.lower()) if w not in _STOPWORDS}


def _contains_word(haystack: str, word: str) -> bool:
    pattern = r"(?<![a-z0-9])" + re.escape(word.lower()) + r"(?![a-z0-9])"
    return re.search(pattern, haystack.lower()) is not None


def _is_year(number: Decimal) -> bool:
    return number == number.to_integral_value() and 1990 <= number <= 2100


def _invented_specifics(kind: str, text: str, dossier: Dossier, given: str) -> list[str]:
    """Numbers and dates in an opinion or forecast found nowhere in the dossier (a
    forecast may name a year: "by 2030" is how forecasts speak)."""
    full, months, rest = _dates(text)
    ev_full, ev_months, ev_rest = _dates(f"{dossier.text}\n{given}")
    ev_months |= {(y, m) for (y, m, _) in ev_full}
    problems = [
        f"date {dt.date(*d).isoformat()} is not in the dossier" for d in sorted(full - ev_full)
    ]
    problems += [f"date {y}-{m:02d} is not in the dossier" for y, m in sorted(months - ev_months)]
    ev_numbers = _numbers(ev_rest, both_forms=True) | {Decimal(p) for d in ev_full for p in d}
    problems += [
        f"number {n:f} is not in the dossier"
        for n in sorted(_numbers(rest, both_forms=False) - ev_numbers)
        if not (kind == "forecast" and _is_year(n))
    ]
    return problems


def _says_verified(text: str) -> bool:
    return any(not _NEGATED.search(text[: m.start()]) for m in _VERIFIED.finditer(text))


def check_claim(
    kind: str, text: str, cited: Iterable[str], dossier: Dossier, asked: str = ""
) -> ClaimCheck:
    """Ground one claim against the evidence it cites.

    Numbers in ``asked`` (the question the persona was given: "in 12 months") and in the
    tool's own name ("Claude 4 Sonnet") count as known.
    """
    given = f"{dossier.subject_names}\n{asked}"
    if kind not in JUDGED_KINDS:
        invented = _invented_specifics(kind, text, dossier, given)
        return ClaimCheck(UNSUPPORTED, invented) if invented else ClaimCheck(NOT_JUDGED)
    cited = list(dict.fromkeys(cited))
    problems: list[str] = []
    unknown = [i for i in cited if dossier.get(i) is None]
    if unknown:
        problems.append("cites evidence that does not exist: " + ", ".join(unknown))
    items = [e for i in cited if (e := dossier.get(i)) is not None]
    if not cited:
        problems.append("cites no evidence")
    evidence_text = "\n".join(f"{e.label} {e.text}" for e in items)

    claim_full, claim_months, claim_rest = _dates(text)
    ev_full, ev_months, ev_rest = _dates(evidence_text)
    ev_months |= {(y, m) for (y, m, _) in ev_full}
    for date in sorted(claim_full - ev_full):
        problems.append(f"date {dt.date(*date).isoformat()} is not in the cited evidence")
    for year, month in sorted(claim_months - ev_months):
        problems.append(f"date {year}-{month:02d} is not in the cited evidence")

    ev_numbers = _numbers(ev_rest, both_forms=True) | _numbers(given, both_forms=True)
    ev_numbers |= {Decimal(part) for d in ev_full for part in d}
    missing_numbers = sorted(_numbers(claim_rest, both_forms=False) - ev_numbers)
    for number in missing_numbers:
        problems.append(f"number {number:f} is not in the cited evidence")

    named = evidence_text + "\n" + dossier.subject_names
    for name in dict.fromkeys(names_in(claim_rest)):
        if not _contains_word(named, name):
            problems.append(f"name {name!r} is not in the cited evidence")

    if items and not _content_words(text) & _content_words(evidence_text):
        problems.append("shares no words with the cited evidence")

    if _says_verified(text) and not any(e.is_verification for e in items):
        problems.append("says verified but cites no verification item")
    return ClaimCheck(UNSUPPORTED if problems else SUPPORTED, problems)


def _shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


_RULE_SHINGLES = _shingles(RULES)


def repeats_rules(texts: Iterable[str]) -> bool:
    """True when any output text reproduces six consecutive words of the panel's rules."""
    return any(_shingles(t) & _RULE_SHINGLES for t in texts)


def invented_names(texts: Iterable[str], dossier: Dossier, known_names: Iterable[str]) -> list[str]:
    """Names in the review found neither in the dossier nor among catalog names."""
    known = dossier.text + "\n" + "\n".join(known_names)
    found: list[str] = []
    for text in texts:
        for name in names_in(_dates(text)[2]):
            if name not in found and not _contains_word(known, name):
                found.append(name)
    return found


def check_review(
    *,
    reason: str,
    sections: dict[str, str],
    claims: list[tuple[str, str, list[str]]],
    dossier: Dossier,
    known_names: Iterable[str] = (),
    asked: str = "",
) -> ReviewCheck:
    """Ground every claim and decide whether the review may be published.

    ``asked`` is the persona's own prompt text (its lens and questions)."""
    checks = [check_claim(kind, text, cited, dossier, asked) for kind, text, cited in claims]
    judged = [c for c in checks if c.status != NOT_JUDGED]
    rate = sum(c.status == SUPPORTED for c in judged) / len(judged) if judged else None
    texts = [reason, *sections.values(), *(text for _, text, _ in claims)]
    return ReviewCheck(
        claims=checks,
        support_rate=rate,
        invented_names=invented_names(texts, dossier, known_names),
        leaks_rules=repeats_rules(texts),
    )
