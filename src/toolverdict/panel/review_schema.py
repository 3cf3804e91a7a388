"""The review schema: what every model must return, bounded everywhere.

The model is built per dossier and persona: evidence ids are an enum of the dossier's own
ids (so a grammar or a strict structured-output mode can only cite ids that exist) and the
``sections`` object has exactly the persona's section keys. The verdict is decided by the
persona's rubric (``rubric.py``); a model is asked for its own only when
``TOOLVERDICT_PANEL_JUDGE=model``, and then names its reason before its verdict.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from .dossier import Dossier
from .personas import Persona

REASON_MAX = 240
CITES_MAX = 3


def _text(max_length: int) -> Any:
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    ]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


def sections_model(
    dossier: Dossier, persona: Persona, *, strict_ids: bool = True, judge: bool = False
) -> type[BaseModel]:
    """The whole-review reply: one answer (citations, then text) per persona question, and
    with ``judge`` the model's own verdict and reason.

    With ``strict_ids`` (what models are shown) evidence ids are an enum of the dossier's
    ids. Without it (what output is parsed with) any short "E<n>"/"C<n>" string passes, so
    the claim check, not the parser, decides what a wrong citation costs.
    """
    answer = answer_model(dossier, strict_ids=strict_ids)
    sections = create_model(
        "Sections", __base__=_Closed, **{s.key: (answer, ...) for s in persona.sections}
    )
    fields: dict[str, Any] = {"sections": (sections, ...)}
    if judge:
        fields["reason"] = (_text(REASON_MAX), ...)
        fields["verdict"] = (Literal["ship", "skip"], ...)
    return create_model("Review", __base__=_Closed, **fields)


ANSWER_MAX = 240
VERDICT_REASON_MAX = 240


def _evidence_ids(dossier: Dossier, strict_ids: bool) -> Any:
    if strict_ids:
        return StrEnum("EvidenceId", {i: i for i in dossier.ids})
    return Annotated[str, StringConstraints(pattern=r"^[EC]\d{1,3}$")]


def answer_model(dossier: Dossier, *, strict_ids: bool = True) -> type[BaseModel]:
    """One answer to one persona question: citations, then text.

    Citations come first, so the model commits to what the answer rests on before writing
    it. There is no "kind": whether a sentence is sourced, computed or opinion is decided
    by the claim check, not claimed by the model.
    """
    return create_model(
        "Answer",
        __base__=_Closed,
        evidence=(
            Annotated[
                list[_evidence_ids(dossier, strict_ids)],  # type: ignore[misc]
                Field(min_length=0, max_length=CITES_MAX),
            ],
            ...,
        ),
        answer=(_text(ANSWER_MAX), ...),
    )


def verdict_model() -> type[BaseModel]:
    """The closing verdict of a stepwise review: the deciding reason, then the verdict.

    Reason first, unlike the whole review: measured with Qwen2.5-Coder-1.5B, a verdict
    written first followed the wording of the request (whichever of "ship" and "skip" it
    named in a given position won for every tool), while a verdict written after naming
    the deciding point varied with the tool.
    """
    return create_model(
        "Verdict",
        __base__=_Closed,
        reason=(_text(VERDICT_REASON_MAX), ...),
        verdict=(Literal["ship", "skip"], ...),
    )


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            return _inline_refs(copy.deepcopy(target), defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k not in ("title", "$defs")}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A self-contained JSON schema (no $ref, no titles), every property required.

    Grammar builders and strict structured-output modes both want this flat form.
    """
    raw = model.model_json_schema()
    return _inline_refs(raw, raw.get("$defs", {}))
