"""Editor tools: register feeds, moderate submissions, read pipeline runs."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from . import candidates, submissions
from .models import Candidate, DailyComparison, Feed, FeedEntry, PipelineRun, Submission


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "category", "is_active", "last_ok_at", "last_error"]
    list_filter = ["is_active", "category"]
    search_fields = ["name", "url"]
    readonly_fields = ["created_at", "last_fetched_at", "last_ok_at", "last_error"]


@admin.register(FeedEntry)
class FeedEntryAdmin(admin.ModelAdmin):
    list_display = ["title", "feed", "published", "seen_at", "run"]
    list_filter = ["feed"]
    search_fields = ["title", "link"]
    readonly_fields = [f.name for f in FeedEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "duplicate_reason", "duplicate_of", "tool", "run"]
    list_filter = ["status", "duplicate_reason", "category"]
    search_fields = ["name", "homepage"]
    readonly_fields = [f.name for f in Candidate._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "category", "status", "created_at", "moderator"]
    list_filter = ["status", "category"]
    search_fields = ["name", "vendor", "homepage"]
    readonly_fields = [
        "status",
        "client_hash",
        "moderator",
        "moderated_at",
        "tool",
        "created_at",
    ]
    actions = ["approve", "reject"]

    @admin.action(description="Approve: add to the catalog, then panel and comparison")
    def approve(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        for submission in queryset:
            try:
                tool = submissions.approve_submission(submission, request.user)
            except submissions.ModerationError as exc:
                self.message_user(request, f"{submission.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Approved {tool.name}.", messages.SUCCESS)

    @admin.action(description="Reject")
    def reject(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        for submission in queryset:
            try:
                submissions.reject_submission(submission, request.user)
            except submissions.ModerationError as exc:
                self.message_user(request, f"{submission.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Rejected {submission.name}.", messages.SUCCESS)


class DailyComparisonInline(admin.TabularInline):
    model = DailyComparison
    extra = 0
    fields = ["tool", "rival", "similarity", "left_slug", "right_slug"]
    readonly_fields = fields
    can_delete = False


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = [
        "day",
        "status",
        "entries_in",
        "new_candidates",
        "duplicates",
        "imported",
        "reviewed",
        "published",
    ]
    list_filter = ["status"]
    readonly_fields = [*(f.name for f in PipelineRun._meta.fields), "feed_error_list"]
    inlines = [DailyComparisonInline]

    @admin.display(description="Feed errors (name, address)")
    def feed_error_list(self, run: PipelineRun) -> SafeString | str:
        rows = candidates.feed_error_rows(run)
        if not rows:
            return "-"
        # format_html_join escapes every value: names, addresses and errors are untrusted.
        return format_html_join(
            "", "<p><strong>{}</strong> {}: {}</p>", ((r.name, r.url, r.error) for r in rows)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
