"""The claim check: what each sentence a model wrote may be published as.

Every sentence gets one label, decided by code (a 1.5B model asked "is this stated by
the evidence?" said yes to 15 of 16 untrue statements, so the model is never asked):

- ``supported``: it restates evidence about this tool: every content word, number and
  name in it is in the tool's own items (vendor marketing text excluded), and it does not
  flip what they state;
- ``computed``: it states a comparison that a computed finding (C1, C2, …) makes, with
  that finding's numbers and peers;
- ``opinion``: the persona's judgement; it asserts nothing checkable beyond the evidence
  and contradicts none of it;
- ``contradicted``: it contradicts the evidence: it denies a feature the evidence states
  (or claims one it denies), gives a number the evidence does not have for a price, a
  context window or a size, or another tool's number as this tool's;
- ``unsupported``: anything else that is not published: a comparison no finding makes, a
  factual statement beyond the evidence, a sentence about another tool given as the answer
  about this one, a repeat of an earlier sentence, a copy of the vendor's own text, a
  sentence about the dossier itself, a non-answer, unreadable text, an invented name, the
  vendor named as the buyer, a missing feature presented as a strength.

Only the first three are published. The checks are lexical and deterministic, so every
label comes with its reason. ``toolverdict check-claims`` runs the same check on any
model's output (docs/panel.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import snowballstemmer

from .dossier import Dossier
from .facts import FEATURES, polarity
from .grounding import GENERIC_WORDS, _contains_word, _dates, _numbers, names_in, repeats_rules
from .substance import gibberish_problems, is_non_answer

SUPPORTED = "supported"
COMPUTED = "computed"
OPINION = "opinion"
CONTRADICTED = "contradicted"
UNSUPPORTED = "unsupported"
PUBLISHED = (SUPPORTED, COMPUTED, OPINION)

_stemmer = snowballstemmer.stemmer("english")

# Words that carry no claim of their own: function words, and the verbs a restatement
# uses to attach the evidence to the tool ("X offers …", "X is priced at …").
_FUNCTION_WORDS = frozenset(
    """a an the and or of to in on at by for with from as into onto via per is are was were be
    been being it its it's this that these those there their they them he she we you your our
    his her which who whom whose what when where while also both either each every any all
    some such so than then thus too very just not no nor can could will would shall through via
    should may might must do does did done has have had having own up out about over under
    more most less least one ones s""".split()  # noqa: SIM905
)
_ATTACH_WORDS = frozenset(
    """offer offers offered offering provide provides provided providing support supports
    supported supporting include includes included including feature features featured
    come comes coming cost costs costing price priced prices pricing charge charges charged
    let lets allow allows allowed enable enables enabled use uses used using make makes
    available availability access accessible give gives get gets go goes run runs running
    tool model product service plan tier state states stated say says listed list lists
    catalog toolverdict release released publish published distribute distributed""".split()  # noqa: SIM905
)

# Phrases read as one concept on both sides, so a paraphrase matches its evidence.
_CANON = [
    (re.compile(r"\b(?:function|tool)[- ]call(?:ing|s)?\b|\bcalls?\s+tools\b", re.I), "tooluse"),
    (re.compile(r"\b(?:agentic\s+)?tool\s+use\b", re.I), "tooluse"),
    (re.compile(r"\bopen[- ]source\b", re.I), "opensource"),
    (re.compile(r"\bopen[- ]weights?\b", re.I), "openweights"),
    (re.compile(r"\bon[- ]device\b", re.I), "ondevice"),
    (re.compile(r"\blicen[cs]ed?\b|\blicen[cs]es\b", re.I), "licence"),
    (re.compile(r"\bcontext\s+(?:window|length)\b", re.I), "context"),
    (re.compile(r"\bper\s+user\b", re.I), "per seat"),
    (re.compile(r"\busers?\b", re.I), "seat"),
]
_WORDS = re.compile(r"[a-z][a-z0-9]*(?:[-'][a-z0-9]+)*")
_IDS = re.compile(r"\[?\b[EC]\d{1,3}\b\]?")
_SENTENCES = re.compile(r"\S.*?(?:[.!?]+(?=\s|$)|$)", re.S)

_COMPARATIVE = re.compile(
    r"\b(?:cheaper|cheapest|costlier|dearer|pricier|priciest|(?:more|most|less|least)\s+"
    r"(?:expensive|affordable|capable|powerful|popular)|larger|largest|smaller|smallest|"
    r"longer|longest|shorter|shortest|bigger|biggest|better|best|worse|worst|faster|fastest|"
    r"slower|slowest|only|unique|uniquely|unlike|than|other\s+tools|others|competitors?|"
    r"rivals?|alternatives?|leader|leading|outperforms?|beats?|higher|highest|lower|lowest|"
    r"superior|inferior|compared|undercuts?|premium)\b",
    re.I,
)
_ABOUT_DOSSIER = re.compile(
    r"\b(?:dossier|evidence|data\s+block|the\s+(?:facts|items)\s+(?:above|given|listed))\b"
    r"|\b[EC]\d{1,3}\b"
    r"|\bnot\s+(?:mentioned|stated|specified|provided|listed|given|disclosed)\b"
    r"|\bno\s+(?:information|mention|data|details)\b",
    re.I,
)
_BUYER = re.compile(r"\b(?:buyers?|budgets?|pays?|paying|paid\s+by|customers?|purchas\w*)\b", re.I)
_STRENGTH = re.compile(
    r"\b(?:viable|strengths?|advantages?|moat|benefits?|edge|wins?|appeal\w*|plus|upside"
    r"|makes\s+it\s+(?:a\s+)?(?:good|great|strong|attractive|viable))\b",
    re.I,
)
_OPINION = re.compile(
    r"\b(?:i|i'd|i'm|i'll|my|we|we'd|should|would|could|might|may|likely|unlikely|probably"
    r"|perhaps|seems?|worth|bet|betting|risk|risky|if|unless|depends?|depending|hinges?"
    r"|doubt|suspect|expect|believe|think|promising|compelling|attractive|appealing"
    r"|sensible|reasonable|fits?|suits?|recommend\w*|prefer\w*|wary|cautious|confident)\b",
    re.I,
)
_FACTUAL = re.compile(
    r"\b(?:supports?|offers?|provides?|includes?|lacks?|requires?|needs|runs?|integrates?"
    r"|works\s+with|comes\s+with|ships\s+with|has|have|costs?|charges?|priced|uses|enables?"
    r"|allows?|lets|is\s+(?:a|an|the)|are\s+(?:a|an|the)|was|were|won|launched|released)\b",
    re.I,
)
_MEASURED = re.compile(
    r"[$€£]|\b(?:tokens?|parameters?|usd|eur|gbp|seats?|month|year|minutes?|hours?|requests?"
    r"|per|percent|%|gb|mb|ms|billion|million)\b|\d+\s*[bmk]\b",
    re.I,
)
_PROPRIETARY = re.compile(r"\b(?:proprietary|closed[- ]source|closed\s+weights)\b", re.I)
_SUBJECT_DENIES = (
    r"\b{name}\b[^,;.]{{0,12}}\b"
    r"(?:does\s+not|doesn't|do\s+not|cannot|can't|lacks?|is\s+not|isn't)\b"
)
_REPEAT_JACCARD = 0.6
_COPY_SHARE = 0.5


@dataclass(frozen=True)
class Item:
    """One evidence item: ``kind`` is "fact" (the catalog's own items), "computed" (a
    finding) or "vendor" (the vendor's own marketing text)."""

    id: str
    text: str
    kind: str = "fact"


@dataclass
class Context:
    """What a sentence is checked against: the tool, its evidence, the other catalog tools'
    names and the question the sentence answers."""

    tool: str
    items: dict[str, Item]
    vendor: str = ""
    other_tools: tuple[str, ...] = ()
    asked: str = ""
    features: dict[str, bool] | None = None  # stated features; read from the facts if None

    def __post_init__(self) -> None:
        if self.features is None:
            self.features = {}
            for item in self.items.values():
                if item.kind != "fact":
                    continue
                for name in FEATURES:
                    value = polarity(item.text, name)
                    if value is not None and self.features.get(name) is not False:
                        self.features[name] = value
        self.other_tools = tuple(
            n for n in self.other_tools if n and n.lower() != self.tool.lower()
        )

    def of_kind(self, *kinds: str) -> list[Item]:
        return [i for i in self.items.values() if i.kind in kinds]


@dataclass
class Result:
    support: str
    reason: str
    evidence_ids: list[str] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.support in PUBLISHED


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def canonical(text: str) -> str:
    text = _IDS.sub(" ", text)
    for pattern, replacement in _CANON:
        text = pattern.sub(replacement, text)
    return text


def content_words(text: str, *, allow: Iterable[str] = ()) -> set[str]:
    """Stems of the words that carry meaning (numbers and names are checked apart)."""
    allowed = {_stem(w) for w in allow}
    words = set()
    for word in _WORDS.findall(canonical(_dates(text)[2]).lower()):
        word = word.removesuffix("'s")
        if word in _FUNCTION_WORDS or word in _ATTACH_WORDS:
            continue
        stem = _stem(word)
        if stem in allowed or _stem(word.rstrip("s")) in allowed:
            continue
        words.add(stem)
    return words


def _name_words(*names: str) -> list[str]:
    return [w for n in names for w in _WORDS.findall(canonical(n).lower())]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.findall(" ".join(text.split())) if s.strip()]


