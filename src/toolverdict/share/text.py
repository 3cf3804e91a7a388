"""Untrusted text made fit for places that are not HTML: SVG/XML, images, JSON in a script.

Tool names, taglines and feed names come from editors, makers and feeds. Escaping for the
target format happens where the text is written (``django.utils.html.escape`` for XML,
``json_for_script`` for JSON-LD); ``plain`` (``core/text.py``, since the browse page below
share quotes with it too) removes what no format should carry: control and format
characters (NUL, bidi overrides, zero-width joiners).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from toolverdict.core.text import plain  # noqa: F401 - share's modules quote it from here

# Inside <script>, "</script>" or "<!--" would end or confuse the element; JSON allows
# these characters escaped, so the data means the same and the markup cannot break out.
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_for_script(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (as django's json_script escapes)."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
