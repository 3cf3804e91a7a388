"""What happens to tools that arrive by feed or submission before the panel sees them.

An app above the ingest registers a handler from its own ``ready()`` (the enrichment reads
each tool's own pages for its prices and licence); the ingest calls every handler and names
no app, so the layers never point up. A handler returns a note for the run record and must
not raise: a tool goes on with what it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Handler = Callable[[Sequence[int]], str]

_handlers: dict[str, Handler] = {}


def on_arrival(name: str, handler: Handler) -> None:
    """Call ``handler(tool_ids)`` for every batch of arriving tools (once per name)."""
    _handlers[name] = handler


def arrived(tool_ids: Sequence[int]) -> str:
    """Run every registered handler over the new tools; their notes, joined."""
    if not tool_ids:
        return ""
    notes = [handler(tool_ids) for handler in _handlers.values()]
    return "; ".join(note for note in notes if note)
