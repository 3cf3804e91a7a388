"""From a feed entry's title to a catalog name and slug."""

from __future__ import annotations

import pytest

from toolverdict.ingest.services import name_from_title, unique_slug


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Introducing Acme Coder: an AI pair programmer", "Acme Coder"),
        ("Show HN: Lintly, a linter that explains itself", "Lintly"),
        ("Launch: Zeta Vector 1.0 – small and fast", "Zeta Vector 1.0"),
        ("Pairwise (beta) reviews your PRs", "Pairwise"),
        ("GPT-4.1", "GPT-4.1"),
        ("Meet Orbit", "Orbit"),
    ],
)
def test_name_from_title(title, name):
    assert name_from_title(title) == name


def test_a_very_long_title_is_cut_on_a_word():
    name = name_from_title("word " * 40)
    assert len(name) <= 80 and not name.endswith(" ")


def test_unique_slug_follows_catalog_rules():
    taken = {"acme-coder", "acme-coder-2"}
    assert unique_slug("Acme Coder", taken.__contains__) == "acme-coder-3"
    assert unique_slug("GPT-4.1", taken.__contains__) == "gpt-4-1"
    assert unique_slug("Cats vs Dogs", taken.__contains__) == "cats-v-dogs"  # "-vs-" is reserved
    assert unique_slug("!!!", taken.__contains__) == "tool"
    long = unique_slug("x" * 100, lambda slug: len(slug) == 60 and slug == "x" * 60)
    assert long == "x" * 58 + "-2"
