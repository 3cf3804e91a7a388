"""From a feed entry's title to a catalog name and slug."""

from __future__ import annotations

import pytest

from toolverdict.ingest.naming import name_from_title, unique_slug


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


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("A vs vs B", "a-v-v-b"),
        ("A vs. vs. B", "a-v-v-b"),
        ("Foo VS", "foo-v"),
        ("VS Code", "v-code"),
        ("vs", "v"),
        ("vs vs vs", "v-v-v"),
        ("Versus", "versus"),
        ("VSCodium", "vscodium"),
    ],
)
def test_generated_slugs_have_no_vs_segment(name, slug):
    from toolverdict.catalog.file_format import _no_vs

    made = unique_slug(name, lambda s: False)
    assert made == slug
    assert _no_vs(made) == made  # the catalog accepts it


def test_a_numbered_slug_has_no_vs_segment_either():
    # "x…x-vsq" cut short to make room for "-2" would leave "x…x-vs-2".
    name = "x" * 55 + " vsq"
    taken = {"x" * 55 + "-vsq"}
    assert unique_slug(name, lambda s: False) == "x" * 55 + "-vsq"
    assert unique_slug(name, taken.__contains__) == "x" * 55 + "-v-2"
