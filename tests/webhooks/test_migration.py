"""The webhook models moved from the api app to the webhooks app without touching their
tables: a database at the layout before the move (api.0002_webhooks, no webhooks app)
migrates forward and the new models find every row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from tests.scenarios import dispute_in
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from workflows import relay

# Where the api and webhooks apps stood before the move.
BEFORE = [("api", "0002_webhooks"), ("webhooks", None)]


def _migrate(targets: Sequence[tuple[str, str | None]]) -> Any:
    """Migrate to ``targets``; the models as they were at the api app's target."""
    MigrationExecutor(connection).migrate(targets)  # type: ignore[arg-type]
    loader = MigrationExecutor(connection).loader
    nodes = [(app, name) for app, name in targets if app == "api" and name is not None]
    return loader.project_state(nodes).apps


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return list(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_found_after_it() -> None:
    sc = dispute_in("awaiting_seller")
    relay.relay_pending()  # the raise's outbox events exist
    from mediation.models import OutboxEvent

    event = OutboxEvent.objects.filter(dispute_id=sc.id).order_by("pk").first()
    assert event is not None
    latest = _latest()
    try:
        old = _migrate(BEFORE)
        applied = MigrationRecorder(connection).applied_migrations()
        assert ("api", "0002_webhooks") in applied
        assert not any(app == "webhooks" for app, _ in applied)
        assert ("api", "0003_webhooks_move_to_their_app") not in applied
        Endpoint = old.get_model("api", "WebhookEndpoint")
        Delivery = old.get_model("api", "WebhookDelivery")
        Attempt = old.get_model("api", "WebhookAttempt")
        endpoint = Endpoint.objects.create(
            shop_id=sc.dispute.shop_id,
            url="https://hooks.example/paper-petals",
            events=["*"],
            secret="whsec_before_the_move",
        )
        delivery = Delivery.objects.create(
            endpoint=endpoint, event_id=event.pk, event_type=event.type, status="succeeded"
        )
        Attempt.objects.create(
            delivery=delivery, number=1, started_at=timezone.now(), succeeded=True
        )
        ContentType.objects.get_or_create(app_label="api", model="webhookendpoint")
        ContentType.objects.filter(app_label="webhooks").delete()
    finally:
        _migrate(latest)

    moved = WebhookEndpoint.objects.get(url="https://hooks.example/paper-petals")
    assert moved.pk == endpoint.pk and moved.secret == "whsec_before_the_move"
    assert moved.shop_id == sc.dispute.shop_id
    (found,) = WebhookDelivery.objects.filter(endpoint=moved)
    assert found.event_id == event.pk and found.status == "succeeded"
    assert WebhookAttempt.objects.get(delivery=found).succeeded
    # The constraints came along with the table: one delivery per endpoint and event.
    assert WebhookDelivery._meta.db_table == "api_webhookdelivery"
    # Permissions granted on the old model follow it (its content type was relabelled).
    assert ContentType.objects.filter(app_label="webhooks", model="webhookendpoint").exists()
    assert not ContentType.objects.filter(app_label="api", model="webhookendpoint").exists()
