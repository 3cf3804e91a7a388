"""The claim check: what each sentence a model wrote may be published as.

Every sentence gets one label, decided by code (a 1.5B model asked "is this stated by
the evidence?" said yes to 15 of 16 untrue statements, so the model is never asked):

- ``supported``: it restates evidence about this tool: every content word, number and
  name in it is in the tool's own items (vendor marketing text excluded), and it does not
  flip what they state;
- ``computed``: it states a comparison that a computed finding (C1, C2, …) makes, with
  that finding's numbers and peers;
- ``opinion``: the persona's own judgement (first person, or a word that only judges),
  contradicting none of the evidence and carrying no claim of its own in a "which …" or
  "because …" clause;
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
from .facts import FEATURES, NEGATION_WORDS, OPEN_LICENCES, polarity
from .grounding import (
    GENERIC_WORDS,
    contains_word,
    names_in,
    read_dates,
    read_numbers,
    repeats_rules,
    says_verified,
)
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
    whoever whatever whichever
    should may might must do does did done has have had having own out about
    more most less least one ones s""".split()  # noqa: SIM905
)
_ATTACH_WORDS = frozenset(
    """offer offers offered offering provide provides provided providing support supports
    supported supporting include includes included including feature features featured
    come comes coming cost costs costing price priced prices pricing charge charges charged
    let lets allow allows allowed enable enables enabled use uses used using make makes
    available availability access accessible give gives get gets go goes run runs running
    tool model product service plan tier state states stated say says listed list lists
    catalog toolverdict release released publish published distribute distributed called
    named""".split()  # noqa: SIM905
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
# A citation in brackets or parentheses: "(E3)", "[E3, C1]". A bare id is talk about the dossier.
_CITATION = re.compile(r"\s*[\[(]\s*[EC]\d{1,3}(?:\s*[,;]\s*[EC]\d{1,3})*\s*[\])]")
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
    r"|\bvendor'?s?\s+(?:own\s+)?(?:description|tagline|text)\b"
    r"|\bthe\s+catalog(?:ue)?\s+(?:profile|entry|states|says|lists)\b"
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
# A judgement owned by the persona: first person, or a word that only judges. A modal alone
# ("it would involve loading the model") is not enough: measured, the small model wrote
# false procedures in that form.
_OPINION = re.compile(
    r"\b(?:i|i'd|i'm|i'll|i've|my|me|we|we'd|we'll|our|worth|bet|betting|risky|doubt|suspect"
    r"|promising|compelling|attractive|appealing|sensible|recommend\w*|prefer\w*|wary"
    r"|cautious|confident|gamble|wager)\b",
    re.I,
)
_PROPRIETARY = re.compile(r"\b(?:proprietary|closed[- ]source|closed\s+weights)\b", re.I)
_SUBJECT_DENIES = (
    r"\b{name}\b[^,;.]{{0,12}}\b"
    r"(?:does\s+not|doesn't|do\s+not|cannot|can't|lacks?|is\s+not|isn't)\b"
)
_NEGATIVE = re.compile(NEGATION_WORDS, re.I)
_RESTRICTIVE = re.compile(r"(?<!the\s)\b(?:only|limited\s+to|exclusively|solely)\b", re.I)
#: A licence name's version is part of the name, not a number ("Apache-2.0").
_LICENCE_VERSION = re.compile(
    r"\b(apache|gpl|lgpl|agpl|mpl|cc-by(?:-sa|-nc)*)[- ]?v?\d+(?:\.\d+)*", re.I
)
_LICENCE_IDS = re.compile(r"\b(apache|mit|bsd|gpl|lgpl|agpl|mpl|isc)\b", re.I)
_OPEN_WORDS = re.compile(r"\bopen[- ](?:source|weights?)\b", re.I)
_CLAIMS_FREE = re.compile(
    r"\b(?:is|are)\s+(?:completely\s+|entirely\s+|totally\s+|always\s+)?free\b"
    r"(?!\s+(?:tier|plan|trial|for|of\s+charge\s+for))|\bfree\s+of\s+charge\b"
    r"|\bcosts?\s+nothing\b|\bat\s+no\s+cost\b|\$0\s+forever",
    re.I,
)
_MAKER = re.compile(
    r"\b(?:made|built|developed|created|published|maintained|sold|released)\s+by\s+"
    r"((?:[A-Z][\w.&'-]*\s?){1,4})"
)
_ORDINAL_BEFORE = re.compile(r"\d+(?:st|nd|rd|th)\s+$")
_SUPERLATIVES = re.compile(
    r"\b(cheapest|largest|smallest|longest|shortest|biggest|most\s+expensive|only)\b", re.I
)
_SUB_CLAUSE = re.compile(r";\s|\.\s|\s(?:but|while|whereas)\s", re.I)
_NUMBER_CLAUSE = re.compile(r"[,;]\s|\.\s|\s(?:and|but|while|whereas)\s", re.I)
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "twelve": "12",
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_MONEY = re.compile(r"[$€£]\s?(\d[\d,]*(?:\.\d+)?)")
#: Units a number is counted in: a sentence's number must come with the same unit as the
#: evidence's ("per hour" is not "per minute").
_UNITS = frozenset(
    """second seconds ms minute minutes hour hours day days daily week weeks weekly month
    months monthly year years yearly annual annually seat seats user users token tokens
    request requests page pages completion completions review reviews step steps""".split()  # noqa: SIM905
)
#: Words whose opposite in the closest evidence clause contradicts the sentence.
_ANTONYMS = {
    "free": "paid",
    "paid": "free",
    "larg": "short",
    "long": "short",
    "big": "short",
    "short": "long",
    "cheap": "expens",
    "expens": "cheapest",
}
_REPEAT_JACCARD = 0.6
_COPY_SHARE = 0.5


@dataclass(frozen=True)
class Item:
    """One evidence item: ``kind`` is "fact" (the catalog's own items), "computed" (a
    finding) or "vendor" (the vendor's own marketing text); ``label`` is what the item is
    about ("Price: API input", "Fact: Open source"), read with each of its clauses."""

    id: str
    text: str
    kind: str = "fact"
    label: str = ""

    @property
    def full(self) -> str:
        return f"{self.label} {self.text}".strip()


_PROFILE = re.compile(r"\b(Vendor|Pricing model|License|Licence):\s*([^.]+(?:\.\d[^.]*)?)\.")


@dataclass
class Context:
    """What a sentence is checked against: the tool, its evidence, the other catalog tools'
    names and the question the sentence answers. ``vendor``, ``pricing`` and ``licence``
    are read from the catalog profile item when not given."""

    tool: str
    items: dict[str, Item]
    vendor: str = ""
    other_tools: tuple[str, ...] = ()
    asked: str = ""
    features: dict[str, bool] | None = None  # stated features; read from the facts if None
    pricing: str = ""
    licence: str = ""

    def __post_init__(self) -> None:
        for item in self.of_kind("fact"):
            for key, value in _PROFILE.findall(item.full):
                value = value.strip()
                if key == "Vendor" and not self.vendor:
                    self.vendor = value
                elif key == "Pricing model" and not self.pricing:
                    self.pricing = value.lower()
                elif key in ("License", "Licence") and not self.licence:
                    self.licence = value
        if self.features is None:
            self.features = {}
            for item in self.of_kind("fact"):
                for name in FEATURES:
                    value = polarity(item.full, name)
                    if value is not None and self.features.get(name) is not False:
                        self.features[name] = value
            if self.licence and "open" not in self.features:
                self.features["open"] = bool(OPEN_LICENCES.search(self.licence))
            paid_only = self.pricing == "paid" and not any(
                Decimal(0) in _numbers_of(i.text)
                for i in self.of_kind("fact")
                if "Price" in i.label
            )
            if paid_only and "free_tier" not in self.features:
                self.features["free_tier"] = False
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
    text = _LICENCE_VERSION.sub(lambda m: m[1], text)
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m[1].lower()], text)
    for pattern, replacement in _CANON:
        text = pattern.sub(replacement, text)
    return text


