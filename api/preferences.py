"""The caller's email preferences (DESIGN §6): ``GET``/``PATCH /api/v1/me/notifications/``.

Only reminders and routine updates can be turned off. Rulings, agreements, escalations,
closures and a mediator's question are always sent: a request that tries to turn one of
them off is refused with 422 ``notification_required``; any other unknown field is 400
``unknown_field``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.rest import valid
from mediation.errors import InvalidInput
from mediation.models import NotificationPreference
from notifications.preferences import (
    ALWAYS,
    check_may_turn_off,
    preference_for,
    set_preferences,
)

TAGS = ["notifications"]


class NotificationPreferenceSerializer(serializers.Serializer):
    reminders = serializers.BooleanField(
        required=False, help_text="Reminders before your deadline to answer."
    )
    updates = serializers.BooleanField(
        required=False,
        help_text="Routine steps: a dispute raised, offers, counter-offers, replies, deliveries.",
    )
    always_sent = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Emails that are always sent: rulings, agreements, escalations, closures "
        "and a mediator's question.",
    )


def _data(preference: NotificationPreference) -> dict[str, Any]:
    return {
        "reminders": preference.reminders,
        "updates": preference.updates,
        "always_sent": sorted(ALWAYS),
    }


class NotificationPreferenceView(APIView):
    @extend_schema(
        operation_id="get_notification_preferences",
        summary="Your email preferences",
        responses={200: NotificationPreferenceSerializer},
        tags=TAGS,
        description="Which emails you get about your disputes.",
    )
    def get(self, request: Request) -> Response:
        return Response(_data(preference_for(request.user)))

    @extend_schema(
        operation_id="update_notification_preferences",
        summary="Change your email preferences",
        request=NotificationPreferenceSerializer,
        responses={200: NotificationPreferenceSerializer},
        tags=TAGS,
        description=(
            "Turn `reminders` or `updates` off (false) or on. Rulings, agreements, "
            "escalations, closures and a mediator's question are always sent: a field that "
            "tries to turn one off is refused with 422 `notification_required`; any other "
            "unknown field with 400 `unknown_field`."
        ),
    )
    def patch(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise InvalidInput("Send a JSON object.", code="invalid")
        check_may_turn_off(sorted(set(request.data) - {"reminders", "updates", "always_sent"}))
        # ``always_sent`` is echoed back by clients that PATCH what they read.
        changes = valid(
            NotificationPreferenceSerializer, request, partial=True, also=("always_sent",)
        )
        preference = set_preferences(
            request.user, reminders=changes.get("reminders"), updates=changes.get("updates")
        )
        return Response(_data(preference))
