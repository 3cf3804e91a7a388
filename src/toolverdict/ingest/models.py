"""Ingestion records: feeds and their entries, candidate tools, maker submissions, and the
daily pipeline's run record with the comparisons it chose.

Everything here is bookkeeping around the catalog: a tool only ever enters the catalog
through ``toolverdict.catalog.importer`` (see candidates.py and submissions.py), so these
tables say where a tool came from and what the pipeline did with it, never what the tool is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from toolverdict.catalog.models import Category, Pricing, Tool


class Feed(models.Model):
    """An RSS, Atom or JSON Feed of launches that an editor registered."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, unique=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Category given to the tools this feed announces.",
    )
    # A hint for the editor, never a fact: the feed's tools enter with pricing "unknown"
    # until their own pages (enrich/) or an editor state it.
    pricing = models.CharField(
        "pricing hint",
        max_length=20,
        choices=Pricing.choices,
        default=Pricing.UNKNOWN,
        help_text="What this feed's tools usually cost, shown to editors as a hint. New tools "
        "start with pricing unknown until their own pages or an editor state it.",
    )
    vendor = models.CharField(
        max_length=80,
        blank=True,
        help_text="Vendor of every entry (a vendor's own blog); blank: the entry's author "
        "or the homepage's domain.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CandidateStatus(models.TextChoices):
    NEW = "new", "New"
    DUPLICATE = "duplicate", "Duplicate"
    IMPORTED = "imported", "Imported"
    INVALID = "invalid", "Invalid"


class Candidate(models.Model):
    """A tool a feed announced, before (or instead of) it becomes a catalog tool."""

    name = models.CharField(max_length=80)
    name_key = models.CharField(max_length=80, db_index=True)
    # As long as a feed entry's link: one too long for the catalog is kept, marked invalid.
    homepage = models.URLField(max_length=500)
    homepage_key = models.CharField(max_length=500, db_index=True)
    vendor = models.CharField(max_length=80)
    tagline = models.CharField(max_length=140)
    description = models.TextField(max_length=1500, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    pricing = models.CharField(max_length=20, choices=Pricing.choices)
    source_url = models.URLField(max_length=500)
    status = models.CharField(
        max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.NEW
    )
    # Why it was not imported: "homepage", "name", "similar" (embedding) with the tool or
    # earlier candidate it matched.
    duplicate_reason = models.CharField(max_length=20, blank=True)
    duplicate_of = models.ForeignKey(
        Tool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate_of_candidate = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    similarity = models.FloatField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)
    tool = models.ForeignKey(
        Tool, null=True, blank=True, on_delete=models.SET_NULL, related_name="ingest_candidates"
    )
    run = models.ForeignKey(
        "PipelineRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates"
    )
    # The feed entry it came from (one candidate per entry).
    entry = models.OneToOneField(
        "FeedEntry", null=True, blank=True, on_delete=models.CASCADE, related_name="candidate"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class FeedEntry(models.Model):
    """One entry of one feed, kept so that an entry is only ever ingested once."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="entries")
    guid = models.CharField(max_length=500)
    title = models.CharField(max_length=300)
    link = models.URLField(max_length=500, blank=True)
    summary = models.TextField(blank=True)
    published = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey(
        "PipelineRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )

    class Meta:
        ordering = ["-seen_at", "-pk"]
        verbose_name_plural = "feed entries"
        constraints = [
            models.UniqueConstraint(fields=["feed", "guid"], name="ingest_entry_unique_per_feed")
        ]

    def __str__(self) -> str:
        return self.title


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for moderation"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Submission(models.Model):
    """A maker's submitted tool, waiting in the moderation queue. All text is untrusted."""

    name = models.CharField(max_length=80)
    vendor = models.CharField(max_length=80)
    homepage = models.URLField(max_length=300)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    pricing = models.CharField(max_length=20, choices=Pricing.choices)
    tagline = models.CharField(max_length=140)
    description = models.TextField(max_length=1500, blank=True)
    # [{"key": ..., "value": ..., "source": ...}], validated by the catalog schema.
    facts = models.JSONField(default=list, blank=True)
    contact_email = models.EmailField(blank=True)
    # A keyed hash of the submitter's address: enough to spot abuse, no raw IPs stored.
    client_hash = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=20, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_note = models.CharField(max_length=500, blank=True)
    tool = models.ForeignKey(
        Tool, null=True, blank=True, on_delete=models.SET_NULL, related_name="ingest_submissions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PipelineRun(models.Model):
    """The daily pipeline's record for one day: what came in, what was done, what failed."""

    day = models.DateField(unique=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField(max_length=20, blank=True, help_text="Last stage completed.")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Who runs (or last ran) it: the id of its task, "untracked:…" outside any task
    # (ingest/pipeline.py: claim_run).
    runner = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    feeds_read = models.PositiveIntegerField(default=0)
    entries_in = models.PositiveIntegerField(default=0)
    new_entries = models.PositiveIntegerField(default=0)
    new_candidates = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    reviewed = models.PositiveIntegerField(default=0)
    published = models.PositiveIntegerField(default=0)
    panel_note = models.CharField(max_length=500, blank=True)
    # {feed name: error message}, one entry per failed feed.
    feed_errors = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"pipeline {self.day.isoformat()} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("ingest:run", args=[self.day.isoformat()])


class DailyComparison(models.Model):
    """The "A vs B" page chosen for a new tool on a given day (its most similar rival)."""

    day = models.DateField()
    run = models.ForeignKey(
        PipelineRun, null=True, blank=True, on_delete=models.CASCADE, related_name="comparisons"
    )
    # "pipeline" (a feed's new tool) or "submission" (chosen when an editor approved it).
    source = models.CharField(max_length=20, default="pipeline")
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    rival = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField()
    # Canonical order (slugs sorted): the compare page's URL arguments.
    left_slug = models.SlugField(max_length=60)
    right_slug = models.SlugField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["day", "tool"], name="ingest_one_comparison_per_tool")
        ]

    def __str__(self) -> str:
        return f"{self.left_slug} vs {self.right_slug}"

    def get_absolute_url(self) -> str:
        return reverse("compare:pair", args=[self.left_slug, self.right_slug])
