"""The mediator console (Django admin).

Mediators (users with an active mediator profile) see every dispute and its parts; the
state, past offers and rulings, and the audit log are read-only for everyone: they
change only through the services of ``workflows``, so the console never bypasses the
state machine. Shops, orders and people are managed by superusers.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from rest_framework_api_key.models import APIKey

from console import bulk
from console import case as console
from console import views as saved_views
from console.models import SavedReply
from console.queue import shown_amount, with_pending_ruling
from console.sites import may_use_console
from mediation.actors import mediator_profile
from mediation.errors import DomainError
from mediation.models import (
    ApiKey,
    AssignmentPolicy,
    AuditEntry,
    CredentialEvent,
    DeadlinePolicy,
    Dispute,
    Feedback,
    IntegrationAccount,
    MediatorProfile,
    Notification,
    Order,
    OrderItem,
    OutboxEvent,
    Shop,
    ShopMember,
    ShopPolicy,
    State,
    Tier,
)
from mediation.money import format_money
from mediation.party_history import flagged_buyer_ids, flagged_shop_ids
from mediation.selectors import overdue_filter, search_condition
from workflows import credentials, policy
from workflows.review import awaiting_approval_by
from workflows.shop_policies import publish_policy
from workflows.steps import STEPS
from workflows.transitions import allowed_actions


def _is_mediator(request: HttpRequest) -> bool:
    return may_use_console(request.user)


class NoEdits:
    """Nobody adds, changes or deletes these rows in the console: they change only through
    the services of ``workflows``."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
    """Published versions are read-only; a new row publishes the next version."""

    model = ShopPolicy
    extra = 0
    can_delete = False
    fields = ["version", "text", "effective_from"]
    readonly_fields = ["version"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Shop)
class ShopAdmin(MediatorReadable):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ShopMemberInline, ShopPolicyInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ShopPolicy:
            super().save_formset(request, form, formset, change)
            return
        # New versions go through the publishing rule (the next number, never backdated);
        # published ones are never saved again. (The admin's change message reads these.)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if row.instance.pk is not None or not row.has_changed() or not row.is_valid():
                continue
            try:
                published = publish_policy(
                    actor=request.user,
                    shop_slug=form.instance.slug,
                    text=row.cleaned_data.get("text", ""),
                    effective_from=row.cleaned_data.get("effective_from"),
                )
            except DomainError as exc:
                self.message_user(
                    request, f"The policy was not published: {exc.message}", messages.ERROR
                )
            else:
                formset.new_objects.append(published)


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


class StateFilter(admin.SimpleListFilter):
    """Open cases by default: a queue of work, not of history. ``?state__exact=<state>``
    picks one state (closed among them), ``?state__exact=all`` every case."""

    title = "state"
    parameter_name = "state__exact"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            *((str(v), str(label)) for v, label in State.choices),
            (self.ALL, "All, closed too"),
        ]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if value is None:
            return queryset.exclude(state=State.CLOSED)
        if value == self.ALL:
            return queryset
        if value not in State.values:
            return queryset.none()
        return queryset.filter(state=value)

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


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


class AssignmentFilter(admin.SimpleListFilter):
    """``?assigned=me``: cases I hold; ``?assigned=none``: the platform's queue, unassigned."""

    title = "assignment"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Assigned to me"), ("none", "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "me":
            return queryset.filter(assigned_to_id=request.user.pk)
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True, state=State.ESCALATED)
        return queryset


class ApprovalFilter(admin.SimpleListFilter):
    """``?approval=mine``: rulings pending approval that I may approve (not mine, within my
    authority), by the rule the approve action itself checks."""

    title = "approvals"
    parameter_name = "approval"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("mine", "Waiting for my approval")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "mine":
            condition = awaiting_approval_by(request.user)
            return queryset.none() if condition is None else queryset.filter(condition)
        return queryset


class ReportedConductFilter(admin.SimpleListFilter):
    """``?conduct=reported``: a party reported a message or escalated for abusive conduct,
    escalated or not (the API's ``reported_conduct``)."""

    title = "conduct"
    parameter_name = "conduct"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("reported", "Reported conduct")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "reported":
            return queryset.filter(conduct_reported_at__isnull=False)
        return queryset


class FlaggedPartiesFilter(admin.SimpleListFilter):
    """``?flagged=yes``: disputes whose buyer is a possible serial claimant or whose shop a
    possible problem seller, by the rule of the case page's party history (the flagged
    parties are found first, then their disputes by id)."""

    title = "party history"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Flagged parties")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            buyers, shops = flagged_buyer_ids(), flagged_shop_ids()
            return queryset.filter(Q(buyer_id__in=buyers) | Q(shop_id__in=shops))
        return queryset


