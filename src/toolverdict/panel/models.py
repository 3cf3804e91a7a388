"""Stored reviews and their claims, with provenance.

A review is identified by (tool, persona, model, prompt version, dossier hash): running the
panel again with the same inputs finds it and costs nothing. ``is_current`` marks the one
review per tool and persona the pages show; it moves in the same transaction that writes
a new review, so a page never sees a tool with two current reviews or a half-written one.
"""

from __future__ import annotations

from django.db import models

from toolverdict.catalog.models import Tool


class ReviewQuerySet(models.QuerySet["Review"]):
    def counted(self) -> ReviewQuerySet:
        """Reviews the ship % counts: published, with a confident verdict (not "not enough
        evidence"). The rule itself is in ``panel/shares.py``."""
        return self.filter(
            status=Review.Status.PUBLISHED,
            verdict__in=(Review.Verdict.SHIP, Review.Verdict.SKIP),
        )


class Review(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        WITHHELD = "withheld", "Withheld"  # failed the substance or grounding gate
        FAILED = "failed", "Failed"  # the model produced no usable review

    class Gate(models.TextChoices):
        """Which gate withheld a review; each has its own public sentence."""

        GROUNDING = "grounding", "Failed the grounding check"
        NON_ANSWERS = "non_answers", "Did not answer its questions"
        UNREADABLE = "unreadable", "Not readable text"

    class Verdict(models.TextChoices):
        SHIP = "ship", "Ship"
        SKIP = "skip", "Skip"
        # The rubric's outcome when the evidence is too thin to judge: published, shown,
        # and left out of the ship %.
        INSUFFICIENT = "insufficient", "Not enough evidence"

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="panel_reviews")
    persona = models.CharField(max_length=40, help_text="Persona slug")
    persona_name = models.CharField(max_length=40)
    persona_order = models.SmallIntegerField(default=100)
    status = models.CharField(max_length=10, choices=Status.choices)
    verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    # The persona rubric's own outcome and score (panel/rubric.py): the verdict itself
    # unless a model judges (TOOLVERDICT_PANEL_JUDGE=model), then shown beside it.
    rubric_verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    rubric_score = models.SmallIntegerField(null=True, blank=True)
    # The computed points the rubric weighed: [{signal, weight, text, evidence_ids}, ...].
    points = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    sections = models.JSONField(default=dict, blank=True)
    problem = models.CharField(
        max_length=500, blank=True, help_text="Why the review failed or was withheld"
    )
    withheld_gate = models.CharField(max_length=12, choices=Gate.choices, blank=True)
    support_rate = models.FloatField(
        null=True, blank=True, help_text="Supported ÷ judged (fact and comparison) claims"
    )
    is_local_draft = models.BooleanField(default=False)
    is_current = models.BooleanField(default=True)
    # Provenance and cost.
    model_id = models.CharField(max_length=120)
    prompt_version = models.CharField(max_length=20)
    dossier_hash = models.CharField(max_length=64)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["tool", "persona_order", "persona"]
        constraints = [
            models.UniqueConstraint(
                fields=["tool", "persona", "model_id", "prompt_version", "dossier_hash"],
                name="panel_review_unique_inputs",
            ),
            models.UniqueConstraint(
                fields=["tool", "persona"],
                condition=models.Q(is_current=True),
                name="panel_review_one_current",
            ),
        ]
        indexes = [models.Index(fields=["tool", "is_current"])]

    def __str__(self) -> str:
        return f"{self.persona_name} on {self.tool_id}: {self.verdict or self.status}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Claim(models.Model):
    class Kind(models.TextChoices):
        FACT = "fact", "Fact"
        COMPARISON = "comparison", "Comparison"
        OPINION = "opinion", "Opinion"
        FORECAST = "forecast", "Forecast"

    class Support(models.TextChoices):
        """What the claim check established (panel/claimcheck.py). Supported, computed and
        opinion are published; contradicted and unsupported are kept for editors only.
        Not judged is the label of reviews written before the check existed."""

        SUPPORTED = "supported", "Supported"
        COMPUTED = "computed", "Computed"
        OPINION = "opinion", "Opinion"
        CONTRADICTED = "contradicted", "Contradicted"
        UNSUPPORTED = "unsupported", "Unsupported"
        NOT_JUDGED = "not_judged", "Not judged"

    PUBLISHED_SUPPORT = ("supported", "computed", "opinion", "not_judged")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="claims")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.CharField(max_length=300)
    evidence_ids = models.JSONField(default=list, blank=True)
    support = models.CharField(max_length=12, choices=Support.choices)
    problems = models.JSONField(default=list, blank=True)
    section = models.CharField(max_length=30, blank=True, help_text="The question it answers")

    class Meta:
        ordering = ["review", "position"]

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}"


class PanelSnapshot(models.Model):
    """One generation of a tool's panel: the dossier it read and the verdict it reached.

    Written after each panel run that changed the dossier or the current verdicts
    (``panel.history``), so the tool page can say when the verdict or ship % changed and
    which dossier items changed between generations. The reviews themselves stay in
    ``Review`` (older generations with ``is_current`` False).
    """

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="panel_snapshots")
    dossier_hash = models.CharField(max_length=64)
    # [[evidence id, label, text], ...] exactly as the panel read them (cleaned tool text).
    evidence = models.JSONField(default=list)
    ship = models.PositiveSmallIntegerField(default=0, help_text="Published reviews saying ship")
    valid = models.PositiveSmallIntegerField(
        default=0, help_text="Published reviews with a verdict (not 'not enough evidence')"
    )
    reviews = models.PositiveSmallIntegerField(default=0, help_text="Current reviews in all")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["tool", "created_at", "pk"]
        indexes = [models.Index(fields=["tool", "created_at"])]

    def __str__(self) -> str:
        return f"{self.tool_id} {self.created_at:%Y-%m-%d} {self.ship}/{self.valid}"
