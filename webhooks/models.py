"""A shop's webhook endpoints, and the delivery of each event to each of them.

The tables were created by the ``api`` app and keep their names (``api_webhook*``): the
models moved here with ``SeparateDatabaseAndState`` (migrations ``api.0003`` and
``webhooks.0001``), so an existing database keeps its rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WebhookEndpoint(models.Model):
    """A URL of a shop's that receives signed event deliveries (DESIGN §6).

    The secret is kept (not hashed) because every delivery is signed with it; after a
    rotation the previous secret also signs until ``previous_secret_expires_at``.
    """

    # None: the platform integration's endpoint, for the disputes of every shop.
    shop = models.ForeignKey(
        "mediation.Shop",
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        null=True,
        blank=True,
    )
    url = models.URLField(max_length=2000)
    # Event types (workflows.transitions.PARTY_EVENT_TYPES), or ["*"] for all of them.
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Deliveries in a row that failed for good (every retry spent); a success resets it.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "api_webhookendpoint"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.shop_id})"

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: sent until it succeeds or its retries are spent."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("mediation.OutboxEvent", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=60)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Attempts in all; ``round_attempts`` counts those since the last (re)delivery request,
    # which is what the retry schedule follows.
    attempts = models.PositiveIntegerField(default=0)
    round_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The JSON body, built at the first attempt and sent as is on every retry.
    body = models.TextField(blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "api_webhookdelivery"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status__in=["pending", "retrying"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to endpoint {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    manual = models.BooleanField(default=False)

    class Meta:
        db_table = "api_webhookattempt"
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")
        ]
        # /metrics counts the last minutes' attempts by outcome (config/metrics.py).
        indexes = [models.Index(fields=["started_at"], name="webhook_attempt_started")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