def content_words(text: str, *, allow: Iterable[str] = ()) -> set[str]:
    """Stems of the words that carry meaning (numbers and names are checked apart)."""
    allowed = {_stem(w) for w in allow}
    words = set()
    for word in _WORDS.findall(canonical(read_dates(text)[2]).lower()):
        word = word.removesuffix("'s")
        if word in _FUNCTION_WORDS or word in _ATTACH_WORDS or _NEGATIVE.fullmatch(word):
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
    full, _, rest = read_dates(canonical(text))
    numbers = read_numbers(rest, both_forms=True)
    return numbers | {Decimal(p) for d in full for p in d}


def _sentence_numbers(text: str) -> set[Decimal]:
    return read_numbers(read_dates(canonical(text))[2], both_forms=False)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _tool_names_in(sentence: str, names: Iterable[str]) -> list[str]:
    return [n for n in names if contains_word(sentence, n)]


def _clauses(item: Item, splitter: re.Pattern[str]) -> list[str]:
    """The item's clauses, each read with the item's label ("Rate limit: 60 on the trial")."""
    return [f"{item.label} {part}".strip() for part in splitter.split(item.text) if part.strip()]


def _feature_clash(sentence: str, ctx: Context) -> str:
    """Why the sentence contradicts a stated feature, or ""."""
    denied = re.search(_SUBJECT_DENIES.format(name=re.escape(ctx.tool)), sentence, re.I)
    for name in FEATURES:
        stated = ctx.features.get(name)
        said = polarity(sentence, name)
        if said is not None and denied:
            said = False
        if name == "open" and _PROPRIETARY.search(sentence) and said is None:
            said = bool(_NEGATIVE.search(sentence.split("proprietary")[0][-30:]))
        if stated is None or said is None:
            continue
        if said != stated:
            truth = "states" if stated else "states no"
            return f"the evidence {truth} {name.replace('_', ' ')}; the sentence says otherwise"
    return ""


