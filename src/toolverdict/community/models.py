"""Community records: members, the current vote of each account, and the append-only log.

``ToolVote`` and ``PairVote`` hold one current vote per account (per tool, per pair),
enforced by unique constraints; ``VoteEvent`` records every accepted vote, so any figure
can be re-derived and any burst audited after the fact.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from toolverdict.catalog.models import Tool


class Member(models.Model):
    """Community state of one account: confirmed email, and an editor's exclusion."""

    class ExclusionKind(models.TextChoices):
        """Why an editor excluded the votes: the public vote counts group them by this."""

        EDITOR = "editor", "Editor's decision"
        BURST = "burst", "Part of a vote burst"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member"
    )
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    votes_excluded = models.BooleanField(
        default=False, help_text="An editor excluded this account's votes from all figures."
    )
    excluded_reason = models.CharField(max_length=200, blank=True)
    excluded_kind = models.CharField(
        max_length=6,
        choices=ExclusionKind.choices,
        blank=True,
        help_text="The public category of an exclusion (see the How votes count page).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.user.get_username()


class Ballot(models.TextChoices):
    SHIP = "ship", "Ship"
    SKIP = "skip", "Skip"


class ToolVote(models.Model):
    """An account's current ship/skip vote on one tool (changeable, never duplicated)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tool_votes"
    )
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="community_votes")
    value = models.CharField(max_length=4, choices=Ballot.choices)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tool"], name="community_one_vote_per_tool"),
            models.CheckConstraint(
                condition=Q(value__in=["ship", "skip"]), name="community_tool_vote_value"
            ),
        ]
        indexes = [models.Index(fields=["tool", "value"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.value} {self.tool_id}"


class PairVote(models.Model):
    """An account's current answer to "which would you ship with?" for one pair.

    ``tool_a``/``tool_b`` are in canonical order (slugs sorted), so a pair has one row
    per account whichever page order the vote came from.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pair_votes"
    )
    tool_a = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    tool_b = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    winner = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    # Which tool the reader's buttons showed first (the order is randomised per reader);
    # null for votes cast before the order was recorded.
    shown_first = models.ForeignKey(
        Tool, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tool_a", "tool_b"], name="community_one_vote_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(shown_first__isnull=True)
                | Q(shown_first=F("tool_a"))
                | Q(shown_first=F("tool_b")),
                name="community_pair_shown_first_in_pair",
            ),
            models.CheckConstraint(
                condition=~Q(tool_a=F("tool_b")), name="community_pair_distinct"
            ),
            models.CheckConstraint(
                condition=Q(winner=F("tool_a")) | Q(winner=F("tool_b")),
                name="community_pair_winner_in_pair",
            ),
        ]
        indexes = [models.Index(fields=["tool_a", "tool_b"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.tool_a_id}/{self.tool_b_id} -> {self.winner_id}"


class VoteEvent(models.Model):
    """One accepted vote, appended in the same transaction as the vote it records."""

    class Kind(models.TextChoices):
        TOOL = "tool", "Tool ship/skip"
        PAIR = "pair", "Head-to-head"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    # SET_NULL keeps the log when an account is deleted: the event stays countable.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, null=True, related_name="+")
    tool_b = models.ForeignKey(Tool, on_delete=models.CASCADE, null=True, related_name="+")
    value = models.CharField(max_length=60, help_text="ship/skip, or the winner's slug")
    shown_first = models.ForeignKey(
        Tool,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Head-to-head: the tool the reader's buttons showed first",
    )
    ip_hash = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["tool", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.user_id} {self.value}"
