"""The TOML catalog import: valid files, every kind of bad file, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from toolverdict.catalog.importer import CatalogImportError, import_path, parse_catalog
from toolverdict.catalog.models import Category, Fact, PricePoint, Tool
from toolverdict.catalog.signals import tools_changed

DATA = Path(__file__).parent / "data"
VALID = (DATA / "valid.toml").read_text()


def snapshot() -> tuple:
    """Everything the import can write, to prove a failed import changed nothing."""
    return (
        sorted(Category.objects.values_list("slug", "name", "description")),
        sorted(Tool.objects.values_list("slug", "name", "tagline", "pricing", "updated_at")),
        sorted(PricePoint.objects.values_list("tool__slug", "tier", "amount", "unit")),
        sorted(Fact.objects.values_list("tool__slug", "key", "value", "source_url")),
    )


def write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_valid_file_creates_tools_with_prices_and_facts(tmp_path):
    report = import_path(write(tmp_path, VALID))
    assert report.created == ["alpha-coder", "beta-vision"]
    alpha = Tool.objects.get(slug="alpha-coder")
    assert alpha.category.name == "Test Tools"
    assert alpha.context_window == 128000
    assert alpha.entry_price == "Freemium"
    price = alpha.price_points.get()
    assert (price.tier, price.display_amount, price.unit) == ("Pro", "$20", "seat/month")
    fact = alpha.facts.get()
    assert fact.source_url == "https://alpha.example.com/docs"
    assert str(fact.as_of) == "2026-11-01"


@pytest.mark.django_db
def test_reimport_changes_nothing(tmp_path):
    path = write(tmp_path, VALID)
    import_path(path)
    before = snapshot()
    report = import_path(path)
    assert report.created == [] and report.updated == []
    assert report.unchanged == ["alpha-coder", "beta-vision"]
    assert snapshot() == before  # updated_at included: no row was saved again


@pytest.mark.django_db
def test_changed_field_updates_only_that_tool(tmp_path):
    import_path(write(tmp_path, VALID))
    report = import_path(write(tmp_path, VALID.replace("Sees things", "Sees more things")))
    assert report.updated == ["beta-vision"]
    assert report.unchanged == ["alpha-coder"]
    assert Tool.objects.get(slug="beta-vision").tagline == "Sees more things"


@pytest.mark.django_db
def test_changed_price_replaces_price_points(tmp_path):
    import_path(write(tmp_path, VALID))
    report = import_path(write(tmp_path, VALID.replace("amount = 20", "amount = 25")))
    assert report.updated == ["alpha-coder"]
    assert [p.display_amount for p in PricePoint.objects.filter(tool__slug="alpha-coder")] == [
        "$25"
    ]


@pytest.mark.django_db(transaction=True)
def test_changed_tools_are_announced_after_commit(tmp_path):
    seen: list[tuple[list[int], str]] = []

    def receiver(sender, tool_ids, reason, **kwargs):
        seen.append((sorted(tool_ids), reason))

    tools_changed.connect(receiver)
    try:
        path = write(tmp_path, VALID)
        import_path(path)
        import_path(path)  # unchanged: no second announcement
    finally:
        tools_changed.disconnect(receiver)
    assert seen == [(sorted(Tool.objects.values_list("pk", flat=True)), "import")]


BAD_FILES = {
    "unknown field": (
        VALID.replace('vendor = "Beta Inc"', 'vendor = "Beta Inc"\nvendr = "typo"'),
        "tool 'beta-vision' field 'vendr': Extra inputs are not permitted",
    ),
    "wrong type": (
        VALID.replace("context_window = 128000", 'context_window = "lots"'),
        "tool 'alpha-coder' field 'context_window'",
    ),
    "duplicate slug": (
        VALID.replace('slug = "beta-vision"', 'slug = "alpha-coder"'),
        "duplicate tool slug(s): alpha-coder",
    ),
    "missing source on a fact": (
        VALID.replace('source = "https://beta.example.com/card"\n', ""),
        "tool 'beta-vision' field 'facts.0.source': Field required",
    ),
    "not TOML at all": ("<html>this is not a catalog</html>", "not a valid TOML file"),
    "bad pricing value": (
        VALID.replace('pricing = "free"', 'pricing = "cheap"'),
        "tool 'beta-vision' field 'pricing'",
    ),
    "unknown category": (
        VALID.replace(
            'category = "test-tools"\ntagline = "Sees', 'category = "nope"\ntagline = "Sees'
        ),
        "tool 'beta-vision' field 'category': unknown category 'nope'",
    ),
    "reserved -vs- in slug": (
        VALID.replace('slug = "beta-vision"', 'slug = "beta-vs-gamma"'),
        "'-vs-' is reserved",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_reports_error_and_changes_nothing(tmp_path, case):
    import_path(write(tmp_path, VALID.replace("A coding assistant", "An assistant"), "a.toml"))
    before = snapshot()
    text, expected = BAD_FILES[case]
    with pytest.raises(CatalogImportError) as excinfo:
        import_path(write(tmp_path, text, "bad.toml"))
    assert any(expected in error for error in excinfo.value.errors), excinfo.value.errors
    assert snapshot() == before


def test_every_error_is_reported_not_just_the_first():
    text = VALID.replace('pricing = "free"', 'pricing = "cheap"').replace(
        "context_window = 128000", "context_window = -5"
    )
    with pytest.raises(CatalogImportError) as excinfo:
        parse_catalog(text)
    joined = "\n".join(excinfo.value.errors)
    assert "tool 'beta-vision' field 'pricing'" in joined
    assert "tool 'alpha-coder' field 'context_window'" in joined


@pytest.mark.django_db
def test_failure_midway_rolls_back_everything(tmp_path, monkeypatch):
    """A database error on the second tool leaves the first one unwritten too."""
    from toolverdict.catalog import importer

    real = importer.upsert_tool
    calls = []

    def flaky(item, categories):
        calls.append(item.slug)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(item, categories)

    monkeypatch.setattr(importer, "upsert_tool", flaky)
    with pytest.raises(RuntimeError):
        import_path(write(tmp_path, VALID))
    assert not Tool.objects.exists()
    assert not Category.objects.exists()


@pytest.mark.django_db
def test_command_prints_every_error_and_exits_nonzero(tmp_path, capsys):
    bad = write(tmp_path, VALID.replace('pricing = "free"', 'pricing = "cheap"'), "bad.toml")
    with pytest.raises(CommandError):
        call_command("import", str(bad))
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "tool 'beta-vision' field 'pricing'" in err
    assert not Tool.objects.exists()


@pytest.mark.django_db
def test_command_missing_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(CommandError):
        call_command("import", str(tmp_path / "missing.toml"))
    assert "no such file" in capsys.readouterr().err


@pytest.mark.django_db
def test_command_reports_counts(tmp_path, capsys):
    path = write(tmp_path, VALID)
    call_command("import", str(path))
    call_command("import", str(path))
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("2 created, 0 updated, 0 unchanged, 1 new categories")
    assert out[1].endswith("0 created, 0 updated, 2 unchanged")


@pytest.mark.django_db
def test_starter_catalog_imports_cleanly(starter_catalog):
    assert len(starter_catalog.created) >= 22
    claude = Tool.objects.get(slug="claude-4-sonnet")
    smol = Tool.objects.get(slug="smolvlm-2-5")
    assert (claude.vendor, claude.category.name, claude.pricing) == (
        "Anthropic",
        "Developer Tools",
        "paid",
    )
    assert claude.context_window == 1_000_000
    assert (smol.vendor, smol.pricing) == ("Hugging Face", "free")
    smol_facts = " ".join(smol.facts.values_list("value", flat=True))
    assert "2B" in smol_facts and "ONNX" in smol_facts and "llama.cpp" in smol_facts
    assert Category.objects.count() >= 4
    # every fact in the shipped catalog carries a source
    assert not Fact.objects.filter(source_url="").exists()


@pytest.mark.django_db
def test_the_old_retrieved_name_imports_as_the_editors_as_of_date(tmp_path):
    import_path(write(tmp_path, VALID.replace("as_of = ", "retrieved = ")))
    fact = Fact.objects.get(tool__slug="alpha-coder")
    assert str(fact.as_of) == "2026-11-01"
    # Same meaning: the file written with the new name is unchanged by it.
    assert import_path(write(tmp_path, VALID, "new.toml")).changed == []


@pytest.mark.django_db
def test_a_fact_without_a_date_imports_with_none(tmp_path):
    import_path(write(tmp_path, VALID.replace("as_of = 2026-11-01\n", "")))
    assert set(Fact.objects.values_list("as_of", flat=True)) == {None}


def test_giving_both_as_of_and_retrieved_is_an_error():
    text = VALID.replace("as_of = 2026-11-01", "as_of = 2026-11-01\nretrieved = 2026-11-02", 1)
    with pytest.raises(CatalogImportError, match=r"field 'facts\.0\.retrieved'"):
        parse_catalog(text)


@pytest.mark.django_db
def test_an_import_records_no_source_check(tmp_path):
    from toolverdict.catalog.models import Source
    from toolverdict.catalog.sources import statuses_for

    import_path(write(tmp_path, VALID))
    assert not Source.objects.exclude(checked_at=None).exists()
    urls = list(Fact.objects.values_list("source_url", flat=True))
    assert {s.label for s in statuses_for(urls).values()} == {"source cited, not yet checked"}