def _licence_clash(text: str, ctx: Context) -> str:
    if not ctx.licence:
        return ""
    stated = " ".join([ctx.licence, *(i.full for i in ctx.of_kind("fact"))])
    for m in _LICENCE_IDS.finditer(text):
        if not re.search(rf"\b{m[1]}\b", stated, re.I):
            return f"names the {m[1]} licence; the evidence gives {ctx.licence}"
    return ""


def _pricing_clash(text: str, ctx: Context) -> str:
    if not _CLAIMS_FREE.search(text):
        return ""
    paid = [
        i.id
        for i in ctx.of_kind("fact")
        if "Price" in i.label and any(n > 0 for n in _numbers_of(i.text) if n < 1_000_000)
    ]
    if ctx.pricing in ("paid", "freemium") or paid:
        return "says it is free; the evidence gives a price"
    return ""


def _maker_clash(text: str, ctx: Context) -> str:
    if not ctx.vendor:
        return ""
    for m in _MAKER.finditer(text):
        name = m[1].strip()
        if name and not contains_word(f"{ctx.vendor} {ctx.tool}", name.split()[0]):
            return f"names {name} as the maker; the vendor is {ctx.vendor}"
    return ""


def _money(text: str) -> set[Decimal]:
    return {Decimal(m[1].replace(",", "")).normalize() for m in _MONEY.finditer(text)}


_NUMBER_SPLIT = re.compile(r"[,;]\s|\.\s|\s(?:but|while|whereas)\s", re.I)


