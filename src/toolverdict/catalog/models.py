"""Catalog models: what a tool is, what it costs, and the sourced facts about it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

# The same rule as the import schema (catalog/file_format.py), so admin forms cannot save a slug
# that the comparison URLs cannot route.
slug_format = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Use lowercase letters, digits and single hyphens."
)


def no_vs(value: str) -> None:
    if "-vs-" in value or value.startswith("vs-") or value.endswith("-vs") or value == "vs":
        raise ValidationError("'-vs-' is reserved for comparison URLs.")


class Category(models.Model):
    slug = models.SlugField(max_length=60, unique=True, validators=[slug_format])
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", args=[self.slug])


class Pricing(models.TextChoices):
    FREE = "free", "Free"
    FREEMIUM = "freemium", "Freemium"
    PAID = "paid", "Paid"
    OPEN_WEIGHTS = "open-weights", "Open weights"
    # Nobody has stated it yet (a new tool from a feed, a file that leaves it out): shown as
    # unknown everywhere, never guessed.
    UNKNOWN = "unknown", "Unknown"


class Origin(models.TextChoices):
    """Who stated a fact or a price: an editor (catalog file, admin, an approved submission,
    an accepted extraction) or a program reading the tool's own page."""

    EDITOR = "editor", "Editor"
    EXTRACTED = "extracted", "Extracted from the tool's own page"


class Provenance(models.Model):
    """Where a fact or a price point came from, and whether an editor has looked at it.

    An extracted value carries the exact page it was read from (``source_url``), the time
    that page was fetched and the text it was read in; it stays "extracted, not reviewed by
    an editor" until an editor accepts it (``reviewed_at``).
    """

    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.EDITOR)
    fetched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the cited page was fetched (extracted values)."
    )
    reviewed_at = models.DateTimeField(
        null=True, blank=True, help_text="When an editor accepted the extracted value."
    )
    snippet = models.CharField(
        max_length=500, blank=True, help_text="The page text the value was read from."
    )

    class Meta:
        abstract = True

    @property
    def is_unreviewed_extraction(self) -> bool:
        """Read by a program from the tool's page and not yet accepted by an editor."""
        return self.origin == Origin.EXTRACTED and self.reviewed_at is None

    @property
    def provenance_label(self) -> str:
        if self.is_unreviewed_extraction:
            return "extracted, not reviewed by an editor"
        if self.origin == Origin.EXTRACTED:
            return "extracted, reviewed by an editor"
        return ""


class ToolQuerySet(models.QuerySet["Tool"]):
    def published(self) -> ToolQuerySet:
        return self.filter(is_published=True)

    def search(self, query: str) -> ToolQuerySet:
        """Case-insensitive match on name, vendor and tagline (portable across engines).

        NUL characters are dropped: no stored text contains one, and PostgreSQL refuses them.
        """
        query = query.replace("\x00", "").strip()
        if not query:
            return self.none()
        return self.filter(
            models.Q(name__icontains=query)
            | models.Q(vendor__icontains=query)
            | models.Q(tagline__icontains=query)
        )


class Tool(models.Model):
    slug = models.SlugField(max_length=60, unique=True, validators=[slug_format, no_vs])
    name = models.CharField(max_length=80)
    vendor = models.CharField(max_length=80)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tools")
    tagline = models.CharField(max_length=140)
    description = models.TextField(max_length=1500, blank=True)
    homepage = models.URLField(max_length=300)
    pricing = models.CharField(max_length=20, choices=Pricing.choices, default=Pricing.UNKNOWN)
    # True while ``pricing`` is a value read from the tool's own pages that no editor has
    # reviewed: pages say so beside it.
    pricing_unreviewed = models.BooleanField(default=False)
    license = models.CharField(max_length=80, blank=True)
    release_date = models.DateField(null=True, blank=True)
    context_window = models.PositiveIntegerField(
        null=True, blank=True, help_text="Context window in tokens, for models."
    )
    is_published = models.BooleanField(default=True)
    # When the tool last became visible: the digest's "new this week" is read from it, so a
    # tool imported hidden and published days later is still news when it appears.
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ToolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["-created_at"]), models.Index(fields=["-published_at"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # published_at is "when readers first saw it": stamped on the save that makes the
        # tool visible, cleared while it is hidden (bulk updates go through set_published).
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
        elif not self.is_published:
            self.published_at = None
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:tool", args=[self.slug])

    @property
    def entry_price(self) -> str:
        """The card's "Entry price" line: Free, Freemium, Paid, Open weights or Unknown; a
        pricing model read from the tool's page and not reviewed says so."""
        label = self.get_pricing_display()
        if self.pricing_unreviewed and self.pricing != Pricing.UNKNOWN:
            return f"{label} (unreviewed)"
        return label

    @property
    def pricing_is_known(self) -> bool:
        return self.pricing != Pricing.UNKNOWN


class BillingPeriod(models.TextChoices):
    NONE = "", "Not stated"
    MONTHLY = "monthly", "billed monthly"
    ANNUALLY = "annually", "billed annually"


class PricePoint(Provenance):
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="price_points")
    tier = models.CharField(max_length=60)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")
    unit = models.CharField(max_length=40)
    billing_period = models.CharField(
        max_length=10, choices=BillingPeriod.choices, blank=True, default=BillingPeriod.NONE
    )
    source_url = models.URLField(max_length=500)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["tool", "position", "id"]

    def __str__(self) -> str:
        return f"{self.tier}: {self.display_amount} / {self.unit}"

    @property
    def display_amount(self) -> str:
        amount = self.amount.normalize()
        text = f"{amount:f}"
        if "." in text and len(text.split(".")[1]) == 1:
            text += "0"
        symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(self.currency)
        return f"{symbol}{text}" if symbol else f"{text} {self.currency}"


class Fact(Provenance):
    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="facts")
    key = models.CharField(max_length=40)
    value = models.CharField(max_length=300)
    source_url = models.URLField(max_length=500)
    # The date the catalog file (or the ingest) gives for the statement: an editor's "as
    # of", never a check. Whether the source was fetched is recorded in Source, by URL.
    as_of = models.DateField(
        null=True, blank=True, help_text="The editor's own date for this fact, if any."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["tool", "position", "id"]

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"

    @property
    def label(self) -> str:
        return self.key.replace("_", " ").capitalize()


class Source(models.Model):
    """The latest check of one cited URL (a fact's or a price point's ``source_url``).

    Keyed by URL, so a re-import that keeps a fact's source keeps its check. Only
    ``toolverdict check-sources`` (and its periodic job) writes the check fields: a source
    nobody fetched has ``checked_at`` unset and reads "source cited, not yet checked".
    A check fetches the page; it does not read whether the page still says what the fact
    says.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "Reachable"
        HTTP_ERROR = "http_error", "HTTP error"
        UNREACHABLE = "unreachable", "Unreachable"
        REFUSED = "refused", "Refused (not a public address)"
        TOO_LARGE = "too_large", "Too large to read"

    url = models.URLField(max_length=500, unique=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    # The last check that reached the page: staleness is counted from it.
    last_ok_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(
        default=0, help_text="Checks in a row that did not reach the page."
    )
    # Set while a run of the checking task checks this URL: which run (its task id) and
    # since when (core's long-job pattern; catalog/sources.py: claim_due).
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["url"]
        indexes = [models.Index(fields=["checked_at"], name="catalog_source_checked_idx")]

    def __str__(self) -> str:
        return self.url

    @property
    def is_dead(self) -> bool:
        return bool(self.outcome) and self.outcome != self.Outcome.OK
