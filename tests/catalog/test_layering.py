"""The catalog is the bottom of the dependency graph: it imports no other toolverdict app.

The panel, the community, ingestion and the pages all build on the catalog; a catalog
module importing one of them would make a cycle. Read from the source, so a lazy import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import toolverdict.catalog

CATALOG = Path(toolverdict.catalog.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (relative imports stay in the catalog)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_catalog_module_imports_another_toolverdict_app():
    modules = sorted(CATALOG.rglob("*.py"))
    assert len(modules) > 5  # the walk found the catalog's modules
    offenders = {
        f"{path.relative_to(CATALOG)}: {name}"
        for path in modules
        for name in imported_modules(path)
        if name.startswith("toolverdict.") and not name.startswith("toolverdict.catalog")
    }
    assert offenders == set()


def test_the_import_reader_sees_lazy_imports_inside_functions(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from toolverdict.panel import services\n")
    assert imported_modules(module) == {"toolverdict.panel"}