def _numbers_of(text: str) -> set[Decimal]:
    full, _, rest = _dates(canonical(text))
    numbers = _numbers(rest, both_forms=True)
    return numbers | {Decimal(p) for d in full for p in d}


def _sentence_numbers(text: str) -> set[Decimal]:
    return _numbers(_dates(canonical(text))[2], both_forms=False)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _tool_names_in(sentence: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if _contains_word(sentence, n)]


def _feature_clash(sentence: str, ctx: Context) -> str:
    """Why the sentence contradicts a stated feature, or ""."""
    denied = re.search(_SUBJECT_DENIES.format(name=re.escape(ctx.tool)), sentence, re.I)
    for name in FEATURES:
        stated = ctx.features.get(name)
        said = polarity(sentence, name)
        if said is not None and denied:
            said = False
        if name == "open" and _PROPRIETARY.search(sentence):
            said = False if said is None else said
        if stated is None or said is None:
            continue
        if said != stated:
            truth = "states" if stated else "states no"
            return f"the evidence {truth} {name.replace('_', ' ')}; the sentence says otherwise"
    return ""


def _covering(words: set[str], numbers: set[Decimal], items: list[Item]) -> list[str] | None:
    """Ids of items that together hold every word and number, or None when they cannot."""
    pool_words: set[str] = set()
    pool_numbers: set[Decimal] = set()
    for item in items:
        pool_words |= content_words(item.text)
        pool_numbers |= _numbers_of(item.text)
    if not words <= pool_words or not numbers <= pool_numbers:
        return None
    chosen: list[str] = []
    left_w, left_n = set(words), set(numbers)
    while left_w or left_n:
        best = max(
            items,
            key=lambda i: len(left_w & content_words(i.text)) + len(left_n & _numbers_of(i.text)),
        )
        got_w, got_n = left_w & content_words(best.text), left_n & _numbers_of(best.text)
        if not got_w and not got_n:
            break
        chosen.append(best.id)
        left_w -= got_w
        left_n -= got_n
    return chosen


