"""Every page is cached or left out on purpose, and every setting a page reads is declared.

The page cache keeps no list of anyone's pages or settings: the apps declare them
(pagecache/registry.py). These tests are what stops a new page from going silently
uncached, and a new setting from leaving stored pages with the old text.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

import toolverdict
from toolverdict.pagecache import build, registry

PACKAGE = Path(toolverdict.__file__).parent
SETTING = re.compile(r"\bTOOLVERDICT_[A-Z0-9_]*[A-Z0-9]\b")


def url_patterns() -> Iterator[tuple[str, str | None, str, URLPattern, list[str]]]:
    """(route, URL name with namespaces, namespace, pattern, urlconf modules above it)."""

    def walk(patterns, prefix: str, namespace: str, confs: list[str]):
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = namespace + (f"{p.namespace}:" if p.namespace else "")
                conf = p.urlconf_name
                name = conf if isinstance(conf, str) else getattr(conf, "__name__", None)
                yield from walk(
                    p.url_patterns, prefix + str(p.pattern), inner, confs + [name] * bool(name)
                )
            else:
                name = f"{namespace}{p.name}" if p.name else None
                yield prefix + str(p.pattern), name, namespace, p, confs

    yield from walk(get_resolver().url_patterns, "", "", [get_resolver().urlconf_name])


def unmarked_urls() -> set[str]:
    """URLs neither cached nor declared uncached (by name or by namespace)."""
    found = set()
    for route, name, namespace, _, _ in url_patterns():
        if name is not None and (registry.page(name) or registry.uncached_reason(name)):
            continue
        if name is None and namespace and registry.uncached_reason(f"{namespace}x"):
            continue  # an unnamed URL inside a namespace left out as a whole (the admin)
        found.add(f"/{route} ({name or 'unnamed'})")
    return found


def test_every_url_is_cached_or_left_out_on_purpose():
    assert len(list(url_patterns())) > 40  # the walk found the site's URLs
    assert unmarked_urls() == set()


def test_every_declared_page_is_a_url_and_none_is_both_cached_and_not():
    names = {name for _, name, _, _, _ in url_patterns() if name}
    declared = set(registry.pages())
    assert declared - names == set()  # a typo in a declaration would cache nothing
    assert {n for n in declared if registry.uncached_reason(n)} == set()
    assert {"catalog:tool", "compare:pair", "api:list_tools", "digest:feed"} <= declared


def test_a_page_whose_declaration_is_missing_is_found(monkeypatch):
    pages = registry.pages()
    del pages["catalog:tool"]
    monkeypatch.setattr(registry, "_pages", pages)
    assert unmarked_urls() == {"/tools/<slug:slug>/ (catalog:tool)"}


# --- settings -------------------------------------------------------------------------


def _module_path(name: str) -> Path | None:
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                package = ".".join(
                    path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                )
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("toolverdict.")}


def page_modules() -> set[Path]:
    """The cached views' modules and what they import from toolverdict directly.

    A django-ninja operation or a Feed instance is not a function of ours, so the urlconf
    that mounts a cached page counts as a view module too (api/urls.py → endpoints).
    """
    roots: set[str] = set()
    for _, name, _, pattern, confs in url_patterns():
        if name and registry.page(name):
            roots.add(getattr(pattern.callback, "__module__", "") or "")
            roots.update(confs)
    paths = {p for p in map(_module_path, (r for r in roots if r.startswith("toolverdict."))) if p}
    for _ in range(2):  # the views' helpers, and the urlconfs' views' helpers
        paths |= {p for n in set().union(*map(_imports, paths)) if (p := _module_path(n))}
    return {p for p in paths if p.suffix == ".py"}


def settings_read_by_pages() -> dict[str, set[str]]:
    """Each TOOLVERDICT_* setting named in a template, the context processor or a cached
    view's modules → where."""
    sources = {
        *PACKAGE.rglob("*.html"),
        PACKAGE / "context_processors.py",
        *page_modules(),
    }
    found: dict[str, set[str]] = {}
    for path in sources:
        for name in SETTING.findall(path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(PACKAGE)))
    return found


def undeclared_settings() -> dict[str, set[str]]:
    return {n: w for n, w in settings_read_by_pages().items() if not registry.is_declared(n)}


def test_every_setting_a_page_reads_is_declared_as_changing_pages_or_not():
    read = settings_read_by_pages()
    assert "TOOLVERDICT_SOURCES_STALE_DAYS" in read  # the walk reaches the views' helpers
    assert undeclared_settings() == {}


def test_a_setting_whose_declaration_is_missing_is_found(monkeypatch):
    rendering = {k: v for k, v in registry._rendering.items() if k != "TOOLVERDICT_EXPORT_LICENSE"}
    monkeypatch.setattr(registry, "_rendering", rendering)
    assert set(undeclared_settings()) == {"TOOLVERDICT_EXPORT_LICENSE"}


@pytest.mark.parametrize(
    "name",
    [
        "TOOLVERDICT_SOURCES_STALE_DAYS",
        "TOOLVERDICT_EXPORT_LICENSE",
        "TOOLVERDICT_COMMUNITY_MIN_VOTES",
        "SITE_URL",
    ],
)
def test_a_declared_setting_changes_every_page_key(settings, name):
    before = build.salt()
    setattr(settings, name, "something else")
    assert build.salt() != before


def test_a_machine_setting_changes_no_page_key(settings, tmp_path):
    before = build.salt()
    settings.TOOLVERDICT_EXPORT_DIR = tmp_path
    assert build.salt() == before
