from django.contrib import admin

from .models import Category, Fact, PricePoint, Tool


class PricePointInline(admin.TabularInline):
    model = PricePoint
    extra = 0


class FactInline(admin.TabularInline):
    model = Fact
    extra = 0


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
