"""Webhook endpoints of a shop (DESIGN §6): registration, the secret, the delivery log.

Only a shop's owners see and manage its endpoints; for anyone else an endpoint does not
exist (404). Registering needs an owned shop (403 otherwise). The platform integration
registers endpoints of no shop, which receive the events of every shop's disputes (as the
integration sees them: nothing of the conversation). The secret is in the answer
to the registration and to a rotation, never again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# The owners' endpoint API is built with the API's published REST kit (api.rest, the
# idempotency decorator, the shop reference shape), declared in pyproject.toml.
from api.idempotency import idempotent
from api.pagination import CursorPage, single
from api.rest import IDEMPOTENCY_KEY, valid
from api.serializers import ReadModelSerializer, ShopRefSerializer, shop_ref
from mediation.actors import is_integration
from mediation.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from mediation.models import Shop, ShopMember, ShopRole
from webhooks import services as service
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from workflows.transitions import PARTY_EVENT_TYPES

TAGS = ["webhooks"]

# --- Serializers ------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": ["*", *PARTY_EVENT_TYPES]},
        "minItems": 1,
    }
)
class EventListField(serializers.ListField):
    child = serializers.CharField(max_length=60)

    def to_internal_value(self, data: Any) -> list[str]:
        values: list[str] = super().to_internal_value(data)
        if not values:
            raise InvalidInput(
                'Subscribe to at least one event type, or ["*"] for all.',
                code="unknown_event_type",
            )
        unknown = sorted(set(values) - {"*", *PARTY_EVENT_TYPES})
        if unknown:
            raise InvalidInput(
                f"Unknown event type(s): {', '.join(unknown)}.",
                code="unknown_event_type",
                unknown=unknown,
                allowed=["*", *PARTY_EVENT_TYPES],
            )
        return ["*"] if "*" in values else sorted(set(values))


class WebhookEndpointSerializer(ReadModelSerializer):
    shop = serializers.SerializerMethodField()
    events = serializers.ListField(child=serializers.CharField())
    secret_rotated_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        help_text="Until then deliveries carry a second v1 signature made with the old secret.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "shop",
            "url",
            "events",
            "description",
            "active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "secret_rotated_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ShopRefSerializer(allow_null=True))
    def get_shop(self, obj: WebhookEndpoint) -> dict[str, Any] | None:
        """The shop; null for the platform integration's endpoint (every shop)."""
        return shop_ref(obj.shop) if obj.shop is not None else None


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown once: keep it to verify Mediation-Signature."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


# An absolute http(s) URL with a host name or IPv4 address, an optional port and path (no
# credentials, no spaces); whether it may be used (https, port, public addresses) is the
# URL guard's to say (422 webhook_url_not_allowed).
# The path, query and fragment in RFC 3986's characters (percent-escapes whole), so that the
# URL is a `format: uri` when it is shown back.
ENDPOINT_URL = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?"
    r"(?:[/?#](?:[-A-Za-z0-9._~:/?#@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?$"
)


