"""Untrusted text made printable: what no output format should carry, removed.

Tool names, taglines and feed names come from editors, makers and feeds. Control and
format characters (NUL, bidi overrides, zero-width joiners) are forbidden by XML 1.0,
cannot be drawn by Pillow and can reorder a line a reader sees; every layer that quotes
such text (browse's error messages, share's images, badges and JSON-LD) drops them here.
"""

from __future__ import annotations

import unicodedata


def plain(text: object, limit: int | None = None) -> str:
    """One line of printable text: control/format characters dropped, whitespace collapsed,
    cut to ``limit`` characters with an ellipsis."""
    chars = []
    for ch in str(text or ""):
        if ch in "\t\n\r\f\v":
            chars.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            chars.append(ch)
    line = " ".join("".join(chars).split())
    if limit is not None and len(line) > limit:
        line = line[: max(0, limit - 1)].rstrip() + "…"
    return line
