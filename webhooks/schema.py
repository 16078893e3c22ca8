"""What a webhook endpoint receives, for the OpenAPI document's ``webhooks`` section: the
body :func:`webhooks.delivery.build_body` sends and the headers of every delivery."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from api.serializers import AMOUNT_HELP, DisputeSerializer
from mediation.models import Funder, Remedy
from mediation.money import CURRENCY_CHOICES
from webhooks.signing import SIGNATURE_HEADER
from workflows.transitions import PARTY_EVENT_TYPES


class RefundDueSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, help_text=AMOUNT_HELP)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    order = serializers.CharField(help_text="The order's external id on the marketplace")
    funded_by = serializers.ChoiceField(choices=Funder.choices)
    kind = serializers.ChoiceField(choices=Remedy.choices)


class WebhookEventSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        help_text="The event's id: the same on every retry and redelivery, so dedupe on it."
    )
    type = serializers.ChoiceField(choices=list(PARTY_EVENT_TYPES))
    created_at = serializers.DateTimeField(help_text="When the step happened")
    # A field, moved off the class by DRF's metaclass (Serializer.data stays).
    data = DisputeSerializer(  # type: ignore[assignment]
        help_text="The dispute as the shop's owner sees it in the API"
    )
    refund = RefundDueSerializer(
        required=False,
        help_text="On dispute.refund_due only: what the platform is to pay, and who funds it.",
    )


DISPUTE_EVENT = OpenApiWebhook(
    name="disputeEvent",
    decorator=extend_schema(
        summary="A dispute event, POSTed to your endpoint",
        description=(
            "Sent for each event type the endpoint subscribed to. Answer 2xx within "
            "WEBHOOKS_TIMEOUT_SECONDS; anything else is retried (8 attempts over about a day, "
            "then the delivery fails and, after WEBHOOKS_DISABLE_AFTER_FAILURES such, the "
            "endpoint is turned off). Check `Mediation-Signature` before trusting the body: "
            "HMAC-SHA256 of `<t>.<body>` with the endpoint's secret, hex, compared with each "
            "`v1` (two during a secret's rotation), and refuse an old `t`.\n\n"
            f"Headers: `{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex>`; "
            "`Mediation-Event-Id` (as `id`); `Mediation-Event-Type` (as `type`); "
            "`Mediation-Delivery` (this delivery's id, one per endpoint and event); "
            "`Mediation-Attempt` (1, 2, 3, ...); `User-Agent: MediationWebhooks/1.0`."
        ),
        request=WebhookEventSerializer,
        responses={
            200: OpenApiResponse(description="Received: any 2xx stops the retries"),
        },
    ),
)
