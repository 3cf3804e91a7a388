"""Lower layers never import upward: the layer table of docs/decisions.md, for every app.

Generic core and page cache at the bottom, then the catalog, then the panel and the
community, then pages, ingest and enrich, then the outputs that nothing imports. An app
imports only apps in lower layers, and within its own layer only along the edges the
docs list. Read from the source, so a lazy import inside a function counts too: the
cycles this test was written against were all such imports, invisible to lint and to
import errors.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import toolverdict

PACKAGE = Path(toolverdict.__file__).parent
DECISIONS = PACKAGE.parents[1] / "docs" / "decisions.md"

# Upward or sideways imports still being removed, each with who removes it. The test
# fails when one disappears, so this list only shrinks; add nothing to it. Empty since the
# last one (community -> panel, "panel vs readers" on the rankings) became a registration
# by the pages (community.trust.provide_panel_shares).
PENDING: dict[tuple[str, str], str] = {}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (relative imports stay in its app)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _table(marker: str) -> list[list[str]]:
    """The body rows of the markdown table between ``<!-- marker`` and ``<!-- /marker``."""
    text = DECISIONS.read_text()
    found = re.search(rf"<!-- {marker}\b.*?-->\n(.*?)<!-- /{marker} -->", text, re.S)
    assert found, f"docs/decisions.md has no {marker} table"
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in found.group(1).splitlines()
        if line.startswith("|")
    ]
    return rows[2:]  # past the header and its rule


def layers() -> dict[str, int]:
    """App label → its layer number, from docs/decisions.md."""
    return {
        app.strip(): int(number) for number, apps, *_ in _table("layers") for app in apps.split(",")
    }


def edges_within_layers() -> set[tuple[str, str]]:
    return {(row[0], row[1]) for row in _table("layer-edges")}


def apps() -> list[str]:
    return sorted(p.parent.name for p in PACKAGE.glob("*/apps.py"))


def app_imports() -> dict[tuple[str, str], set[str]]:
    """(importing app, imported app) → the modules that import it."""
    found: dict[tuple[str, str], set[str]] = {}
    known = set(apps())
    for app in known:
        for path in sorted((PACKAGE / app).rglob("*.py")):
            for name in imported_modules(path):
                parts = name.split(".")
                if parts[0] == "toolverdict" and len(parts) > 1 and parts[1] in known - {app}:
                    found.setdefault((app, parts[1]), set()).add(str(path.relative_to(PACKAGE)))
    return found


def offences(
    imports: dict[tuple[str, str], set[str]], table: dict[str, int], allowed: set[tuple[str, str]]
) -> dict[tuple[str, str], set[str]]:
    """The imports that point up a layer, or sideways without a listed edge."""
    return {
        edge: modules
        for edge, modules in imports.items()
        if table[edge[1]] > table[edge[0]]
        or (table[edge[1]] == table[edge[0]] and edge not in allowed)
    }


def test_every_app_has_a_layer_in_the_docs():
    assert set(apps()) == set(layers())
    assert len(apps()) >= 12  # the walk found the apps


def test_no_app_imports_an_app_of_a_higher_layer_or_an_unlisted_sibling():
    found = offences(app_imports(), layers(), edges_within_layers())
    unexplained = {
        f"{a} -> {b}: {sorted(m)}" for (a, b), m in found.items() if (a, b) not in PENDING
    }
    assert unexplained == set()


def test_the_pending_exceptions_still_exist_so_the_list_only_shrinks():
    found = offences(app_imports(), layers(), edges_within_layers())
    gone = {f"{a} -> {b} ({why})" for (a, b), why in PENDING.items() if (a, b) not in found}
    assert gone == set(), "remove these from PENDING: they are fixed"


def test_the_catalog_imports_only_the_generic_layer():
    table = layers()
    below = {app for app, layer in table.items() if layer < table["catalog"]}
    imported = {b for (a, b) in app_imports() if a == "catalog"}
    pending = {b for (a, b) in PENDING if a == "catalog"}
    assert imported - pending <= below


def test_an_upward_and_a_sideways_import_are_offences_and_a_downward_one_is_not():
    table = {"core": 1, "catalog": 2, "panel": 3, "community": 3, "pages": 4, "ingest": 4}
    imports = {
        ("core", "panel"): {"core/x.py"},
        ("panel", "community"): {"panel/y.py"},
        ("pages", "ingest"): {"pages/z.py"},
        ("pages", "panel"): {"pages/w.py"},
        ("catalog", "core"): {"catalog/v.py"},
    }
    found = offences(imports, table, allowed={("pages", "ingest")})
    assert set(found) == {("core", "panel"), ("panel", "community")}


def test_the_import_reader_sees_lazy_imports_inside_functions(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from toolverdict.panel import services\n")
    assert imported_modules(module) == {"toolverdict.panel"}