def _number_clash(
    text: str, ctx: Context, own: set[Decimal], all_numbers: set[Decimal], comparative: bool
) -> str:
    """A number the evidence lacks, or one the evidence gives for something else."""
    given = _numbers_of(f"{ctx.tool}\n{ctx.asked}")
    missing = _sentence_numbers(text) - all_numbers - given
    if missing:
        return "gives a number the evidence does not have: " + ", ".join(
            f"{n:f}" for n in sorted(missing)
        )
    money = _money(" ".join(i.full for i in ctx.items.values() if i.kind != "vendor"))
    if wrong := _money(text) - money:
        return "gives a price the evidence does not have: " + ", ".join(
            f"${n:f}" for n in sorted(wrong)
        )
    if comparative:  # its numbers are the computed item's; the superlative check reads them
        return ""
    scopes = _number_scopes(ctx.of_kind("fact"))
    # Only words the evidence ties to some number can tie a number to the wrong thing.
    numbered = set().union(*(words for found, words, coarse in scopes if found and not coarse))
    names = _name_words(ctx.tool, ctx.vendor)
    units = {_stem(u) for u in _UNITS}
    for part in _NUMBER_CLAUSE.split(text):
        numbers = _sentence_numbers(part) - given
        if not numbers or not numbers <= own:
            continue
        words = content_words(_near_numbers(part), allow=names)
        qualifiers = words & (numbered | units)
        if not any(
            numbers <= found and qualifiers <= context
            for found, context, coarse in scopes
            if len(numbers) > 1 or not coarse
        ):
            return "gives a number the evidence states for something else"
    return ""


def _near_numbers(text: str, span: int = 4) -> str:
    """The ``span`` meaningful words either side of each number: what says what it counts."""
    tokens = [t for t in canonical(text).split() if t.strip(".,;:()").lower()]
    meaningful = [
        t
        for t in tokens
        if any(c.isdigit() for c in t)
        or t.strip(".,;:()'").lower() not in _FUNCTION_WORDS | _ATTACH_WORDS
    ]
    keep: set[int] = set()
    for i, token in enumerate(meaningful):
        if any(c.isdigit() for c in token):
            keep.update(range(max(0, i - span), i + span + 1))
    return " ".join(t for i, t in enumerate(meaningful) if i in keep)


def _number_scopes(items: list[Item]) -> list[tuple[set[Decimal], set[str], bool]]:
    """Where a number may be read from: each comma-separated part of an item's clause, read
    with the item's label and the clause's parts that hold no number of their own ("Free
    for public repos, up to 50 reviews a month"), but not with a part that has its own
    number ("600 a minute on Team, 60 on the trial"); and each whole clause, for a sentence
    that gives several numbers together (marked coarse)."""
    scopes = []
    for item in items:
        for clause in _SUB_CLAUSE.split(item.text):
            parts = [p for p in re.split(r",\s", clause) if p.strip()]
            bare = " ".join(p for p in parts if not _numbers_of(p))
            for part in parts:
                if numbers := _numbers_of(part):
                    words = content_words(f"{item.label} {part} {bare}")
                    scopes.append((numbers, words, False))
            scopes.append((_numbers_of(clause), content_words(f"{item.label} {clause}"), True))
    return scopes


