"""What else a page depends on: the code and templates of this build, and the settings.

Computed once per process (again when a test changes settings), the same in every process
of one deployment, so ETags agree across gunicorn workers and machines; a deploy that
changes a template, a view or a setting gets new keys and new ETags.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed

from . import registry

PACKAGE = Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".html", ".css", ".js", ".svg", ".txt", ".xml"}


def _files() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*")
        if p.suffix in SUFFIXES and p.is_file() and "__pycache__" not in p.parts
    )


@functools.cache
def _code() -> tuple[str, int]:
    digest = hashlib.sha256()
    newest = 0
    for path in _files():
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
        newest = max(newest, int(path.stat().st_mtime))
    return digest.hexdigest()[:16], newest


@functools.cache
def _settings() -> str:
    # Only the settings the apps declared as changing what pages show (registry.py): a
    # machine-specific setting (paths, threads) must not split the ETags of machines
    # serving one site.
    names = [n for n in dir(settings) if n.isupper() and registry.is_rendering(n)]
    text = "\n".join(f"{n}={getattr(settings, n)!r}" for n in sorted(names))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def salt() -> str:
    extra = settings.TOOLVERDICT_PAGE_CACHE_SALT
    return f"{_code()[0]}:{_settings()}:{extra}"


def code_time() -> int:
    """When this build's newest file was written (the floor of every Last-Modified)."""
    return _code()[1]


def _reset(**kwargs) -> None:
    _settings.cache_clear()


setting_changed.connect(_reset)
