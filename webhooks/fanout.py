"""The webhooks' outbox consumer: one :class:`WebhookDelivery` per event and subscribed,
active endpoint of the dispute's shop, and of the platform integration (the endpoints of
no shop: every shop's disputes); a unique constraint makes a re-relay harmless. Internal
events never reach a webhook."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from mediation.models import OutboxEvent
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tasks import enqueue_delivery
from workflows.transitions import PARTY_EVENT_TYPES


def fan_out(event: OutboxEvent) -> None:
    """Create the deliveries of one event (idempotent: a re-relay adds none)."""
    if event.internal or event.type not in PARTY_EVENT_TYPES:
        return
    shop_id = event.dispute.shop_id
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(
            Q(shop_id=shop_id) | Q(shop__isnull=True), active=True
        )
        if e.subscribes_to(event.type)
    ]
    if not endpoints:
        return
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=e, event=event, event_type=event.type, next_attempt_at=now)
            for e in endpoints
        ],
        ignore_conflicts=True,
    )
    fresh = list(
        WebhookDelivery.objects.filter(
            event=event, attempts=0, status=DeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )
    for delivery_id in fresh:
        enqueue_delivery(delivery_id)
