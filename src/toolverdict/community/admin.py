"""Admin for community records: votes are read-only evidence; members can be excluded."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Member, PairVote, ToolVote, VoteEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Votes change only through the vote services, so the log stays complete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ToolVote)
class ToolVoteAdmin(ReadOnlyAdmin):
    list_display = ["tool", "value", "user", "updated_at"]
    list_filter = ["value", "tool__category"]
    search_fields = ["tool__name", "user__email"]
    list_select_related = ["tool", "user"]


@admin.register(PairVote)
class PairVoteAdmin(ReadOnlyAdmin):
    list_display = ["tool_a", "tool_b", "winner", "user", "updated_at"]
    search_fields = ["tool_a__name", "tool_b__name", "user__email"]
    list_select_related = ["tool_a", "tool_b", "winner", "user"]


@admin.register(VoteEvent)
class VoteEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "tool", "tool_b", "value", "user", "ip_hash"]
    list_filter = ["kind", "value"]
    search_fields = ["user__email", "tool__name", "ip_hash"]
    list_select_related = ["tool", "tool_b", "user"]
    date_hierarchy = "created_at"


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "email_confirmed_at",
        "votes_excluded",
        "excluded_kind",
        "excluded_reason",
    ]
    list_filter = ["votes_excluded", "excluded_kind"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "email_confirmed_at", "created_at"]
    actions = ["exclude_votes", "exclude_burst_votes", "include_votes"]

    @admin.action(description="Exclude these accounts' votes from all figures")
    def exclude_votes(self, request: HttpRequest, queryset) -> None:
        self._set_excluded(
            request, queryset, True, "Excluded votes from figures", Member.ExclusionKind.EDITOR
        )

    @admin.action(description="Exclude these accounts' votes as part of a vote burst")
    def exclude_burst_votes(self, request: HttpRequest, queryset) -> None:
        self._set_excluded(
            request,
            queryset,
            True,
            "Excluded votes from figures (vote burst)",
            Member.ExclusionKind.BURST,
        )

    @admin.action(description="Count these accounts' votes again")
    def include_votes(self, request: HttpRequest, queryset) -> None:
        self._set_excluded(request, queryset, False, "Counted votes again", "")

    def _set_excluded(
        self, request: HttpRequest, queryset, excluded: bool, note: str, kind: str
    ) -> None:
        # One save and one admin log entry per member, so every exclusion is on record
        # with the editor who made it. The kind is the public category of the exclusion.
        for member in queryset:
            member.votes_excluded = excluded
            member.excluded_reason = f"{note} by {request.user.get_username()}" if excluded else ""
            member.excluded_kind = kind if excluded else ""
            member.save(update_fields=["votes_excluded", "excluded_reason", "excluded_kind"])
            self.log_change(request, member, note)
