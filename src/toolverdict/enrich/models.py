"""What enrichment keeps besides the facts and price points it adds to the catalog: each
tool's last enrichment (pages fetched and what each fetch found), the price changes a
re-fetch found, and the values editors rejected (so a re-fetch does not bring them back).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from toolverdict.catalog.models import Tool


class Enrichment(models.Model):
    """The latest enrichment of one tool."""

    class Outcome(models.TextChoices):
        EXTRACTED = "extracted", "Values extracted"
        NOTHING = "nothing", "Pages read, nothing extracted"
        UNREACHABLE = "unreachable", "Homepage not read"

    tool = models.OneToOneField(Tool, on_delete=models.CASCADE, related_name="enrichment")
    ran_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    # [{"url", "final_url", "outcome", "status", "fetched_at", "detail"}] per page requested.
    pages = models.JSONField(default=list, blank=True)
    # What the extraction set aside: contradictions, lines addressed to a model, …
    notes = models.JSONField(default=list, blank=True)
    values = models.PositiveSmallIntegerField(default=0)
    # Set while a run of the batch task enriches this tool: which run (its task id,
    # core.recovery.holder_id) and since when (core's long-job pattern, enrich/periodic.py).
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ran_at"], name="enrich_ran_at_idx")]

    def __str__(self) -> str:
        return f"{self.tool}: {self.outcome or 'never run'}"


class PriceChange(models.Model):
    """A re-fetch found a plan at another price than the one read (or accepted) before."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="price_changes")
    tier = models.CharField(max_length=60)
    unit = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    billing_period = models.CharField(max_length=10, blank=True)
    old_amount = models.DecimalField(max_digits=12, decimal_places=4)
    new_amount = models.DecimalField(max_digits=12, decimal_places=4)
    source_url = models.URLField(max_length=500)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["-fetched_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.tool} {self.tier}: {self.old_amount} → {self.new_amount} {self.currency}"


class Rejection(models.Model):
    """An extracted value an editor rejected: the same value is not extracted again."""

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)  # "price" or a fact key
    value = models.CharField(max_length=300)  # the fact's value, or a price's signature
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tool", "key", "value"], name="enrich_rejection_once")
        ]

    def __str__(self) -> str:
        return f"{self.tool}: {self.key} {self.value} (rejected)"


class HostSlot(models.Model):
    """When the next request to one host may start, shared by every process that enriches
    (enrich/pace.py): the per-host pace holds across workers and machines, not only within
    one fetcher."""

    origin = models.CharField(max_length=300, unique=True)  # scheme://host[:port], lower case
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.origin}: next request at {self.next_at:%Y-%m-%d %H:%M:%S}"
