"""Hostile catalog files: deep nesting, over-long strings, NUL characters, duplicate slugs.

Each is refused with a clear error naming the problem, and nothing is written. The NUL
search tests matter most on PostgreSQL, which refuses NUL in text (run them with
DATABASE_URL=postgres://…).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import models

from toolverdict.catalog.importer import CatalogImportError, import_path, parse_catalog
from toolverdict.catalog.models import Category, Fact, PricePoint, Tool

DATA = Path(__file__).parent / "data"
VALID = (DATA / "valid.toml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def nothing_written() -> bool:
    return not (
        Category.objects.exists()
        or Tool.objects.exists()
        or PricePoint.objects.exists()
        or Fact.objects.exists()
    )


def import_errors(tmp_path: Path, text: str) -> str:
    with pytest.raises(CatalogImportError) as caught:
        import_path(write(tmp_path, text))
    return "\n".join(caught.value.errors)


# --- 4. deep nesting -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "deep",
    [
        "a = " + "[" * 100_000 + "]" * 100_000,
        "a = " + "{b = " * 20_000 + "1" + "}" * 20_000,
        # A valid catalog with a deep value tacked on: still nothing imported.
        VALID.replace(
            "[[categories]]", "deep = " + "[" * 50_000 + "]" * 50_000 + "\n\n[[categories]]", 1
        ),
    ],
    ids=["arrays", "inline-tables", "inside-a-valid-catalog"],
)
def test_deeply_nested_file_is_a_clear_error(tmp_path, deep):
    errors = import_errors(tmp_path, deep)
    assert "catalog file is nested too deeply" in errors
    assert nothing_written()


@pytest.mark.django_db
def test_import_command_reports_deep_nesting_without_a_traceback(tmp_path, capsys):
    path = write(tmp_path, "a = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match="not imported"):
        call_command("import", str(path))
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "nested too deeply" in err
    assert "RecursionError" not in err and "Traceback" not in err
    assert nothing_written()


# --- 5. string lengths match the model columns ------------------------------------------

BASE = {
    "categories": [{"slug": "test-tools", "name": "Test Tools", "description": "d"}],
    "tools": [
        {
            "slug": "alpha-coder",
            "name": "Alpha Coder",
            "vendor": "Alpha Labs",
            "category": "test-tools",
            "tagline": "A coding assistant",
            "description": "Writes code.",
            "homepage": "https://alpha.example.com/",
            "pricing": "freemium",
            "license": "MIT",
            "price_points": [
                {
                    "tier": "Pro",
                    "amount": 20,
                    "currency": "USD",
                    "unit": "seat/month",
                    "source": "https://alpha.example.com/pricing",
                }
            ],
            "facts": [
                {
                    "key": "context_window",
                    "value": "128K tokens",
                    "source": "https://alpha.example.com/docs",
                    "as_of": dt.date(2026, 11, 1),
                }
            ],
        }
    ],
}


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def dump(catalog: dict) -> str:
    """Just enough of a TOML writer for BASE-shaped catalogs."""
    lines: list[str] = []
    for category in catalog["categories"]:
        lines.append("[[categories]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in category.items()]
    for tool in catalog["tools"]:
        lines.append("[[tools]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in tool.items() if not isinstance(v, list)]
        for table in ("price_points", "facts"):
            for row in tool.get(table, []):
                lines.append(f"[[tools.{table}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


# Where each model's string columns come from in a catalog file.
SCHEMA_PATHS = {
    Category: ("categories", 0),
    Tool: ("tools", 0),
    PricePoint: ("tools", 0, "price_points", 0),
    Fact: ("tools", 0, "facts", 0),
}
SCHEMA_NAMES = {"source_url": "source"}
# Provenance columns are written by the enrichment (enrich/store.py), never by a file.
NOT_FROM_FILES = {"snippet"}


def string_columns() -> list[tuple[type[models.Model], models.Field]]:
    return [
        (model, field)
        for model in SCHEMA_PATHS
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and field.max_length
        and field.name not in NOT_FROM_FILES
    ]


def value_of_length(model: type[models.Model], field: models.Field, length: int) -> str:
    if isinstance(field, models.URLField):
        prefix = "https://example.com/"
        return prefix + "a" * (length - len(prefix))
    if field.name == "currency":
        return "U" * length
    return "a" * length


def with_value(path: tuple, name: str, value: str) -> dict:
    catalog = json.loads(json.dumps(BASE, default=str))
    node = catalog
    for step in path:
        node = node[step]
    node[name] = value
    return catalog


def test_every_string_column_of_the_catalog_models_is_covered():
    covered = {(m.__name__, f.name) for m, f in string_columns()}
    # Guard the guard: these are the columns a catalog file writes to.
    assert {("Fact", "source_url"), ("PricePoint", "source_url"), ("Tool", "tagline")} <= covered
    assert len(covered) >= 16


@pytest.mark.parametrize(
    ("model", "field"),
    [pytest.param(m, f, id=f"{m.__name__}.{f.name}") for m, f in string_columns()],
)
def test_schema_limit_equals_the_model_column(model, field):
    path, name = SCHEMA_PATHS[model], SCHEMA_NAMES.get(field.name, field.name)
    if field.choices:
        # A fixed set of values: each must fit the column.
        assert all(len(value) <= field.max_length for value, _ in field.choices)
        return
    fits = value_of_length(model, field, field.max_length)
    parse_catalog(dump(with_value(path, name, fits)))  # at the limit: accepted
    too_long = value_of_length(model, field, field.max_length + 1)
    with pytest.raises(CatalogImportError) as caught:
        parse_catalog(dump(with_value(path, name, too_long)))
    rest = ".".join(str(step) for step in path[2:] + (name,))
    assert any(f"field '{rest}'" in error for error in caught.value.errors), caught.value.errors


@pytest.mark.django_db
def test_over_long_fact_source_is_refused_naming_the_field(tmp_path):
    long_url = "https://beta.example.com/" + "a" * (501 - len("https://beta.example.com/"))
    assert len(long_url) == 501
    errors = import_errors(tmp_path, VALID.replace("https://beta.example.com/card", long_url))
    assert "tool 'beta-vision' field 'facts.0.source'" in errors
    assert "longer than 500 characters" in errors
    assert nothing_written()


@pytest.mark.django_db
def test_source_of_exactly_500_characters_imports(tmp_path):
    url = "https://beta.example.com/" + "a" * (500 - len("https://beta.example.com/"))
    import_path(write(tmp_path, VALID.replace("https://beta.example.com/card", url)))
    assert Fact.objects.get(tool__slug="beta-vision").source_url == url


# --- 6. NUL characters -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('value = "2B"', 'value = "2\\u0000B"', "tool 'beta-vision' field 'facts.0.value'"),
        ('name = "Test Tools"', 'name = "Test\\u0000Tools"', "category 'test-tools' field 'name'"),
        (
            'tagline = "Sees things"',
            'tagline = "Sees\\u0000"',
            "tool 'beta-vision' field 'tagline'",
        ),
        (
            'description = "Alpha Coder writes code."',
            'description = """Alpha\\u0000Coder"""',
            "tool 'alpha-coder' field 'description'",
        ),
    ],
)
def test_nul_character_is_refused(tmp_path, old, new, where):
    assert old in VALID
    errors = import_errors(tmp_path, VALID.replace(old, new))
    assert f"{where}: Value error, contains a NUL character" in errors
    assert nothing_written()


@pytest.mark.django_db
def test_search_page_with_nul_query_answers(client, starter_catalog):
    response = client.get("/search/?q=%00")
    assert response.status_code == 200
    assert "\x00" not in response.content.decode()
    found = client.get("/search/?q=anthro%00pic")
    assert found.status_code == 200
    assert "Claude" in found.content.decode()


@pytest.mark.django_db
def test_api_tool_list_with_nul_query_answers(client, starter_catalog):
    response = client.get("/api/tools?q=%00")
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    found = client.get("/api/tools?q=anthro%00pic")
    assert found.status_code == 200
    assert "claude-4-sonnet" in {t["slug"] for t in found.json()}
    by_category = client.get("/api/tools?category=%00")
    assert by_category.status_code == 200
    assert by_category.json() == []


# --- 7. duplicate slugs ----------------------------------------------------------------


@pytest.mark.django_db
def test_duplicate_category_slug_is_an_error_naming_it(tmp_path):
    doubled = VALID.replace(
        "[[tools]]",
        '[[categories]]\nslug = "test-tools"\nname = "Other Name"\n\n[[tools]]',
        1,
    )
    errors = import_errors(tmp_path, doubled)
    assert "duplicate category slug(s): test-tools" in errors
    assert nothing_written()


@pytest.mark.django_db
def test_duplicate_tool_and_category_slugs_are_both_reported(tmp_path):
    doubled = VALID.replace(
        "[[tools]]",
        '[[categories]]\nslug = "test-tools"\nname = "Other Name"\n\n[[tools]]',
        1,
    ).replace('slug = "beta-vision"', 'slug = "alpha-coder"')
    errors = import_errors(tmp_path, doubled)
    assert "duplicate category slug(s): test-tools" in errors
    assert "duplicate tool slug(s): alpha-coder" in errors
    assert nothing_written()
