"""Digest models: subscribers, weekly issues and their sections, per-recipient deliveries.

The rows here carry the sending state machine. Every rule that keeps a recipient from
getting two copies lives in a database constraint or a conditional UPDATE, so it holds
across processes, crashes and restarts (see sending.py and docs/digest.md).
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse


def new_key() -> str:
    return secrets.token_urlsafe(24)


def single_line(value: str) -> None:
    """Reject CR/LF: subjects and headings end up in mail headers and feed titles."""
    if "\r" in value or "\n" in value:
        raise ValidationError("Must be a single line (no line breaks).")


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"

    # Stored normalised (see subscriptions.normalise_email), so one address is one row.
    email = models.EmailField(max_length=254, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # Secret in every unsubscribe link; random rather than derived from SECRET_KEY so a
    # key rotation never breaks the links in mail already delivered.
    unsubscribe_key = models.CharField(max_length=64, unique=True, default=new_key)
    # Changes on every sign-up request and on unsubscribe, so an old confirmation link
    # cannot re-subscribe someone who has since left.
    confirm_nonce = models.CharField(max_length=64, default=new_key)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.email


class DigestSettings(models.Model):
    """Editor-facing switches (one row): when the issue is due and whether it waits."""

    class Weekday(models.IntegerChoices):
        MONDAY = 1, "Monday"
        TUESDAY = 2, "Tuesday"
        WEDNESDAY = 3, "Wednesday"
        THURSDAY = 4, "Thursday"
        FRIDAY = 5, "Friday"
        SATURDAY = 6, "Saturday"
        SUNDAY = 7, "Sunday"

    auto_send = models.BooleanField(
        default=False,
        help_text="Send the composed issue without review. Off: it waits as a draft until "
        "an editor approves it.",
    )
    send_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.THURSDAY
    )
    send_hour_utc = models.PositiveSmallIntegerField(
        default=9, help_text="Hour (UTC, 0-23) from which the week's issue is due."
    )

    class Meta:
        verbose_name = "digest settings"
        verbose_name_plural = "digest settings"

    def __str__(self) -> str:
        return "Digest settings"

    def clean(self) -> None:
        if self.send_hour_utc > 23:
            raise ValidationError({"send_hour_utc": "An hour between 0 and 23."})

    @classmethod
    def load(cls) -> DigestSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class Issue(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (held for review)"
        APPROVED = "approved", "Approved, waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (nothing new)"

    iso_year = models.PositiveSmallIntegerField()
    iso_week = models.PositiveSmallIntegerField()
    subject = models.CharField(max_length=200, validators=[single_line])
    intro = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    send_enqueued_at = models.DateTimeField(null=True, blank=True)
    send_task_id = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The sender running now, claimed with one conditional UPDATE (one sender per issue):
    # the id of its task, "untracked:…" outside any task, empty when none runs.
    # digest/sending.py: claim_issue.
    sender = models.CharField(max_length=64, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-iso_year", "-iso_week"]
        constraints = [
            models.UniqueConstraint(
                fields=["iso_year", "iso_week"], name="digest_issue_one_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("digest:issue", args=[self.iso_year, self.iso_week])

    @property
    def key(self) -> str:
        return f"{self.iso_year}-w{self.iso_week:02d}"

    @property
    def is_editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.APPROVED}


class Section(models.Model):
    class Kind(models.TextChoices):
        HEADLINE = "headline", "Headline comparison"
        COMPARISON = "comparison", "More comparisons"
        TOOL = "tool", "New tool"
        NOTE = "note", "Editor's note"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTE)
    heading = models.CharField(max_length=200, validators=[single_line])
    url = models.CharField(
        max_length=300, blank=True, help_text="Site path (/compare/…) or full https URL."
    )
    ship_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    # Plain text; one paragraph (or, for tools, one persona line) per line. Escaped on
    # output, so nothing typed or composed here can become markup.
    body = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.heading

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.body.splitlines() if line.strip()]


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending (claimed)"
        SENT = "sent", "Sent"
        UNKNOWN = "unknown", "Unknown (sender stopped mid-send)"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no longer subscribed)"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    attempt_id = models.CharField(max_length=64, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "subscriber"], name="digest_delivery_one_per_recipient"
            )
        ]
        indexes = [models.Index(fields=["issue", "status"])]

    def __str__(self) -> str:
        return f"{self.issue.key} → {self.subscriber_id}: {self.status}"