def check_sentence(
    sentence: str, cites: Iterable[str], ctx: Context, earlier: Iterable[str] = ()
) -> Result:
    """Label one sentence (see the module docstring); ``earlier`` are the review's sentences
    before it."""
    text = " ".join(_IDS.sub(" ", sentence).split())
    cites = [c for c in cites if c in ctx.items]
    if not text or is_non_answer(text):
        return Result(UNSUPPORTED, "not an answer")
    if problems := gibberish_problems(text):
        return Result(UNSUPPORTED, "not readable: " + problems[0])
    if _ABOUT_DOSSIER.search(sentence):
        return Result(UNSUPPORTED, "about the dossier, not the tool")
    if repeats_rules([text]):
        return Result(UNSUPPORTED, "repeats the panel's instructions")
    own_names = _name_words(ctx.tool, ctx.vendor)
    words = content_words(text, allow=own_names)
    for before in earlier:
        if _jaccard(words, content_words(before, allow=own_names)) >= _REPEAT_JACCARD:
            return Result(UNSUPPORTED, "repeats an earlier sentence")

    # Names: the tool, its vendor, other catalog tools (only in a computed comparison), and
    # nothing invented.
    own_text = "\n".join(i.text for i in ctx.of_kind("fact"))
    others = [n for n in _tool_names_in(text, ctx.other_tools) if not _contains_word(own_text, n)]
    other_words = _name_words(*others)
    known = "\n".join(
        [ctx.tool, ctx.vendor, *ctx.other_tools, *(i.text for i in ctx.items.values())]
    )
    invented = [
        n
        for n in dict.fromkeys(names_in(_dates(text)[2]))
        if n.lower() not in GENERIC_WORDS and not _contains_word(known, n)
    ]
    if invented:
        return Result(UNSUPPORTED, "names something not in the evidence: " + ", ".join(invented))
    vendor_named = ctx.vendor and ctx.vendor.lower() != ctx.tool.lower()
    if vendor_named and _contains_word(text, ctx.vendor) and _BUYER.search(text):
        return Result(UNSUPPORTED, "names the vendor as the buyer or payer")

    if clash := _feature_clash(text, ctx):
        return Result(CONTRADICTED, clash)
    numbers = _sentence_numbers(text) - _numbers_of(f"{ctx.tool}\n{ctx.asked}")
    facts = ctx.of_kind("fact")
    computed = ctx.of_kind("computed")
    own_numbers: set[Decimal] = set().union(*(_numbers_of(i.text) for i in facts))
    all_numbers = own_numbers.union(*(_numbers_of(i.text) for i in computed))
    if numbers - all_numbers and not others:
        missing = ", ".join(f"{n:f}" for n in sorted(numbers - all_numbers))
        if _MEASURED.search(text):
            return Result(CONTRADICTED, f"gives a number the evidence does not have: {missing}")
        return Result(UNSUPPORTED, f"number not in the evidence: {missing}")

    content = words - {_stem(w) for w in other_words}
    comparing = bool(_COMPARATIVE.search(text)) or bool(others)
    if not others and not (numbers - own_numbers):
        cover = _covering(content, numbers, [i for i in facts if not cites or i.id in cites])
        if cover is None and cites:
            cover = _covering(content, numbers, facts)
        if cover:  # an empty cover: the sentence says nothing but the tool's name
            return Result(SUPPORTED, "restates the evidence", cover)
    for item in computed:
        if not all(_contains_word(item.text, n) for n in others):
            continue
        cover = _covering(content, numbers, [item, *facts])
        if cover is not None and item.id in cover:
            return Result(COMPUTED, f"states the computed comparison {item.id}", cover)
    if others:
        return Result(UNSUPPORTED, "about another tool: " + ", ".join(others))
    if numbers - own_numbers:
        return Result(CONTRADICTED, "gives another tool's number as this tool's")
    if comparing:
        return Result(UNSUPPORTED, "compares, but no computed comparison says so")
    for name in FEATURES:
        if polarity(text, name) is False and _STRENGTH.search(text):
            return Result(UNSUPPORTED, "presents a missing feature as a strength")
    vendor_text = " ".join(i.text for i in ctx.of_kind("vendor"))
    if vendor_text:
        shingles = _shingles(text)
        if shingles and len(shingles & _shingles(vendor_text)) >= _COPY_SHARE * len(shingles):
            return Result(UNSUPPORTED, "copies the vendor's own text")
        if content and content <= content_words(vendor_text):
            return Result(UNSUPPORTED, "restates only the vendor's own claims")
    if _OPINION.search(text):
        return Result(OPINION, "the persona's judgement")
    if _FACTUAL.search(text):
        return Result(UNSUPPORTED, "states something the evidence does not")
    return Result(OPINION, "the persona's judgement")


