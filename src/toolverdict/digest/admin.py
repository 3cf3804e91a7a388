"""Editor's desk: review and edit the composed issue, approve it, watch deliveries."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from .models import Delivery, DigestSettings, Issue, Section, Subscriber
from .sending import start_sending


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "kind", "heading", "url", "ship_pct", "body"]

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is None or obj.is_editable

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None or obj.is_editable

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or obj.is_editable


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["key", "subject", "status", "created_at", "sent_at", "delivery_counts"]
    list_filter = ["status"]
    inlines = [SectionInline]
    actions = ["approve_and_send"]
    readonly_fields = [
        "iso_year",
        "iso_week",
        "status",
        "period_start",
        "period_end",
        "approved_at",
        "send_enqueued_at",
        "sent_at",
        "sender",
        "sending_since",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Issues are composed by the schedule (one per ISO week), never by hand.
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_editable:
            fields += ["subject", "intro"]  # what went out stays as it went out
        return fields

    @admin.display(description="deliveries")
    def delivery_counts(self, obj: Issue) -> str:
        counts: dict[str, int] = {}
        for status in obj.deliveries.values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "—"

    @admin.action(description="Approve and send the selected draft issues")
    def approve_and_send(self, request: HttpRequest, queryset) -> None:
        from django.utils import timezone

        started = 0
        for issue in queryset:
            with transaction.atomic():
                Issue.objects.filter(pk=issue.pk, status=Issue.Status.DRAFT).update(
                    status=Issue.Status.APPROVED, approved_at=timezone.now()
                )
                issue.refresh_from_db()
                started += start_sending(issue)
        self.message_user(request, f"{started} issue(s) queued for sending.", messages.SUCCESS)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "created_at", "confirmed_at", "bounced_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    readonly_fields = [
        "unsubscribe_key",
        "confirm_nonce",
        "created_at",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "bounced_at",
        "bounce_reason",
    ]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["issue", "subscriber", "status", "attempts", "sent_at", "message_id"]
    list_filter = ["status", "issue"]
    search_fields = ["subscriber__email", "message_id"]
    list_select_related = ["issue", "subscriber"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # The state machine belongs to the sender; `toolverdict digest resolve` settles unknowns.
        return False


@admin.register(DigestSettings)
class DigestSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_send", "send_weekday", "send_hour_utc"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DigestSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
