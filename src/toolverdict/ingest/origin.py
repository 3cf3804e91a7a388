"""How a tool entered the catalog, for the disclosure line on its page.

Nothing stores an "origin" field: it is read from the records the ways in already keep.
A tool only ever enters through the catalog importer, and both automatic ways in
(candidates.py, submissions.py) create a new tool (each picks an unused slug) and link
to it:

* an approved maker submission: ``Submission.tool`` (status approved);
* a feed entry imported by the daily ingest: ``Candidate.tool`` (status imported);
* anything else came from an editor: the catalog file import (``toolverdict import``,
  the starter catalog) or the admin, which keep no record telling them apart.

If both links exist (an editor re-pointed a record in the admin) the submission wins: a
maker asked for the listing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from toolverdict.catalog.models import Tool

from .models import Candidate, CandidateStatus, Submission, SubmissionStatus


@dataclass(frozen=True)
class Origin:
    kind: str  # "submission" | "feed" | "editor"
    day: dt.date | None = None  # when it came in (submission or feed entry)
    feed: str = ""  # the feed's name, for "feed"

    @property
    def label(self) -> str:
        return {
            "submission": "maker submission",
            "feed": "feed",
            "editor": "editor",
        }[self.kind]


def tool_origin(tool: Tool) -> Origin:
    """Where ``tool`` came from, in one query."""
    submission = Submission.objects.filter(
        tool=OuterRef("pk"), status=SubmissionStatus.APPROVED
    ).order_by("created_at", "pk")
    candidate = Candidate.objects.filter(
        tool=OuterRef("pk"), status=CandidateStatus.IMPORTED
    ).order_by("created_at", "pk")
    row = (
        Tool.objects.filter(pk=tool.pk)
        .annotate(
            submitted_at=Subquery(submission.values("created_at")[:1]),
            found_at=Subquery(candidate.values("created_at")[:1]),
            feed_name=Subquery(candidate.values("entry__feed__name")[:1]),
        )
        .values("submitted_at", "found_at", "feed_name")
        .first()
    )
    if row and row["submitted_at"]:
        return Origin("submission", day=row["submitted_at"].date())
    if row and row["found_at"]:
        return Origin("feed", day=row["found_at"].date(), feed=row["feed_name"] or "")
    return Origin("editor")