def check_text(
    text: str, cites: Iterable[str], ctx: Context, earlier: list[str] | None = None
) -> list[tuple[str, Result]]:
    """Each sentence of a model's answer with its label; ``earlier`` grows as it goes."""
    earlier = earlier if earlier is not None else []
    results = []
    cites = list(cites)
    for sentence in split_sentences(text):
        result = check_sentence(sentence, cites, ctx, earlier)
        results.append((sentence, result))
        earlier.append(sentence)
    return results


def context_from_json(row: Mapping[str, object]) -> Context:
    """The check's context from a ``check-claims`` input line: ids starting with C are
    computed findings; ``vendor_ids`` (optional) names the vendor's own texts."""
    evidence = row.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        raise ValueError("evidence must be an object of id: text")
    vendor_ids = set(row.get("vendor_ids") or ())  # type: ignore[arg-type]
    items = {}
    for key, value in evidence.items():
        kind = "computed" if str(key).startswith("C") else "fact"
        kind = "vendor" if key in vendor_ids else kind
        items[str(key)] = Item(str(key), str(value), kind)
    return Context(
        tool=str(row.get("tool") or ""),
        items=items,
        vendor=str(row.get("vendor") or ""),
        other_tools=tuple(str(n) for n in row.get("other_tools") or ()),  # type: ignore[union-attr]
        asked=str(row.get("question") or ""),
    )


def context_for(dossier: Dossier, other_tools: Iterable[str] = (), asked: str = "") -> Context:
    """The check's context for a review: the dossier's items by kind and the features its
    structured facts state."""
    kinds = {"description": "vendor", "computed": "computed"}
    items = {
        e.id: Item(
            e.id,
            f"{e.label} {e.text}" if e.kind != "computed" else e.text,
            kinds.get(e.kind, "fact"),
        )
        for e in dossier.evidence
    }
    features = {k: v.value for k, v in dossier.facts.features.items()} if dossier.facts else None
    return Context(
        tool=dossier.tool_name,
        items=items,
        vendor=dossier.vendor,
        other_tools=tuple(other_tools),
        asked=asked,
        features=features,
    )
