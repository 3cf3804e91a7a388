from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from .models import Category, Fact, PricePoint, Source, Tool
from .signals import tools_changed

# Provenance is written by the enrichment and its review queue (/enrich/queue/), never
# typed: a row an editor adds here is an editor's.
PROVENANCE = ["origin", "fetched_at", "reviewed_at", "snippet"]


class PricePointInline(admin.TabularInline):
    model = PricePoint
    extra = 0
    readonly_fields = PROVENANCE


class FactInline(admin.TabularInline):
    model = Fact
    extra = 0
    readonly_fields = PROVENANCE


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "category", "pricing", "is_published", "updated_at"]
    list_filter = ["category", "pricing", "is_published"]
    search_fields = ["name", "vendor", "tagline"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PricePointInline, FactInline]
    readonly_fields = ["pricing_unreviewed"]

    def save_model(self, request, obj, form, change) -> None:
        if "is_published" in form.changed_data and obj.is_published:
            obj.published_at = timezone.now()  # re-published: news again
        if "pricing" in form.changed_data:
            obj.pricing_unreviewed = False  # the editor stated it
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        """After the tool and its inlines are saved, announce it so the panel re-reviews."""
        super().save_related(request, form, formsets, change)
        tool_id = form.instance.pk
        transaction.on_commit(
            lambda: tools_changed.send(sender=Tool, tool_ids=[tool_id], reason="admin")
        )


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """The checks of cited URLs: written only by `toolverdict check-sources`, read-only here."""

    list_display = ["url", "outcome", "http_status", "checked_at", "last_ok_at", "failures"]
    list_filter = ["outcome"]
    search_fields = ["url"]
    readonly_fields = [f.name for f in Source._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