def _polarity_clash(text: str, ctx: Context) -> str:
    """A clause that negates (or restricts) what the closest evidence clause states, or
    states what it negates."""
    names = _name_words(ctx.tool, ctx.vendor)
    clauses = [(i.id, c) for i in ctx.of_kind("fact") for c in _clauses(i, _SUB_CLAUSE)]
    # The findings' own statements about this tool ("has a short context window") count
    # for opposites; what they say of other tools does not.
    own = [
        (i.id, c)
        for i in ctx.of_kind("computed")
        for c in _clauses(i, _SUB_CLAUSE)
        if c.strip().startswith(ctx.tool)
    ]
    for part in _CLAUSE_SPLIT.split(text):
        words = content_words(part, allow=names)
        for eid, clause in own:
            clause_words = content_words(clause, allow=names)
            for word, opposite in _ANTONYMS.items():
                if word in words and opposite in clause_words and word not in clause_words:
                    return f"says the opposite of what {eid} states"
    for part in _CLAUSE_SPLIT.split(text):
        words = content_words(part, allow=names)
        if not words:
            continue
        scored = [(len(words & content_words(c)), eid, c) for eid, c in clauses]
        overlap = max((o for o, _, _ in scored), default=0)
        if overlap == 0 or overlap < len(words) / 2:
            continue
        for _, eid, clause in (x for x in scored if x[0] == overlap):
            clause_words = content_words(clause)
            for word, opposite in _ANTONYMS.items():
                if word in words and opposite in clause_words and word not in clause_words:
                    return f"says {word} where {eid} says {opposite}"
        _, eid, clause = max(scored)
        negated = _NEGATIVE.search(part)
        if negated and not _NEGATIVE.search(clause):
            after = content_words(" ".join(part[negated.end() :].split()[:4]), allow=names)
            if after & content_words(clause):
                return f"negates what {eid} states"
        elif not negated and _NEGATIVE.search(clause):
            return f"asserts what {eid} denies"
        if _RESTRICTIVE.search(part) and not _RESTRICTIVE.search(clause):
            return f"restricts what {eid} states"
    return ""


_CLAUSE_SPLIT = re.compile(r"[,;]\s|\s(?:but|while|whereas|although)\s", re.I)


def _covering(
    words: set[str], numbers: set[Decimal], items: list[Item], names: Iterable[str] = ()
) -> list[str] | None:
    """Ids of items that together hold every word and number, or None when they cannot.
    The words of ``names`` (other tools') never cover a word: "reasonable" is not in
    "Harborline Reasoner"."""
    pool_words: set[str] = set()
    pool_numbers: set[Decimal] = set()
    for item in items:
        pool_words |= content_words(item.full, allow=names)
        pool_numbers |= _numbers_of(item.full)
    if not words <= pool_words or not numbers <= pool_numbers:
        return None
    chosen: list[str] = []
    left_w, left_n = set(words), set(numbers)
    while left_w or left_n:
        best = max(
            items,
            key=lambda i: len(left_w & content_words(i.full)) + len(left_n & _numbers_of(i.full)),
        )
        got_w, got_n = left_w & content_words(best.full), left_n & _numbers_of(best.full)
        if not got_w and not got_n:
            break
        chosen.append(best.id)
        left_w -= got_w
        left_n -= got_n
    return chosen


def _superlatives(text: str, item: Item, tool: str) -> bool | None:
    """Whether the computed item says this tool is what the sentence's superlatives say
    ("the cheapest", "the only"): True when it does, False when it places the tool
    otherwise ("the 3rd cheapest"), None when it does not say."""
    verdict: bool | None = True
    for m in _SUPERLATIVES.finditer(text):
        word = " ".join(m[1].lower().split())
        found: bool | None = None
        for clause in re.split(r";\s|\.\s|,\s|\(", item.text):
            if not contains_word(clause, tool):
                continue
            for hit in re.finditer(
                rf"\bthe\s+(\d+(?:st|nd|rd|th)\s+)?{word}\b(?!\s+other)", clause
            ):
                found = found or not hit[1]
        if found is None:
            return None
        verdict = verdict and found
    return verdict


_SUBORDINATE = re.compile(r",?\s+\b(?:which|that|because|since|as|so|while)\b\s+", re.I)


def _claim_inside(text: str, ctx: Context, names: list[str]) -> str:
    """A clause hung on a judgement that states something of its own ("I would ship it,
    which runs in your existing VS Code"): its content must be in the evidence or the
    question, unless the clause is itself a judgement. The clause, or ""."""
    evidence = set().union(*(content_words(i.full) for i in ctx.items.values()))
    known = evidence | content_words(ctx.asked)
    for clause in _SUBORDINATE.split(text)[1:]:
        if _OPINION.search(clause):
            continue
        if content_words(clause, allow=names) - known:
            return clause.strip().rstrip(".")[:80]
    return ""


