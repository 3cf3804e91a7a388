"""The README's module map (its "Layout" section) cannot go stale: every app is named,
and every module and folder it names exists where it says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "toolverdict"
README = ROOT / "README.md"


def layout() -> dict[str, str]:
    """Each app folder the Layout block names (``""`` for src/toolverdict/ itself), with
    the text of its entry."""
    text = README.read_text()
    block = re.search(r"^## Layout\n+```\n(.*?)\n```", text, re.S | re.M)
    assert block, "README.md has no Layout block"
    entries: dict[str, str] = {}
    current = None
    for line in block.group(1).splitlines():
        top = re.match(r"^(src/toolverdict/|tests/|bench/|docs/|scripts/)\s", line)
        app = re.match(r"^  ([a-z_]+)/\s", line)
        if top:
            current = "" if top.group(1) == "src/toolverdict/" else None
        elif app:
            current = app.group(1)
        if current is not None:
            entries[current] = entries.get(current, "") + " " + line
    return entries


def named_paths(text: str) -> set[str]:
    """Module files (``name.py``) and folders (``name/``) an entry names, besides the app."""
    return set(re.findall(r"(?<![\w/.])([a-z_]+(?:/[a-z_]+)*(?:\.py|/))(?=[\s,;:)]|$)", text))


def apps() -> set[str]:
    return {p.parent.name for p in SRC.glob("*/apps.py")}


def test_the_parser_reads_apps_modules_and_folders():
    assert named_paths(" core/  net.py (x), llm/ (y) and data/personas/*.toml; a.b") == {
        "core/",
        "net.py",
        "llm/",
    }
    assert {"", "core", "panel"} <= set(layout())


def test_every_app_is_in_the_layout():
    missing = apps() - set(layout())
    assert not missing, f"README.md's Layout section does not name: {sorted(missing)}"


def test_every_module_the_layout_names_exists():
    absent = []
    for app, text in layout().items():
        base = SRC / app
        for name in named_paths(text):
            if name == f"{app}/" or name.startswith("src/"):
                continue
            if not (base / name).exists():
                absent.append(f"{app}/{name}" if app else name)
    assert not absent, f"README.md's Layout section names what does not exist: {absent}"
