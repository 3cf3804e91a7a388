"""Maker submissions: the moderation page's duplicate hints, approval into the catalog
(through the catalog schema, like any import) and rejection.

The submission form's rate limit is core/ratelimit.py's ``authorize_submission``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from toolverdict.catalog.file_format import ToolIn
from toolverdict.catalog.importer import upsert_tool
from toolverdict.catalog.models import Category, Tool
from toolverdict.catalog.signals import tools_changed

from . import dedupe
from .candidates import known_index
from .models import DailyComparison, Submission, SubmissionStatus
from .naming import pydantic_errors, unique_slug
from .publishing import choose_comparison, enrich, review

log = logging.getLogger(__name__)


def submission_tool_in(submission: Submission, slug: str) -> ToolIn:
    """The catalog schema's input for a submission (raises pydantic's ValidationError)."""
    # The maker's statements, as of the day they were submitted (not a check of the source).
    as_of = (submission.created_at or timezone.now()).date()
    return ToolIn.model_validate(
        {
            "slug": slug,
            "name": submission.name,
            "vendor": submission.vendor,
            "category": submission.category.slug,
            "tagline": submission.tagline,
            "description": submission.description,
            "homepage": submission.homepage,
            "pricing": submission.pricing,
            "facts": [{**fact, "as_of": as_of} for fact in submission.facts],
        }
    )


def possible_duplicates(submissions: Sequence[Submission]) -> dict[int, Tool]:
    """For the moderation page: the catalog tool each submission may repeat."""
    if not submissions:
        return {}
    # A web request: the n-gram embedder (numpy only), never a model load in the web process.
    index = known_index(dedupe.NgramEmbedder())
    items = [dedupe.Item(s.pk, s.name, s.homepage, f"{s.name}. {s.tagline}") for s in submissions]
    matches = dedupe.find_duplicates(items, index)
    ids = {m.known for m in matches if m and m.known is not None}
    tools = Tool.objects.in_bulk(ids)
    return {
        s.pk: tools[m.known]
        for s, m in zip(submissions, matches, strict=True)
        if m and m.known in tools
    }


class ModerationError(Exception):
    """The submission cannot be approved as it stands; the message says why."""


def approve_submission(submission: Submission, moderator: Any) -> Tool:
    """Put a pending submission into the catalog (published) and queue its panel review
    and comparison. The tool goes through the catalog schema like any import."""
    from .tasks import follow_up_tool

    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != SubmissionStatus.PENDING:
            raise ModerationError(f"already {locked.get_status_display().lower()}")
        try:
            item = submission_tool_in(locked, unique_slug(locked.name))
        except ValidationError as exc:
            raise ModerationError("; ".join(pydantic_errors(exc))) from exc
        categories = {c.slug: c for c in Category.objects.filter(pk=locked.category_id)}
        tool, _ = upsert_tool(item, categories)
        locked.status = SubmissionStatus.APPROVED
        locked.tool = tool
        locked.moderator = moderator
        locked.moderated_at = timezone.now()
        locked.save()
        tool_ids = [tool.pk]
        transaction.on_commit(
            lambda: tools_changed.send(sender=Tool, tool_ids=tool_ids, reason="submission")
        )
        transaction.on_commit(lambda: _enqueue_follow_up(follow_up_tool, tool.pk))
    submission.refresh_from_db()
    return tool


def _enqueue_follow_up(task: Any, tool_id: int) -> None:
    try:
        task.enqueue(tool_id)
    except Exception:  # noqa: BLE001 - the approval has committed; the daily run reviews it
        log.exception("could not queue the follow-up of tool %s", tool_id)


def reject_submission(submission: Submission, moderator: Any, note: str = "") -> None:
    with transaction.atomic():
        updated = Submission.objects.filter(
            pk=submission.pk, status=SubmissionStatus.PENDING
        ).update(
            status=SubmissionStatus.REJECTED,
            moderator=moderator,
            moderated_at=timezone.now(),
            moderation_note=note[:500],
        )
    if not updated:
        raise ModerationError("only a pending submission can be rejected")
    submission.refresh_from_db()


def follow_up(tool_id: int, model: Any = None) -> tuple[int, str, list[DailyComparison]]:
    """After an approval: the tool's own pages are read (enrich/), the panel reviews it,
    then it gets its comparison."""
    enriched = enrich([tool_id])
    reviewed, note = review([tool_id], model=model)
    note = "; ".join(part for part in (enriched, note) if part)
    made = choose_comparison([tool_id], timezone.now().date(), source="submission")
    return reviewed, note, made
