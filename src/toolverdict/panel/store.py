"""The store stage: one review and its checked sentences, written all or nothing.

``is_current`` moves in the same transaction that writes the review, so a page never sees a
tool with two current reviews or a half-written one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from toolverdict.catalog.models import Tool

from .dossier import Dossier
from .llm import ReviewModel
from .models import Claim, Review
from .personas import Persona
from .prompts import prompt_version


def store_review(
    tool: Tool,
    persona: Persona,
    model: ReviewModel,
    dossier: Dossier,
    fields: dict[str, Any],
    claims: list[dict[str, Any]],
) -> Review:
    """Write one review and its claims and make it current, all or nothing."""
    fields = dict(fields)
    style = fields.pop("style")
    key = {
        "tool": tool,
        "persona": persona.slug,
        "model_id": model.model_id,
        "prompt_version": prompt_version(persona, style),
        "dossier_hash": dossier.hash,
    }
    with transaction.atomic():
        Review.objects.filter(tool=tool, persona=persona.slug, is_current=True).exclude(
            **{k: v for k, v in key.items() if k not in ("tool", "persona")}
        ).update(is_current=False)
        review, _ = Review.objects.update_or_create(
            **key,
            defaults={
                **fields,
                "persona_name": persona.name,
                "persona_order": persona.order,
                "is_local_draft": model.is_local_draft,
                "is_current": True,
            },
        )
        review.claims.all().delete()
        Claim.objects.bulk_create(
            Claim(review=review, position=i, **c) for i, c in enumerate(claims)
        )
    return review


def make_current(review: Review) -> None:
    """Show this stored review again (its inputs are back), hiding the tool's other one."""
    with transaction.atomic():
        Review.objects.filter(
            tool_id=review.tool_id, persona=review.persona, is_current=True
        ).exclude(pk=review.pk).update(is_current=False)
        if not review.is_current:
            review.is_current = True
            review.save(update_fields=["is_current", "updated_at"])
