"""Admin pages for reviews and claims: provenance, cost and grounding at a glance."""

from django.contrib import admin

from .models import Claim, Review


class ClaimInline(admin.TabularInline):
    model = Claim
    extra = 0
    fields = ["position", "kind", "text", "evidence_ids", "support", "problems"]
    readonly_fields = fields
    can_delete = False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = [
        "tool",
        "persona_name",
        "status",
        "verdict",
        "support_rate",
        "is_local_draft",
        "is_current",
        "model_id",
        "output_tokens",
        "cached_tokens",
        "latency_ms",
        "cost_usd",
        "updated_at",
    ]
    list_filter = ["status", "verdict", "persona_name", "is_current", "is_local_draft", "model_id"]
    search_fields = ["tool__name", "tool__slug", "reason", "problem"]
    list_select_related = ["tool"]
    inlines = [ClaimInline]
    # Reviews are model output with provenance: editing them by hand would falsify it.
    readonly_fields = [f.name for f in Review._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["review", "kind", "support", "text"]
    list_filter = ["kind", "support"]
    search_fields = ["text", "review__tool__name"]
    list_select_related = ["review", "review__tool"]
    readonly_fields = ["review", "position", "kind", "text", "evidence_ids", "support", "problems"]

    def has_add_permission(self, request) -> bool:
        return False
