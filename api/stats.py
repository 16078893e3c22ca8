"""``GET /api/v1/stats/``: the dashboard's figures for mediators (issue 6, item 5).

Mediators only (parties and the platform integration get 403, anonymous callers 401). The
figures and their definitions are those of :mod:`reports.stats`; ``since`` and ``until``
(``YYYY-MM-DD``, inclusive) narrow them to the disputes created in that window.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mediation.actors import mediator_profile
from mediation.errors import Forbidden
from mediation.models import FeedbackReason, Outcome
from reports.stats import dispute_stats, parse_window

# --- The typed answer -------------------------------------------------------------------------


class WindowSerializer(serializers.Serializer):
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)


class TotalsSerializer(serializers.Serializer):
    disputes = serializers.IntegerField()
    open = serializers.IntegerField()
    closed = serializers.IntegerField()


class WeekCountSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday the week starts on.")
    count = serializers.IntegerField()


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class StateCountSerializer(serializers.Serializer):
    state = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class OutcomeCountSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class ResolutionSerializer(serializers.Serializer):
    closed = serializers.IntegerField(help_text="Closed disputes with a closing time.")
    median_seconds = serializers.FloatField(
        allow_null=True, help_text="Median of closed_at - created_at; null when none closed."
    )


class SlaSerializer(serializers.Serializer):
    overdue_now = serializers.IntegerField(
        help_text="escalated, under_review or pending_approval past respond_by right now."
    )
    overdue_now_by_state = StateCountSerializer(many=True)
    disputes_breached = serializers.IntegerField(help_text="Disputes flagged at least once.")
    breaches_flagged = serializers.IntegerField(help_text="sla_breached audit entries.")
    breaches_per_week = WeekCountSerializer(many=True)


class WithoutPlatformSerializer(serializers.Serializer):
    closed = serializers.IntegerField()
    resolved = serializers.IntegerField(
        help_text="Closed disputes never escalated to the platform and never ruled."
    )
    share = serializers.FloatField(allow_null=True, help_text="resolved / closed.")
    by_outcome = OutcomeCountSerializer(many=True)


class RefundSerializer(serializers.Serializer):
    currency = serializers.CharField()
    funded_by = serializers.CharField(help_text="seller or platform")
    amount = serializers.IntegerField(help_text="Minor units of the currency.")
    count = serializers.IntegerField()


class ShopRateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    orders = serializers.IntegerField()
    disputes = serializers.IntegerField()
    dispute_rate = serializers.FloatField(allow_null=True, help_text="disputes / orders")
    ruled = serializers.IntegerField()
    ruled_against = serializers.IntegerField()
    ruled_against_share = serializers.FloatField(allow_null=True)


class FeedbackScoreSerializer(serializers.Serializer):
    party = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    distribution = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ratings of 1, 2, 3, 4 and 5."
    )


class RatedSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Ratings given.")
    average = serializers.FloatField(allow_null=True, help_text="Their average, 1 to 5.")
    low = serializers.IntegerField(help_text="Ratings of 1 or 2 (followed up).")


class MediatorRatingSerializer(RatedSerializer):
    mediator_id = serializers.IntegerField(
        allow_null=True, help_text="Who held the case when it was rated; null: no mediator."
    )
    name = serializers.CharField()


class OutcomeRatingSerializer(RatedSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    label = serializers.CharField()  # type: ignore[assignment]


class ReasonRatingSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[*FeedbackReason.choices, ("", "No reason given")],
        help_text="Why a low rating was given; blank: no reason given.",
    )
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField(help_text="Low ratings giving this reason.")


class ShopRatingSerializer(RatedSerializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


class FeedbackBreakdownSerializer(serializers.Serializer):
    by_mediator = MediatorRatingSerializer(many=True)
    by_outcome = OutcomeRatingSerializer(many=True)
    by_reason = ReasonRatingSerializer(many=True)
    by_shop = ShopRatingSerializer(
        many=True, help_text="The shops with the most low ratings, then the lowest average."
    )


class StatsSerializer(serializers.Serializer):
    window = WindowSerializer()
    generated_at = serializers.DateTimeField()
    totals = TotalsSerializer()
    opened_per_week = WeekCountSerializer(many=True)
    by_reason = ReasonCountSerializer(many=True)
    by_state = StateCountSerializer(many=True)
    outcomes = OutcomeCountSerializer(many=True)
    escalation_reasons = ReasonCountSerializer(many=True)
    resolution = ResolutionSerializer()
    sla = SlaSerializer()
    without_platform = WithoutPlatformSerializer()
    refunds = RefundSerializer(many=True)
    shops = ShopRateSerializer(many=True)
    feedback = FeedbackScoreSerializer(many=True)
    feedback_breakdown = FeedbackBreakdownSerializer()


class StatsView(APIView):
    """What the platform learns from its disputes (mediators only)."""

    problems = (422,)  # since after until

    @extend_schema(
        summary="Dispute statistics",
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATE, description="First day (YYYY-MM-DD), inclusive."
            ),
            OpenApiParameter(
                "until", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD), inclusive."
            ),
        ],
        responses={200: StatsSerializer},
        tags=["stats"],
        description="Disputes opened per week, by reason, state and outcome; median time to "
        "resolution; SLA breaches; the share resolved without the platform; refunds by "
        "funder; per-shop rates; feedback scores, by party, mediator, outcome, reason and "
        "shop. Mediators only.",
    )
    def get(self, request: Request) -> Response:
        if mediator_profile(request.user) is None:
            raise Forbidden("The statistics are for mediators.")
        since, until = parse_window(request.query_params)
        return Response(StatsSerializer(dispute_stats(since=since, until=until)).data)
