"""Untrusted text made fit for places that are not HTML: SVG/XML, images, JSON in a script.

Tool names, taglines and feed names come from editors, makers and feeds. Escaping for the
target format happens where the text is written (``django.utils.html.escape`` for XML,
``json_for_script`` for JSON-LD); this module removes what no format should carry: control
and format characters (NUL, bidi overrides, zero-width joiners), which XML 1.0 forbids,
which Pillow cannot draw and which can reorder a line a reader sees.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

# Inside <script>, "</script>" or "<!--" would end or confuse the element; JSON allows
# these characters escaped, so the data means the same and the markup cannot break out.
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


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


def json_for_script(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (as django's json_script escapes)."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
