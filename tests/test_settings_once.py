"""Defaults are written once: settings.py defines every TOOLVERDICT_ setting the code
reads, and the code reads ``settings.X`` without a second default of its own
(``getattr(settings, "TOOLVERDICT_…", default)`` would hide a missing definition and let
two defaults drift apart). Read from the source of every module under src/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "toolverdict"
SETTINGS = SRC / "settings.py"

# Modules still reading a TOOLVERDICT_ setting with a default of their own, each owned by
# work in progress elsewhere. The test fails when one is fixed, so this list only
# shrinks; add nothing to it.
PENDING: dict[str, str] = {}


def _is_settings(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return text == "settings" or text.endswith(".settings")


def defaulted_reads(source: str, name: str = "<module>") -> list[int]:
    """Lines of ``getattr(settings, NAME, default)`` where NAME is a TOOLVERDICT_ setting
    or computed (it could be one)."""
    lines = []
    for node in ast.walk(ast.parse(source, name)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 3
            and _is_settings(node.args[0])
        ):
            continue
        key = node.args[1]
        if not isinstance(key, ast.Constant) or str(key.value).startswith("TOOLVERDICT_"):
            lines.append(node.lineno)
    return lines


def settings_read(source: str, name: str = "<module>") -> set[str]:
    """TOOLVERDICT_ settings a module reads: ``settings.X`` and ``getattr(settings, "X")``."""
    names = set()
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Attribute) and _is_settings(node.value):
            names.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and _is_settings(node.args[0])
            and isinstance(node.args[1], ast.Constant)
        ):
            names.add(str(node.args[1].value))
    return {n for n in names if n.startswith("TOOLVERDICT_")}


def defined_settings() -> set[str]:
    names = set()
    for node in ast.parse(SETTINGS.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts and p != SETTINGS]


def test_the_scan_finds_a_second_default_and_every_read():
    source = (
        "a = getattr(settings, 'TOOLVERDICT_A', 1)\n"
        "b = getattr(django.conf.settings, name, None)\n"
        "c = getattr(settings, 'EMAIL_FILE_PATH', 'outbox')\n"  # Django's own: not ours
        "d = settings.TOOLVERDICT_D\n"
        "e = getattr(settings, 'TOOLVERDICT_E')\n"
    )
    assert defaulted_reads(source) == [1, 2]
    assert settings_read(source) == {"TOOLVERDICT_A", "TOOLVERDICT_D", "TOOLVERDICT_E"}


def test_no_module_reads_a_setting_with_a_default_of_its_own():
    found = {}
    for path in modules():
        lines = defaulted_reads(path.read_text(), str(path))
        if lines:
            found[path.relative_to(SRC).as_posix()] = lines
    unexpected = {path: lines for path, lines in found.items() if path not in PENDING}
    assert not unexpected, f"read settings.X; the default belongs in settings.py: {unexpected}"
    fixed = set(PENDING) - set(found)
    assert not fixed, f"fixed, remove from PENDING: {sorted(fixed)}"


def test_every_setting_the_code_reads_is_defined_in_settings_py():
    defined = defined_settings()
    assert {"TOOLVERDICT_CSP", "TOOLVERDICT_WORKER_HEARTBEAT"} <= defined
    missing = {}
    for path in modules():
        for name in settings_read(path.read_text(), str(path)) - defined:
            missing.setdefault(name, []).append(path.relative_to(SRC).as_posix())
    assert not missing, f"not defined in settings.py: {missing}"
