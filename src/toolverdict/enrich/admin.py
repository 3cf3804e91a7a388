"""Enrichment records in the admin, read-only: written by the enrichment and its queue."""

from django.contrib import admin

from .models import Enrichment, PriceChange, Rejection


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Enrichment)
class EnrichmentAdmin(ReadOnly):
    list_display = ["tool", "outcome", "values", "ran_at", "claimed_at"]
    list_filter = ["outcome"]
    search_fields = ["tool__name", "tool__slug"]


@admin.register(PriceChange)
class PriceChangeAdmin(ReadOnly):
    list_display = ["tool", "tier", "old_amount", "new_amount", "currency", "unit", "fetched_at"]
    search_fields = ["tool__name", "tier"]


@admin.register(Rejection)
class RejectionAdmin(ReadOnly):
    list_display = ["tool", "key", "value", "editor", "rejected_at"]
    search_fields = ["tool__name", "key", "value"]