def _url_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        ENDPOINT_URL,
        max_length=2000,
        error_messages={"invalid": "Give an absolute https URL."},
        help_text="https://host[:port]/path",
        **kwargs,
    )


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = _url_field()
    events = EventListField(help_text='Event types, or ["*"] for every party-visible event.')
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    # No default: the schema's default is what a client sends for "none", and a blank slug
    # is refused (a generated client would send it on every registration).
    shop = serializers.SlugField(
        required=False,
        help_text=(
            "The shop's slug; needed only when you own several shops. The platform "
            "integration leaves it out: its endpoints cover every shop."
        ),
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = _url_field(required=False)
    events = EventListField(required=False)
    description = serializers.CharField(max_length=200, required=False)
    active = serializers.BooleanField(
        required=False, help_text="true turns a disabled endpoint back on; false pauses it."
    )


class RotateSecretSerializer(serializers.Serializer):
    keep_previous_hours = serializers.IntegerField(
        min_value=0,
        max_value=168,
        required=False,
        default=24,
        help_text="How long the old secret also signs deliveries (0: stop at once).",
    )


class WebhookAttemptSerializer(ReadModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "succeeded",
            "response_code",
            "duration_ms",
            "error",
            "manual",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(ReadModelSerializer):
    event = serializers.UUIDField(source="event_id", read_only=True)
    response_code = serializers.IntegerField(
        source="last_response_code", read_only=True, allow_null=True
    )
    duration_ms = serializers.IntegerField(
        source="last_duration_ms", read_only=True, allow_null=True
    )
    attempt = serializers.IntegerField(source="attempts", read_only=True)
    attempts = WebhookAttemptSerializer(source="log", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "status",
            "attempt",
            "response_code",
            "duration_ms",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "updated_at",
            "attempts",
        ]
        read_only_fields = fields


# --- Lookups --------------------------------------------------------------------------------


def _owned_shop_ids(user: Any) -> Any:
    return ShopMember.objects.filter(user_id=user.pk, role=ShopRole.OWNER).values("shop_id")


def _endpoints(request: Request) -> QuerySet[WebhookEndpoint]:
    """A shop owner's endpoints of their shops; the platform integration's own (no shop)."""
    if is_integration(request.user):
        return WebhookEndpoint.objects.filter(shop__isnull=True).select_related("shop")
    return WebhookEndpoint.objects.filter(shop_id__in=_owned_shop_ids(request.user)).select_related(
        "shop"
    )


def _endpoint(request: Request, endpoint_id: Any) -> WebhookEndpoint:
    try:
        return _endpoints(request).get(pk=int(endpoint_id))
    except (WebhookEndpoint.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such webhook endpoint.") from None


def _shop_for_new_endpoint(request: Request, slug: str) -> Shop | None:
    if is_integration(request.user):
        # The platform's endpoint receives the events of every shop.
        if slug:
            raise RuleViolation(
                "The platform integration's endpoints cover every shop: leave `shop` out.",
                code="shop_not_allowed",
                field="shop",
            )
        return None
    owned = list(
        Shop.objects.filter(
            members__user_id=cast(int, request.user.pk), members__role=ShopRole.OWNER
        ).order_by("pk")
    )
    if slug:
        for shop in owned:
            if shop.slug == slug:
                return shop
        raise Forbidden("Only an owner of the shop registers its webhook endpoints.")
    if not owned:
        raise Forbidden("Only a shop's owner registers webhook endpoints.")
    if len(owned) > 1:
        raise RuleViolation("You own several shops: say which one in `shop`.", code="shop_required")
    return owned[0]


class EndpointPagination(CursorPage):
    ordering = "-id"


class DeliveryPagination(CursorPage):
    ordering = "-id"


# --- Views ---------------------------------------------------------------------------------


class WebhookEndpointListView(APIView):
    pagination_class = EndpointPagination

    @extend_schema(
        summary="List webhook endpoints",
        responses={200: WebhookEndpointSerializer(many=True)},
        tags=TAGS,
        description="The webhook endpoints of the shops you own (cursor paginated).",
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(_endpoints(request), request, view=self) or []
        return paginator.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        summary="Register a webhook endpoint",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
        description=(
            "A shop owner registers an endpoint. The answer holds the signing `secret`, "
            "shown this once. The URL must be https and resolve to public addresses only "
            '(422 webhook_url_not_allowed); `events` are event types or ["*"] '
            "(400 unknown_event_type)."
        ),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = valid(WebhookEndpointCreateSerializer, request)
        endpoint = service.register_endpoint(
            shop=_shop_for_new_endpoint(request, data.get("shop", "")),
            url=data["url"],
            events=data["events"],
            description=data["description"],
            created_by=request.user,
        )
        response = Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )
        response["Location"] = f"/api/v1/webhook-endpoints/{endpoint.pk}/"
        return response


class WebhookEndpointDetailView(APIView):
    @extend_schema(
        summary="Get a webhook endpoint", responses={200: WebhookEndpointSerializer}, tags=TAGS
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(WebhookEndpointSerializer(_endpoint(request, endpoint_id)).data)

    @extend_schema(
        summary="Change a webhook endpoint",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer},
        tags=TAGS,
        description=(
            "Change the URL, the events or the description; `active: true` turns a disabled "
            "endpoint back on (its waiting deliveries resume), `active: false` pauses it."
        ),
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        changes = valid(WebhookEndpointUpdateSerializer, request, partial=True)
        service.update_endpoint(endpoint, changes)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None}, tags=TAGS)
    def delete(self, request: Request, endpoint_id: int) -> Response:
        _endpoint(request, endpoint_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(APIView):
    @extend_schema(
        operation_id="rotate_webhook_secret",
        summary="Rotate the signing secret",
        request=RotateSecretSerializer,
        responses={200: WebhookEndpointWithSecretSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
        description=(
            "A new signing secret, shown this once. The old one keeps signing (a second v1 "
            "in Mediation-Signature) for `keep_previous_hours` (24 by default)."
        ),
    )
    @idempotent
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        data = valid(RotateSecretSerializer, request)
        service.rotate_secret(endpoint, timedelta(hours=data["keep_previous_hours"]))
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


STATUS_FILTER = OpenApiParameter(
    "status",
    str,
    enum=[c.value for c in DeliveryStatus],
    required=False,
    description="Only deliveries in this status.",
)


class WebhookDeliveryListView(APIView):
    pagination_class = DeliveryPagination

    @extend_schema(
        summary="List an endpoint's deliveries",
        parameters=[STATUS_FILTER],
        responses={200: WebhookDeliverySerializer(many=True)},
        tags=TAGS,
        description="The endpoint's deliveries, newest first, each with its attempts.",
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
            Prefetch("log", queryset=WebhookAttempt.objects.order_by("number"))
        )
        wanted = single(request, "status")
        if wanted:
            if wanted not in DeliveryStatus.values:
                raise InvalidInput(f"Unknown status {wanted!r}.", field="status")
            deliveries = deliveries.filter(status=wanted)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries, request, view=self) or []
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookRedeliverView(APIView):
    @extend_schema(
        operation_id="redeliver_webhook_delivery",
        summary="Send a delivery again",
        request=None,
        responses={202: WebhookDeliverySerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=TAGS,
        description=(
            "Send a delivery again (a fresh round of retries); 409 webhook_endpoint_disabled "
            "while the endpoint is off."
        ),
    )
    @idempotent
    def post(self, request: Request, endpoint_id: int, delivery_id: int) -> Response:
        endpoint = _endpoint(request, endpoint_id)
        try:
            delivery = WebhookDelivery.objects.get(pk=int(delivery_id), endpoint=endpoint)
        except (WebhookDelivery.DoesNotExist, TypeError, ValueError):
            raise NotFound("No such delivery of this endpoint.") from None
        if not endpoint.active:
            raise Conflict(
                "The endpoint is turned off; turn it on first (PATCH active=true).",
                code="webhook_endpoint_disabled",
            )
        delivery = service.redeliver(delivery)
        delivery = WebhookDelivery.objects.prefetch_related("log").get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
