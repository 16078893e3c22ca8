"""Celery tasks of the outbox relay and the webhooks: thin, ids in, service calls.

Late acknowledgement (settings) means a worker that dies mid-task leaves the message to
another; every task is safe to run twice (the relay locks rows with SKIP LOCKED and marks
them, a delivery is claimed with a lease and recorded once per attempt).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from api import webhook_delivery
from workflows import relay


@shared_task(
    name="api.relay_outbox",
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
)
def relay_outbox() -> dict[str, int]:
    report = relay.relay_pending()
    return {"relayed": report.relayed, "failed": report.failed}


@shared_task(
    name="api.deliver_webhook",
    acks_late=True,
    # The service schedules its own retries (next_attempt_at); this only covers a
    # database hiccup around the attempt.
    autoretry_for=(Exception,),
    max_retries=2,
    retry_backoff=True,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def deliver_webhook(delivery_id: int) -> str | None:
    delivery = webhook_delivery.deliver(delivery_id)
    return None if delivery is None else delivery.status


@shared_task(
    name="api.retry_due_webhooks",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    ignore_result=True,
)
def retry_due_webhooks() -> int:
    """Queue an attempt for every delivery whose time has come (a due one already being
    attempted is skipped by the claim).

    A delivery stays due until it is attempted, so every run queues it again; the message
    expires before the next run, which would otherwise pile up one more copy per delivery
    each interval whenever the workers are behind."""
    due = webhook_delivery.due_deliveries()
    expires = settings.BEAT_INTERVAL * 0.9
    for delivery_id in due:
        deliver_webhook.apply_async((delivery_id,), expires=expires)
    return len(due)