def check_sentence(
    sentence: str, cites: Iterable[str], ctx: Context, earlier: Iterable[str] = ()
) -> Result:
    """Label one sentence (see the module docstring); ``earlier`` are the review's sentences
    before it."""
    sentence = _CITATION.sub("", sentence)
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
    said = words | {f"{n:f}" for n in _sentence_numbers(text)}
    for before in earlier:
        was = content_words(before, allow=own_names) | {f"{n:f}" for n in _sentence_numbers(before)}
        if _jaccard(said, was) >= _REPEAT_JACCARD:
            return Result(UNSUPPORTED, "repeats an earlier sentence")

    # Names: the tool, its vendor, other catalog tools (only in a computed comparison), and
    # nothing invented.
    facts = ctx.of_kind("fact")
    computed = ctx.of_kind("computed")
    own_text = "\n".join(i.full for i in facts)
    others = [n for n in _tool_names_in(text, ctx.other_tools) if not contains_word(own_text, n)]
    known = "\n".join(
        [ctx.tool, ctx.vendor, *ctx.other_tools, *(i.full for i in ctx.items.values())]
    )
    invented = [
        n
        for n in dict.fromkeys(names_in(read_dates(text)[2]))
        if n.lower() not in GENERIC_WORDS and not contains_word(known, n)
    ]
    vendor_named = ctx.vendor and ctx.vendor.lower() != ctx.tool.lower()
    if vendor_named and contains_word(text, ctx.vendor) and _BUYER.search(text):
        return Result(UNSUPPORTED, "names the vendor as the buyer or payer")
    vendor_text = " ".join(i.text for i in ctx.of_kind("vendor"))
    shingles = _shingles(text)
    copied = shingles and len(shingles & _shingles(vendor_text)) >= _COPY_SHARE * len(shingles)
    if vendor_text and copied:
        return Result(UNSUPPORTED, "copies the vendor's own text")

    # Contradictions of what the evidence states about this tool.
    own_numbers: set[Decimal] = set().union(*(_numbers_of(i.full) for i in facts))
    all_numbers = own_numbers.union(*(_numbers_of(i.text) for i in computed))
    comparative = bool(_COMPARATIVE.search(text))
    # With another tool named, only what the sentence says of this tool by name is read
    # ("Cursor has tool use, while Claude 4 Sonnet does not").
    denies = re.search(_SUBJECT_DENIES.format(name=re.escape(ctx.tool)), text, re.I)
    checks = (
        (
            _licence_clash,
            _pricing_clash,
            _maker_clash,
            _feature_clash,
            lambda t, c: _number_clash(t, c, own_numbers, all_numbers, comparative),
            _polarity_clash,
        )
        if not others
        else (_feature_clash,)
        if denies
        else ()
    )
    for check in checks:
        if clash := check(text, ctx):
            return Result(CONTRADICTED, clash)
    if invented:
        return Result(UNSUPPORTED, "names something not in the evidence: " + ", ".join(invented))

    numbers = _sentence_numbers(text) - _numbers_of(f"{ctx.tool}\n{ctx.asked}")
    content = words - {_stem(w) for w in _name_words(*others)}
    if not numbers and not (content - content_words(ctx.asked)):
        return Result(UNSUPPORTED, "not an answer: says nothing beyond the question")
    comparing = bool(_COMPARATIVE.search(text)) or bool(others)
    if not comparing and not (numbers - own_numbers):
        cover = _covering(content, numbers, [i for i in facts if not cites or i.id in cites])
        if cover is None and cites:
            cover = _covering(content, numbers, facts)
        if (
            cover
            and says_verified(text)
            and not any("verif" in ctx.items[i].label.lower() for i in cover)
        ):
            return Result(UNSUPPORTED, "says verified, but no editor's verification states it")
        if cover:  # an empty cover: the sentence says nothing but the tool's name
            return Result(SUPPORTED, "restates the evidence", cover)
    for item in computed:
        if not all(contains_word(item.text, n) for n in others):
            continue
        placed = _superlatives(text, item, ctx.tool)
        if placed is False and not others:
            return Result(CONTRADICTED, f"{item.id} places it otherwise", [item.id])
        if placed is None:
            continue
        peers = [w for w in _name_words(*ctx.other_tools) if w not in own_names]
        cover = _covering(content - {_stem(w) for w in peers}, numbers, [item, *facts], peers)
        if cover is not None and item.id in cover:
            return Result(COMPUTED, f"states the computed comparison {item.id}", cover)
    if others:
        return Result(UNSUPPORTED, "about another tool: " + ", ".join(others))
    if comparing:
        return Result(UNSUPPORTED, "compares, but no computed comparison says so")
    for name in FEATURES:
        if polarity(text, name) is False and _STRENGTH.search(text):
            return Result(UNSUPPORTED, "presents a missing feature as a strength")
    if vendor_text and content and content <= content_words(vendor_text) | set(own_names):
        return Result(UNSUPPORTED, "restates only the vendor's own claims")
    if says_verified(text):
        return Result(UNSUPPORTED, "says verified, but no editor's verification states it")
    if _OPINION.search(text):
        if claim := _claim_inside(text, ctx, own_names):
            return Result(
                UNSUPPORTED, f"an opinion carrying a claim the evidence does not make: {claim}"
            )
        return Result(OPINION, "the persona's judgement")
    # Plain statements beyond the evidence are claims, whatever their verb.
    return Result(UNSUPPORTED, "states something the evidence does not")


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