class ShopFilter(admin.SimpleListFilter):
    """``?shop=<slug>``, typed in a box: a marketplace has tens of thousands of shops, too
    many to list as links on every page of the queue."""

    title = "shop"
    parameter_name = "shop"
    template = "admin/console/text_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []  # no links: choices() gives the box

    def has_output(self) -> bool:
        return True

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return queryset.filter(shop__slug=value) if value else queryset

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "value": self.value() or "",
            "name": self.parameter_name,
            # The queue's other filters and search, kept when a shop is typed in.
            "hidden": [
                (key, value)
                for key, value in changelist.get_filters_params().items()
                if key != self.parameter_name
            ]
            + ([("q", changelist.query)] if changelist.query else []),
        }


class BoundedCountPaginator(Paginator):
    """Counts at most :data:`COUNT_LIMIT` rows: the queue's page links and its "N disputes"
    stay cheap at a million disputes ("more than 1000" beyond that)."""

    COUNT_LIMIT = 1_000

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        return cast(int, rows[: self.COUNT_LIMIT + 1].count())

    @property
    def bounded(self) -> bool:
        return self.count > self.COUNT_LIMIT


@admin.register(Dispute)
class DisputeAdmin(NoEdits, MediatorReadable):
    """The work queue (changelist) and the case view (change view), read-only: every
    change is a button that calls a lifecycle service (``console.ACTIONS``)."""

    list_display = [
        "case",
        "reason",
        "shop",
        "buyer_name",
        "amount",
        "state",
        "deadline",
        "assignee",
    ]
    list_display_links = ["case"]
    list_filter = [
        StateFilter,
        OverdueFilter,
        AssignmentFilter,
        ApprovalFilter,
        ReportedConductFilter,
        FlaggedPartiesFilter,
        "reason",
        ShopFilter,
    ]
    # Any field makes the admin show its search box; get_search_results decides.
    search_fields = ["pk"]
    search_help_text = (
        "Case number (11 or #11), order id, tracking number, a buyer's or a shop member's "
        "user name or email, shop name, or words of a message."
    )
    paginator = BoundedCountPaginator
    # No second count of every dispute for "N total".
    show_full_result_count = False
    list_select_related = ["shop", "order", "buyer", "assigned_to"]
    # The nearest deadline first; disputes without one (closed) last.
    ordering = [F("respond_by").asc(nulls_last=True), "id"]
    actions = None
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search_condition(search_term)), False

    # --- Queue columns

    @admin.display(description="Case", ordering="id")
    def case(self, obj: Dispute) -> str:
        return f"#{obj.pk} · {obj.order.external_id}"

    @admin.display(description="Buyer", ordering="buyer__username")
    def buyer_name(self, obj: Dispute) -> str:
        return obj.buyer.get_username()

    @admin.display(description="Amount", ordering="requested_amount")
    def amount(self, obj: Dispute) -> Any:
        """What the mediator decides on: a ruling waiting for approval shows its value,
        an agreed remedy its amount, any other case the buyer's request."""
        kind, money = shown_amount(obj)
        return format_html('{} <small class="amount-kind">{}</small>', money, kind)

    # The queue's default order (``ordering``) is by this column's field, so the admin
    # marks this column as the one sorted on.
    @admin.display(description="Time left", ordering="respond_by")
    def deadline(self, obj: Dispute) -> str:
        return console.time_left(obj)

    def get_queryset(self, request: HttpRequest) -> Any:
        return with_pending_ruling(super().get_queryset(request))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {"title": "Disputes", **saved_views.sidebar(request), **(extra_context or {})}
        )

    @admin.display(description="Assignee", ordering="assigned_to__username")
    def assignee(self, obj: Dispute) -> str:
        return obj.assigned_to.get_username() if obj.assigned_to else "-"

    # --- Bulk actions (console.bulk: each case through its service)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        for func in bulk.actions_for(request):
            actions[func.__name__] = (func, func.__name__, func.short_description)  # type: ignore[attr-defined]
        return actions

    # --- The case view and its actions

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/act/<slug:action>/",
                self.admin_site.admin_view(self.act_view),
                name="{}_{}_act".format(*info),
            ),
            # Saved views of the queue (console.views): POST only, CSRF-protected.
            path(
                "views/save/",
                self.admin_site.admin_view(require_POST(saved_views.save_view)),
                name="{}_{}_save_view".format(*info),
            ),
            path(
                "views/<int:pk>/delete/",
                self.admin_site.admin_view(require_POST(saved_views.delete_view)),
                name="{}_{}_delete_view".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The case: everything about the dispute on one page, and the allowed actions."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        dispute = console.load_case(object_id, request.user)
        if dispute is None:
            raise Http404("No such dispute.")
        allowed = allowed_actions(dispute, request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Dispute #{dispute.pk} · {dispute.order.external_id}",
            "subtitle": None,
            "actions_meta": console.ACTIONS,
            **console.case_context(dispute, request.user, allowed=allowed),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/mediation/dispute/case.html", context)

    def act_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """POST only (CSRF-protected by the admin): one action, by the service the API uses.
        A refusal of the service is a message on the case, never an error page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        spec = console.ACTIONS.get(action)
        pk = _pk(object_id)
        dispute = (
            None if pk is None else Dispute.objects.select_related("order").filter(pk=pk).first()
        )
        if spec is None or dispute is None:
            raise Http404("No such dispute or action.")
        back = reverse("admin:mediation_dispute_change", args=[dispute.pk])
        form = spec.form(request.POST, currency=dispute.order.currency)
        if not form.is_valid():
            problems = " ".join(
                f"{_field_label(form, name)}{' '.join(str(e) for e in errors)}"
                for name, errors in form.errors.items()
            )
            messages.error(request, f"{spec.label}: {problems}")
            return HttpResponseRedirect(back)
        try:
            text = spec.run(dispute, request.user, form.cleaned_data, form)
        except console.WaitingForApproval as waiting:
            messages.warning(request, str(waiting))
        except DomainError as exc:
            messages.error(request, f"{spec.label} refused: {exc}")
        else:
            messages.success(request, text)
        return HttpResponseRedirect(back)


def _field_label(form: Any, name: str) -> str:
    field = form.fields.get(name)
    if field is None:  # errors of the whole form
        return ""
    return f"{field.label or name.replace('_', ' ').capitalize()}: "


def _pk(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AuditActionFilter(admin.SimpleListFilter):
    """The audit entries of one step: its choices are the steps the service knows
    (``workflows.steps.STEPS``), never a ``SELECT DISTINCT`` over millions of entries."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name.replace("_", " ")) for name in sorted(STEPS)]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return queryset.filter(action=value) if value else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(NoEdits, MediatorReadable):
    list_display = [
        "case",
        "seq",
        "action",
        "actor_display",
        "from_state",
        "to_state",
        "created_at",
    ]
    list_display_links = ["seq"]
    list_filter = [AuditActionFilter]
    list_select_related = ["dispute__order"]
    # Millions of entries: the page counts at most 1,000 (as the queue does).
    paginator = BoundedCountPaginator
    # Any field makes the admin show its search box; get_search_results decides.
    search_fields = ["dispute_id"]
    search_help_text = "Case number (11 or #11) or the order's marketplace id (PP-1001)."
    show_full_result_count = False

    @admin.display(description="Case", ordering="dispute_id")
    def case(self, obj: AuditEntry) -> Any:
        """The case by its number and its order's marketplace id, linked to the case page."""
        return format_html(
            '<a href="{}">#{} · {}</a>',
            reverse("admin:mediation_dispute_change", args=[obj.dispute_id]),
            obj.dispute_id,
            obj.dispute.order.external_id,
        )

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        """By the case (its foreign key's index), never a ``LIKE`` over millions of entries."""
        term = search_term.strip()
        if not term:
            return queryset, False
        number = re.fullmatch(r"#?(\d{1,18})", term)
        cases = Q(dispute_id=int(number.group(1))) if number else Q(pk__in=[])
        orders = Order.objects.filter(external_id__in={term, term.upper()}).values("pk")
        disputes = list(Dispute.objects.filter(order__in=orders).values_list("pk", flat=True)[:50])
        return queryset.filter(cases | Q(dispute_id__in=disputes)), False


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
        return _duration(policy.duration(obj.state, obj.reason))

    @admin.display(description="Reminder before it")
    def reminder(self, obj: DeadlinePolicy) -> str:
        return _duration(policy.remind_before(obj.state, obj.reason))


@admin.register(AssignmentPolicy)
class AssignmentPolicyAdmin(MediatorReadable):
    """The marketplace's automatic assignment switch (workflows.assignment): one row.
    Mediators see it; those given its permissions (and superusers) switch it."""

    list_display = ["__str__", "auto_assign", "updated_at"]
    fields = ["auto_assign"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return (
            _is_mediator(request)
            and super().has_add_permission(request)
            and not AssignmentPolicy.objects.exists()
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_mediator(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.pk = 1  # the one row (a check constraint holds it)
        super().save_model(request, obj, form, change)


@admin.register(MediatorProfile)
class MediatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "tier", "authority", "active"]
    list_filter = ["tier", "active"]
    autocomplete_fields = ["user"]


@admin.register(IntegrationAccount)
class IntegrationAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Integrations' API keys (superusers): who holds which, when each was last used, and
    the revocation. New keys: ``manage.py create_api_key`` (the platform's) or the shop
    owners' ``/shops/{slug}/api-keys/`` (a shop's); the key is shown once, at creation."""

    list_display = ["name", "prefix", "shop", "user", "created", "last_used_at", "revoked"]
    list_filter = ["revoked", ("shop", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "shop__name", "user__username"]
    list_select_related = ["shop", "user"]
    readonly_fields = [
        "name",
        "prefix",
        "shop",
        "user",
        "created",
        "created_by",
        "last_used_at",
        "revoked",
        "revoked_at",
        "revoked_by",
        "expiry_date",
    ]
    exclude = ["hashed_key"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        keys = list(queryset.filter(revoked=False))
        for api_key in keys:
            credentials.revoke_key(api_key, actor=request.user)
        self.message_user(request, f"{len(keys)} key(s) revoked.", messages.SUCCESS)


@admin.register(CredentialEvent)
class CredentialEventAdmin(NoEdits, admin.ModelAdmin):
    """Who created or revoked which key, and who logged out everywhere (superusers)."""

    list_display = ["at", "action", "actor_display", "shop", "key_name", "key_prefix"]
    list_filter = ["action"]
    search_fields = ["actor_display", "key_name", "key_prefix"]
    date_hierarchy = "at"


# The library's own key model is not used (``ApiKey`` is the service's).
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)

# Under RedBeat (the broker on Redis: deployment) the schedule lives in Redis and comes from
# settings.CELERY_BEAT_SCHEDULE; django-celery-beat's tables would only mislead, since an
# edit there changes nothing. With its DatabaseScheduler (the embedded default) they are the
# schedule and stay in the console.
if settings.REDBEAT:
    from django_celery_beat import models as beat

    for _model in (
        beat.PeriodicTask,
        beat.IntervalSchedule,
        beat.CrontabSchedule,
        beat.SolarSchedule,
        beat.ClockedSchedule,
    ):
        if admin.site.is_registered(_model):
            admin.site.unregister(_model)


@admin.register(Feedback)
class FeedbackAdmin(MediatorReadable):
    list_display = ["dispute", "party", "rating", "created_at"]
    list_filter = ["party", "rating"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyLog(NoEdits, MediatorReadable):
    """Written by the system only: mediators read it, nobody edits it."""


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyLog):
    """What the relay has handed (or still has to hand) to email and webhooks."""

    list_display = ["type", "dispute", "audit_seq", "created_at", "relayed_at", "attempts"]
    list_filter = ["type", ("relayed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=dispute__id", "type"]
    list_select_related = ["dispute"]
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyLog):
    """Every email of the service: waiting or being sent (with the time of its next try),
    sent, skipped (opted out, no address) or failed for good."""

    list_display = [
        "kind",
        "user",
        "party",
        "email",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    list_filter = ["status", "kind", "party"]
    search_fields = ["email", "user__username", "subject"]
    list_select_related = ["user"]


@admin.register(SavedReply)
class SavedReplyAdmin(MediatorReadable):
    """Saved replies (macros) for the case page's message and request-for-information
    forms. Every mediator keeps personal ones; leads (and whoever holds the model's change
    permission) also curate the shared ones, which everyone is offered."""

    list_display = ["title", "kind", "shared", "owner", "updated_at"]
    list_filter = ["kind", "shared"]
    search_fields = ["title", "body"]
    list_select_related = ["owner"]
    fields = ["title", "kind", "body", "shared"]

    @staticmethod
    def _curator(request: HttpRequest) -> bool:
        profile = mediator_profile(request.user)
        user = cast(Any, request.user)
        return (
            user.is_superuser
            or (profile is not None and profile.tier == Tier.LEAD)
            or user.has_perm("console.change_savedreply")
        )

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if cast(Any, request.user).is_superuser:
            return qs
        return qs.filter(pk__in=SavedReply.offered_to(request.user).values("pk"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if self._curator(request) else ["shared"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_mediator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not _is_mediator(request):
            return False
        return obj is None or obj.owner_id == request.user.pk or self._curator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)
