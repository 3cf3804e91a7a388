"""Licence statements to SPDX identifiers (https://spdx.org/licenses/).

Only a statement that is about a licence counts: a full licence name ("Apache License,
Version 2.0"), a name next to the word licence ("MIT-licensed", "released under the MIT
license", "License: Apache-2.0"), an ``SPDX-License-Identifier`` line, the first words of
a licence's own text, or a schema.org ``license`` value. "MIT researchers" is not one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SPDX id -> names and spellings seen on pages (matched case-insensitively, whole words).
LICENCES: dict[str, tuple[str, ...]] = {
    "MIT": ("MIT", "Expat"),
    "Apache-2.0": (
        "Apache-2.0",
        "Apache 2.0",
        "Apache 2",
        "Apache License 2.0",
        "Apache v2",
        "Apache License, Version 2.0",
        "Apache License Version 2.0",
        "ASL 2.0",
    ),
    "BSD-2-Clause": ("BSD-2-Clause", "2-clause BSD", "BSD 2-Clause", "Simplified BSD"),
    "BSD-3-Clause": ("BSD-3-Clause", "3-clause BSD", "BSD 3-Clause", "New BSD", "Modified BSD"),
    "GPL-2.0-only": (
        "GPL-2.0",
        "GPL-2.0-only",
        "GPLv2",
        "GPL v2",
        "GNU GPL v2",
        "GNU General Public License v2",
        "GNU General Public License version 2",
    ),
    "GPL-3.0-only": (
        "GPL-3.0",
        "GPL-3.0-only",
        "GPLv3",
        "GPL v3",
        "GNU GPL v3",
        "GNU General Public License v3",
        "GNU General Public License version 3",
    ),
    "GPL-3.0-or-later": ("GPL-3.0-or-later", "GPL-3.0+", "GPLv3+"),
    "LGPL-3.0-only": (
        "LGPL-3.0",
        "LGPL-3.0-only",
        "LGPLv3",
        "GNU Lesser General Public License v3",
    ),
    "AGPL-3.0-only": (
        "AGPL-3.0",
        "AGPL-3.0-only",
        "AGPLv3",
        "AGPL v3",
        "GNU AGPL v3",
        "GNU Affero General Public License v3",
        "GNU Affero General Public License version 3",
        "GNU Affero General Public License",
    ),
    "MPL-2.0": (
        "MPL-2.0",
        "MPL 2.0",
        "Mozilla Public License 2.0",
        "Mozilla Public License, version 2.0",
        "Mozilla Public License Version 2.0",
    ),
    "ISC": ("ISC",),
    "Unlicense": ("Unlicense", "The Unlicense"),
    "CC0-1.0": ("CC0-1.0", "CC0 1.0", "CC0"),
    "CC-BY-4.0": ("CC-BY-4.0", "CC BY 4.0", "Creative Commons Attribution 4.0"),
    "CC-BY-SA-4.0": ("CC-BY-SA-4.0", "CC BY-SA 4.0", "Creative Commons Attribution-ShareAlike 4.0"),
    "CC-BY-NC-4.0": (
        "CC-BY-NC-4.0",
        "CC BY-NC 4.0",
        "Creative Commons Attribution-NonCommercial 4.0",
    ),
    "CC-BY-NC-SA-4.0": ("CC-BY-NC-SA-4.0", "CC BY-NC-SA 4.0"),
    "BUSL-1.1": (
        "BUSL-1.1",
        "BSL-1.1",
        "BSL 1.1",
        "Business Source License 1.1",
        "Business Source License",
    ),
    "Elastic-2.0": ("Elastic-2.0", "Elastic License 2.0", "ELv2"),
    "SSPL-1.0": ("SSPL-1.0", "SSPL", "Server Side Public License"),
    "CreativeML-OpenRAIL-M": ("CreativeML-OpenRAIL-M", "CreativeML OpenRAIL-M"),
}
# Names that are a licence statement by themselves (no "licence" word needed nearby).
_SELF_EVIDENT = {
    "Apache License, Version 2.0",
    "Apache License Version 2.0",
    "Apache License 2.0",
    "GNU General Public License v2",
    "GNU General Public License version 2",
    "GNU General Public License v3",
    "GNU General Public License version 3",
    "GNU Lesser General Public License v3",
    "GNU Affero General Public License v3",
    "GNU Affero General Public License version 3",
    "GNU Affero General Public License",
    "Mozilla Public License 2.0",
    "Mozilla Public License, version 2.0",
    "Mozilla Public License Version 2.0",
    "Business Source License 1.1",
    "Business Source License",
    "Elastic License 2.0",
    "Server Side Public License",
    "Creative Commons Attribution 4.0",
    "Creative Commons Attribution-ShareAlike 4.0",
    "Creative Commons Attribution-NonCommercial 4.0",
    "The Unlicense",
}
# The opening words of licence texts themselves.
_TEXT_OPENINGS = {
    "MIT": "permission is hereby granted, free of charge, to any person obtaining a copy",
    "Apache-2.0": "licensed under the apache license, version 2.0",
    "BSD-3-Clause": "neither the name of the copyright holder nor the names of its contributors",
}

_ALIASES: list[tuple[str, str]] = sorted(
    ((alias, spdx) for spdx, aliases in LICENCES.items() for alias in aliases),
    key=lambda pair: -len(pair[0]),
)
_LICENCE_WORD = re.compile(r"licen[cs](e|ed|ing)", re.I)
_SPDX_LINE = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)")


@dataclass(frozen=True)
class LicenceMatch:
    spdx: str
    evidence: str  # the line (or structured value) the match was read in


def _alias_pattern(alias: str) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w-])"
        + re.escape(alias).replace(r"\ ", r"[\s-]")
        + r"(?![\w]|-(?!licen[cs]ed)|\.\d)",
        re.I,
    )


_PATTERNS = [(re.compile(_alias_pattern(a).pattern, re.I), a, s) for a, s in _ALIASES]


def spdx_for_name(name: str) -> str | None:
    """The SPDX id for a licence name or id given on its own (a schema.org ``license``)."""
    text = name.strip()
    if not text or len(text) > 200:
        return None
    tail = text.rstrip("/").rsplit("/", 1)[-1] if "://" in text else text
    for candidate in (text, tail):
        for pattern, _alias, spdx in _PATTERNS:
            match = pattern.search(candidate)
            if match and len(candidate) <= len(match.group(0)) + 12:
                return spdx
    return None


def licences_in_line(line: str) -> list[LicenceMatch]:
    """Every licence a line states (usually zero or one)."""
    found: dict[str, LicenceMatch] = {}
    spdx_line = _SPDX_LINE.search(line)
    if spdx_line and spdx_line.group(1) in LICENCES:
        found[spdx_line.group(1)] = LicenceMatch(spdx_line.group(1), line)
    lowered = line.lower()
    for spdx, opening in _TEXT_OPENINGS.items():
        if opening in lowered:
            found.setdefault(spdx, LicenceMatch(spdx, line))
    taken: list[tuple[int, int]] = []
    for pattern, alias, spdx in _PATTERNS:
        for match in pattern.finditer(line):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue  # part of a longer name already matched ("GPL v3" in "AGPL v3")
            near = line[max(0, start - 40) : end + 40]
            if alias in _SELF_EVIDENT or _LICENCE_WORD.search(near):
                taken.append((start, end))
                found.setdefault(spdx, LicenceMatch(spdx, line))
    return list(found.values())
