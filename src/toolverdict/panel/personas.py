"""Panel personas as data: each ``data/personas/*.toml`` file is one reviewer lens.

An editor adds or changes a persona by editing a TOML file (or by pointing
``TOOLVERDICT_PERSONAS_DIR`` at a folder of them); the review schema takes its section
fields from the file, so no code changes are needed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

DEFAULT_DIR = Path(__file__).resolve().parent / "data" / "personas"

_Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,29}$")]


class _SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    key: _Key
    question: Annotated[str, StringConstraints(min_length=1, max_length=200)]


#: Signals a rubric may weigh: raised by the computed findings (``findings.py``).
SIGNALS = (
    "cheapest_wide",
    "cheaper",
    "pricier",
    "far_pricier",
    "long_context",
    "short_context",
    "open",
    "closed",
    "tool_use",
    "no_tool_use",
    "api",
    "no_api",
    "free_tier",
    "no_free_tier",
    "missing",
    "dead_sources",
    "unreviewed",
)


class _RubricIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ship_at: int = 1
    min_strength: Annotated[int, Field(ge=0, le=20)] = 3
    weights: dict[str, Annotated[int, Field(ge=-10, le=10)]] = {}

    def model_post_init(self, context: object) -> None:
        unknown = sorted(set(self.weights) - set(SIGNALS))
        if unknown:
            raise ValueError(f"unknown signals {unknown}; known: {', '.join(SIGNALS)}")


class _PersonaIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    order: int = 100
    lens: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    instructions: Annotated[str, StringConstraints(min_length=1, max_length=1200)]
    sections: Annotated[list[_SectionIn], Field(min_length=1, max_length=6)]
    rubric: _RubricIn = _RubricIn()


@dataclass(frozen=True)
class Rubric:
    """How a persona decides: each signal's weight; ship when the sum reaches ``ship_at``;
    no confident verdict when the tool's evidence strength is below ``min_strength``."""

    weights: tuple[tuple[str, int], ...] = ()
    ship_at: int = 1
    min_strength: int = 3

    def weight(self, signal: str) -> int:
        return dict(self.weights).get(signal, 0)


@dataclass(frozen=True)
class Section:
    key: str
    question: str


@dataclass(frozen=True)
class Persona:
    slug: str
    name: str
    order: int
    lens: str
    instructions: str
    sections: tuple[Section, ...]
    rubric: Rubric = Rubric()


class PersonaError(Exception):
    """A persona file is invalid; the message names the file and the field."""


def personas_dir() -> Path:
    configured = settings.TOOLVERDICT_PERSONAS_DIR
    return Path(configured) if configured else DEFAULT_DIR


def load_persona(path: Path) -> Persona:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        data = _PersonaIn.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise PersonaError(f"{path.name}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PersonaError(f"{path.name}: {problems}") from exc
    keys = [s.key for s in data.sections]
    if len(set(keys)) != len(keys):
        raise PersonaError(f"{path.name}: section keys must be unique")
    return Persona(
        slug=data.slug,
        name=data.name,
        order=data.order,
        lens=data.lens,
        instructions=" ".join(data.instructions.split()),
        sections=tuple(Section(s.key, s.question) for s in data.sections),
        rubric=Rubric(
            weights=tuple(sorted(data.rubric.weights.items())),
            ship_at=data.rubric.ship_at,
            min_strength=data.rubric.min_strength,
        ),
    )


def load_personas(directory: Path | None = None) -> list[Persona]:
    """Every persona in the folder, in display order (``order``, then name)."""
    directory = directory or personas_dir()
    personas = [load_persona(p) for p in sorted(directory.glob("*.toml"))]
    slugs = [p.slug for p in personas]
    if len(set(slugs)) != len(slugs):
        raise PersonaError(f"{directory}: two persona files share a slug")
    if not personas:
        raise PersonaError(f"{directory}: no persona files (*.toml)")
    return sorted(personas, key=lambda p: (p.order, p.name))
