"""What apps above the reading pages add to them (share tags, JSON-LD, badges).

The pages sit below the outputs (docs/decisions.md, layers), so they never import share;
share registers one function per page from its own code (``share/page_extras.py``), and the
page merges what each returns into its template context. Without share installed the
page simply has no share tags.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Contributor = Callable[..., dict[str, Any]]

_contributors: dict[str, list[Contributor]] = {}


def contributes(page: str) -> Callable[[Contributor], Contributor]:
    """Decorator: ``fn(**what the page passes)`` adds its dict to ``page``'s context."""

    def register(fn: Contributor) -> Contributor:
        found = _contributors.setdefault(page, [])
        if fn not in found:
            found.append(fn)
        return fn

    return register


def extra_context(page_name: str, /, **kwargs: Any) -> dict[str, Any]:
    """Everything the registered apps add to the page ``page_name``, given what it knows."""
    context: dict[str, Any] = {}
    for fn in _contributors.get(page_name, []):
        context.update(fn(**kwargs))
    return context
