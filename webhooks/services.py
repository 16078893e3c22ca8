"""What a shop's owner does with its webhook endpoints: register, change, rotate the
secret, turn off and on, redeliver. The REST views (:mod:`webhooks.views`) call these."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mediation.errors import RuleViolation
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.signing import new_secret
from webhooks.tasks import enqueue_delivery
from webhooks.url_guard import check_url

MAX_ENDPOINTS_PER_SHOP = 20


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a fresh round of attempts (a new retry schedule) for one delivery."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = DeliveryStatus.PENDING
        locked.round_attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "round_attempts", "next_attempt_at", "updated_at"])
        enqueue_delivery(locked.pk)
    return locked


def register_endpoint(
    *, shop: Any, url: str, events: list[str], description: str, created_by: Any
) -> WebhookEndpoint:
    """A new endpoint of ``shop`` (None: the platform integration's, for every shop) with a
    fresh secret: the URL checked, the limit of endpoints kept."""
    _check_new_url(url)
    mine = (
        WebhookEndpoint.objects.filter(shop=shop)
        if shop is not None
        else WebhookEndpoint.objects.filter(shop__isnull=True)
    )
    if mine.count() >= MAX_ENDPOINTS_PER_SHOP:
        raise RuleViolation(
            f"A shop may have at most {MAX_ENDPOINTS_PER_SHOP} webhook endpoints.",
            code="webhook_endpoint_limit",
        )
    return WebhookEndpoint.objects.create(
        shop=shop,
        url=url,
        events=events,
        description=description,
        secret=new_secret(),
        created_by=created_by,
    )


def update_endpoint(endpoint: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change the URL (checked), the events, the description, or whether it is active."""
    if "url" in changes:
        _check_new_url(changes["url"])
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = changes["events"]
    if "description" in changes:
        endpoint.description = changes["description"]
    if "active" in changes:
        set_active(endpoint, changes["active"])
    endpoint.save()
    return endpoint


def _check_new_url(url: str) -> None:
    # Where private URLs are allowed (development), the host need not resolve yet: every
    # delivery resolves and checks it again anyway.
    check_url(url, resolve=not settings.WEBHOOKS_ALLOW_PRIVATE_URLS)


def rotate_secret(endpoint: WebhookEndpoint, keep_previous: timedelta) -> str:
    """A new secret; the old one keeps signing (as a second ``v1``) for ``keep_previous``."""
    now = timezone.now()
    secret = new_secret()
    if keep_previous > timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + keep_previous
    else:
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret = secret
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return secret


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """Turn an endpoint off (by its owner) or back on; on again, waiting deliveries resume."""
    if active == endpoint.active:
        return
    endpoint.active = active
    if active:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        waiting = WebhookDelivery.objects.filter(
            endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
        )
        waiting.update(next_attempt_at=timezone.now())
    else:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Turned off by the shop."
