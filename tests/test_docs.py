"""The documentation stays true: every environment variable the code reads is in
docs/configuration.md, and the CLI reference there is the real `--help` output."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "toolverdict"
CONFIGURATION = ROOT / "docs" / "configuration.md"

# django-environ's readers: env.int("NAME", …) and the like.
_ENVIRON_METHODS = {
    "str", "bool", "int", "float", "list", "tuple", "dict", "json", "url", "path",
    "db_url", "cache_url", "email_url", "search_url",
}  # fmt: skip


def _callee(node: ast.Call) -> tuple[str, str]:
    """(object, name) of a call: ("env", "int") for env.int(…), ("", "env") for env(…)."""
    func = node.func
    if isinstance(func, ast.Name):
        return "", func.id
    if isinstance(func, ast.Attribute):
        return ast.unparse(func.value), func.attr
    return "", ""


def environment_variables(path: Path) -> set[str]:
    """Names of the environment variables a module reads: env(…), env.int(…), …,
    os.environ.get(…), os.getenv(…), and the settings helpers that fall back to the
    environment."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        owner, name = _callee(node)
        reads_env = (
            (owner == "" and name in {"env", "_setting", "_renamed"})
            or (owner == "env" and name in _ENVIRON_METHODS)
            or (owner in {"os.environ", "environ"} and name == "get")
            or (owner == "os" and name == "getenv")
        )
        if reads_env and re.fullmatch(r"[A-Z][A-Z0-9_]+", first.value):
            names.add(first.value)
    return names


def all_environment_variables() -> set[str]:
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "migrations" not in path.parts:
            names |= environment_variables(path)
    return names


def documented_variables() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", CONFIGURATION.read_text()))


def test_the_scan_finds_variables_in_every_form(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        'A = env("ONE", default="")\nB = env.int("TWO", default=1)\n'
        'C = os.environ.get("THREE")\nD = _setting("FOUR", 1)\nE = env(_renamed("FIVE"))\n'
        'F = settings.get("not_a_variable")\nG = env.get("A_DICT_KEY")\n'
    )
    assert environment_variables(module) == {"ONE", "TWO", "THREE", "FOUR", "FIVE"}


def test_the_scan_sees_the_settings_module():
    found = all_environment_variables()
    assert {"DATABASE_URL", "TOOLVERDICT_PANEL_MODEL", "TOOLVERDICT_WORKER_HEARTBEAT"} <= found


@pytest.mark.parametrize("name", sorted(all_environment_variables()))
def test_every_environment_variable_is_documented(name):
    assert name in documented_variables(), f"{name} is missing from docs/configuration.md"


def test_every_old_variable_name_is_documented_with_its_new_one():
    from toolverdict.settings import RENAMED_ENV

    text = CONFIGURATION.read_text()
    for new, old in RENAMED_ENV.items():
        assert re.search(rf"`{old}`.*`{new}`|`{new}`.*`{old}`", text), (old, new)


def test_the_cli_reference_is_the_real_help_output(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    # A default read from the environment must not leak into the reference.
    env.update(
        {
            "PYTHONPATH": str(ROOT / "src"),
            "TOOLVERDICT_DATA_DIR": str(tmp_path),
            "TOOLVERDICT_SCHEDULER_INTERVAL": "7",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(ROOT / "docs" / "cli.md")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        "docs/cli.md is out of date: run `PYTHONPATH=src cog -r docs/cli.md`\n"
        + result.stdout
        + result.stderr
    )


def test_the_cli_reference_lists_every_toolverdict_command():
    from toolverdict.core.clidoc import COMMANDS

    commands = {
        path.stem
        for path in SRC.glob("*/management/commands/*.py")
        if not path.stem.startswith("_")
    }
    assert commands == set(COMMANDS)
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in COMMANDS:
        assert f"## toolverdict {command.replace('_', '-')}\n" in text
