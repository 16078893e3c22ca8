"""The mediator console (Django admin).

Mediators (users with an active mediator profile) see every dispute and its parts; the
state, past offers and rulings, and the audit log are read-only for everyone: they
change only through the services of ``workflows``, so the console never bypasses the
state machine. Shops, orders and people are managed by superusers.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from mediation.actors import mediator_profile
from mediation.audit import verify
from mediation.models import (
    AuditEntry,
    DeadlinePolicy,
    Dispute,
    Feedback,
    Fulfilment,
    IntegrationAccount,
    MediatorProfile,
    Message,
    Offer,
    Order,
    OrderItem,
    Ruling,
    Shop,
    ShopMember,
    ShopPolicy,
)
from mediation.money import format_money
from mediation.selectors import overdue_filter


def _is_mediator(request: HttpRequest) -> bool:
    return request.user.is_active and (
        request.user.is_superuser or mediator_profile(request.user) is not None
    )


class MediatorReadable(admin.ModelAdmin):
    """Mediators may look; only superusers manage the reference data."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_mediator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_mediator(request)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_mediator(request)


class ShopMemberInline(admin.TabularInline):
    model = ShopMember
    extra = 0
    autocomplete_fields = ["user"]


class ShopPolicyInline(admin.TabularInline):
    model = ShopPolicy
    extra = 0


@admin.register(Shop)
class ShopAdmin(MediatorReadable):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ShopMemberInline, ShopPolicyInline]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


@admin.register(Order)
class OrderAdmin(MediatorReadable):
    list_display = ["external_id", "shop", "buyer", "amount", "refunded", "placed_at"]
    list_filter = ["shop", "currency"]
    search_fields = ["external_id", "buyer__username", "shop__name"]
    list_select_related = ["shop", "buyer"]
    readonly_fields = ["refunded_total"]
    autocomplete_fields = ["buyer", "shop"]
    inlines = [OrderItemInline]

    @admin.display(description="Total + shipping")
    def amount(self, obj: Order) -> str:
        return format_money(obj.total + obj.shipping, obj.currency)

    @admin.display(description="Refunded")
    def refunded(self, obj: Order) -> str:
        return format_money(obj.refunded_total, obj.currency)


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = readonly_fields = ("side", "author", "kind", "amount", "status", "note", "created_at")


class RulingInline(ReadOnlyInline):
    model = Ruling
    fields = readonly_fields = (
        "kind",
        "amount",
        "funded_by",
        "status",
        "proposer",
        "approver",
        "rationale",
    )


class MessageInline(ReadOnlyInline):
    model = Message
    fields = readonly_fields = (
        "author",
        "author_role",
        "internal",
        "body",
        "reported",
        "created_at",
    )


class FulfilmentInline(ReadOnlyInline):
    model = Fulfilment
    fields = readonly_fields = (
        "kind",
        "amount",
        "reference",
        "carrier",
        "tracking_number",
        "recorded_by",
    )


class OverdueFilter(admin.SimpleListFilter):
    """Past its deadline (the API's ``overdue`` filter); the sweeper moves or flags these."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(overdue_filter())
        if self.value() == "no":
            return queryset.exclude(overdue_filter())
        return queryset


@admin.register(Dispute)
class DisputeAdmin(MediatorReadable):
    list_display = ["id", "reason", "shop", "requested", "state", "respond_by", "assigned_to"]
    list_filter = ["state", OverdueFilter, "reason", "shop"]
    search_fields = ["order__external_id", "buyer__username", "shop__name"]
    list_select_related = ["shop", "order", "assigned_to"]
    ordering = ["respond_by"]
    inlines = [OfferInline, RulingInline, MessageInline, FulfilmentInline]
    # Everything is read-only here: changes go through the lifecycle services.
    readonly_fields = [
        "order",
        "buyer",
        "shop",
        "reason",
        "requested_outcome",
        "requested_amount",
        "description",
        "state",
        "respond_by",
        "escalation_reason",
        "assigned_to",
        "required_tier",
        "outcome",
        "policy_version",
        "agreed_kind",
        "agreed_amount",
        "funded_by",
        "delivered_amount",
        "version",
        "audit_chain",
    ]
    exclude = ["items"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Requested")
    def requested(self, obj: Dispute) -> str:
        return format_money(obj.requested_amount, obj.order.currency)

    @admin.display(description="Audit chain")
    def audit_chain(self, obj: Dispute) -> str:
        result = verify(obj)
        if result.verified:
            return f"verified ({result.entries} entries)"
        return format_html(
            "<strong>broken at entry {}</strong>: {}", result.broken_at, result.problem
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(MediatorReadable):
    list_display = [
        "dispute",
        "seq",
        "action",
        "actor_display",
        "from_state",
        "to_state",
        "created_at",
    ]
    list_filter = ["action"]
    search_fields = ["dispute__id", "actor_display"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _duration(value: Any) -> str:
    if not value:
        return "none"
    hours = int(value.total_seconds() // 3600)
    minutes = int(value.total_seconds() % 3600 // 60)
    if hours % 24 == 0 and hours and not minutes:
        return f"{hours // 24} d"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(MediatorReadable):
    """Deadlines and reminder lead times per state, overridable per reason. Mediators see
    them; those given the model's permissions (and superusers) edit them. An edit applies to
    deadlines set from then on, not to those already running."""

    list_display = ["state", "reason_or_default", "deadline", "reminder", "updated_at"]
    list_filter = ["state", "reason"]
    fields = ["state", "reason", "duration", "remind_before"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_mediator(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_mediator(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_mediator(request) and super().has_delete_permission(request, obj)

    @admin.display(description="Reason")
    def reason_or_default(self, obj: DeadlinePolicy) -> str:
        return obj.get_reason_display() if obj.reason else "(every reason)"

    @admin.display(description="Deadline in effect")
    def deadline(self, obj: DeadlinePolicy) -> str:
        from workflows import policy

        return _duration(policy.duration(obj.state, obj.reason))

    @admin.display(description="Reminder before it")
    def reminder(self, obj: DeadlinePolicy) -> str:
        from workflows import policy

        return _duration(policy.remind_before(obj.state, obj.reason))


@admin.register(MediatorProfile)
class MediatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "tier", "authority", "active"]
    list_filter = ["tier", "active"]
    autocomplete_fields = ["user"]


@admin.register(IntegrationAccount)
class IntegrationAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]


@admin.register(Feedback)
class FeedbackAdmin(MediatorReadable):
    list_display = ["dispute", "party", "rating", "created_at"]
    list_filter = ["party", "rating"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