VENDOR_HEADING = "Vendor's own description"


def context_from_json(row: Mapping[str, object]) -> Context:
    """The check's context from a ``check-claims`` input line. Evidence texts may start
    with their label and " — " ("Price: API input — API input: $3 …"); ids starting with C
    are computed comparisons; an item whose label starts "Vendor's own description", or
    whose id is in ``vendor_ids``, is the vendor's own marketing text."""
    evidence = row.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        raise ValueError("evidence must be an object of id: text")
    vendor_ids = set(row.get("vendor_ids") or ())  # type: ignore[arg-type]
    items = {}
    for key, value in evidence.items():
        label, _, text = str(value).partition(" — ")
        if not text:
            label, text = "", str(value)
        kind = "computed" if str(key).startswith("C") else "fact"
        if key in vendor_ids or label.startswith(VENDOR_HEADING):
            kind = "vendor"
        items[str(key)] = Item(str(key), text, kind, label)
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
    from .rubric import SIGNAL_WORDS

    kinds = {"description": "vendor", "computed": "computed"}
    # A finding also states, in the rubric's words, the signal it raises ("has a long
    # context window"): the persona was told its verdict in those words.
    said = {
        f.text: " ".join(f"{dossier.tool_name} has {SIGNAL_WORDS[s]}." for s in f.signals)
        for f in dossier.findings
    }
    items = {
        e.id: Item(
            e.id,
            f"{e.text} {said.get(e.text, '')}".strip() if e.kind == "computed" else e.text,
            kinds.get(e.kind, "fact"),
            "" if e.kind == "computed" else e.label,
        )
        for e in dossier.evidence
    }
    facts = dossier.facts
    features = {k: v.value for k, v in facts.features.items()} if facts else None
    return Context(
        tool=dossier.tool_name,
        items=items,
        vendor=dossier.vendor,
        other_tools=tuple(other_tools),
        asked=asked,
        features=features,
        pricing=facts.pricing if facts else "",
        licence=facts.licence if facts else "",
    )
