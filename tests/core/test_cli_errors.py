"""A configuration mistake or an unmigrated database ends `toolverdict` with one line that
names the setting or the fix, and exit status 1: no traceback (the real command, run in a
subprocess)."""

from __future__ import annotations

import pytest

from toolverdict import cli
from toolverdict.core import secret_key

from .cli_env import GOOD_KEY, toolverdict

PUBLISHED = next(iter(secret_key.PUBLISHED_KEYS))


def one_line_failure(result, *needles: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    [line] = lines
    assert line.startswith("toolverdict: ")
    for needle in needles:
        assert needle in line
    return line


def test_the_published_secret_key(tmp_path):
    result = toolverdict(
        "check", cwd=tmp_path, TOOLVERDICT_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY=PUBLISHED
    )
    one_line_failure(result, "DJANGO_SECRET_KEY", "published development key")


def test_a_key_file_that_is_not_ascii(tmp_path):
    key_file = tmp_path / secret_key.KEY_FILE_NAME
    key_file.write_bytes("clé-".encode() * 20)
    key_file.chmod(0o600)
    result = toolverdict("check", cwd=tmp_path, TOOLVERDICT_DATA_DIR=str(tmp_path))
    one_line_failure(result, str(key_file), "not ASCII", "DJANGO_SECRET_KEY")


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("TOOLVERDICT_PAGE_SCRIPTS", "bogus", '"members" or "all"'),
        ("TOOLVERDICT_COMMUNITY_MIN_VOTES", "abc", "a whole number"),
        ("TOOLVERDICT_DIGEST_RATE", "fast", "a number"),
        ("COMMUNITY_MIN_VOTES", "abc", "a whole number"),  # the old name, when set alone
    ],
)
def test_a_setting_that_does_not_parse_is_named(tmp_path, variable, value, needle):
    result = toolverdict(
        "check",
        cwd=tmp_path,
        TOOLVERDICT_DATA_DIR=str(tmp_path),
        DJANGO_SECRET_KEY=GOOD_KEY,
        **{variable: value},
    )
    one_line_failure(result, variable, repr(value), needle)


def test_a_data_directory_never_migrated(tmp_path):
    result = toolverdict(
        "status", cwd=tmp_path, TOOLVERDICT_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY=GOOD_KEY
    )
    one_line_failure(
        result, "toolverdict migrate", "catalog_tool", str(tmp_path / "toolverdict.sqlite3")
    )


def test_traceback_still_shows_the_traceback_when_asked_for(tmp_path):
    result = toolverdict(
        "status",
        "--traceback",
        cwd=tmp_path,
        TOOLVERDICT_DATA_DIR=str(tmp_path),
        DJANGO_SECRET_KEY=GOOD_KEY,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "no such table: catalog_tool" in result.stderr


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        ("no such table: catalog_tool", "table catalog_tool"),
        ("no such column: catalog_tool.enriched_at", "column catalog_tool.enriched_at"),
        ('relation "catalog_tool" does not exist\nLINE 1: SELECT ...', "table catalog_tool"),
        ('column "x" does not exist', "column x"),
        ("database is locked", None),
    ],
)
def test_which_database_errors_mean_unmigrated(message, missing):
    assert cli.unmigrated(Exception(message)) == missing


def test_a_working_command_is_unchanged(tmp_path):
    result = toolverdict(
        "check", cwd=tmp_path, TOOLVERDICT_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY=GOOD_KEY
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
