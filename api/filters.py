from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from mediation.models import Dispute, Order, Reason, State
from mediation.selectors import overdue_filter

TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


class StrictBooleanField(forms.Field):
    """``true`` or ``false`` (also 1/0, yes/no, on/off); absent: no filter. Anything
    else is refused (400 ``invalid``, naming the parameter) instead of being ignored, so a
    client never takes an unfiltered list for a filtered one."""

    def to_python(self, value: Any) -> bool | None:
        if value is None:  # not given: no filter (given empty is refused below)
            return None
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise forms.ValidationError("Give true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StrictFilterSet(django_filters.FilterSet):
    """A filter that takes one value refuses two (400 ``invalid``: ``?shop=a&shop=b`` would
    otherwise filter by ``b`` alone); a multiple-choice filter takes any number."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        getlist = getattr(self.data, "getlist", None)
        if getlist is None:
            return valid
        for name, spec in self.filters.items():
            if not isinstance(spec, django_filters.MultipleChoiceFilter) and len(getlist(name)) > 1:
                self.form.add_error(name, "Give it once.")
                valid = False
        return valid


class DisputeFilter(StrictFilterSet):
    # Columns of the dispute row: no join can repeat a row, so no SELECT DISTINCT (which
    # would sort every matching dispute before the page is cut).
    state = django_filters.MultipleChoiceFilter(choices=State.choices, distinct=False)
    reason = django_filters.MultipleChoiceFilter(choices=Reason.choices, distinct=False)
    shop = django_filters.CharFilter(field_name="shop__slug", help_text="The shop's slug")
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="Past its respond_by")
    assigned_to_me = StrictBooleanFilter(method="filter_assigned_to_me")
    order = django_filters.CharFilter(
        field_name="order__external_id", help_text="The order's external id"
    )
    reported_conduct = StrictBooleanFilter(
        field_name="conduct_reported_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="A party reported a message or escalated for abusive conduct",
    )

    class Meta:
        model = Dispute
        fields = [
            "state",
            "reason",
            "shop",
            "overdue",
            "assigned_to_me",
            "order",
            "reported_conduct",
        ]

    def filter_overdue(
        self, queryset: QuerySet[Dispute], name: str, value: Any
    ) -> QuerySet[Dispute]:
        if value is None:
            return queryset
        return queryset.filter(overdue_filter()) if value else queryset.exclude(overdue_filter())

    def filter_assigned_to_me(
        self, queryset: QuerySet[Dispute], name: str, value: Any
    ) -> QuerySet[Dispute]:
        if value is None:
            return queryset
        user = self.request.user if self.request else None
        if value:
            return queryset.filter(assigned_to_id=getattr(user, "pk", None))
        return queryset.exclude(assigned_to_id=getattr(user, "pk", None))


class OrderFilter(StrictFilterSet):
    shop = django_filters.CharFilter(field_name="shop__slug")
    external_id = django_filters.CharFilter(field_name="external_id")
    disputable = StrictBooleanFilter(method="filter_disputable", help_text="Has no open dispute")

    class Meta:
        model = Order
        fields = ["shop", "external_id", "disputable"]

    def filter_disputable(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        open_disputes = Dispute.objects.exclude(state=State.CLOSED).values("order_id")
        if value:
            return queryset.exclude(pk__in=open_disputes)
        return queryset.filter(pk__in=open_disputes)
