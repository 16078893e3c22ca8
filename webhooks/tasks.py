"""Celery tasks of the webhooks: thin, ids in, service calls, enqueued by the task object
after commit.

Late acknowledgement (settings) means a worker that dies mid-task leaves the message to
another; every task is safe to run twice (a delivery is claimed with a lease and recorded
once per attempt).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from webhooks import delivery

logger = logging.getLogger(__name__)

_DELIVER = {
    "acks_late": True,
    # The service schedules its own retries (next_attempt_at); this only covers a
    # database hiccup around the attempt.
    "autoretry_for": (Exception,),
    "max_retries": 2,
    "retry_backoff": True,
    "soft_time_limit": 60,
    "time_limit": 90,
    "ignore_result": True,
}
_RETRY = {"acks_late": True, "soft_time_limit": 50, "time_limit": 60, "ignore_result": True}


def _deliver(delivery_id: int) -> str | None:
    done = delivery.deliver(delivery_id)
    return None if done is None else done.status


def _retry_due() -> int:
    due = delivery.due_deliveries()
    expires = settings.BEAT_INTERVAL * 0.9
    for delivery_id in due:
        deliver_webhook.apply_async((delivery_id,), expires=expires)
    return len(due)


@shared_task(name="webhooks.deliver_webhook", **_DELIVER)
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt of one delivery."""
    return _deliver(delivery_id)


@shared_task(name="webhooks.retry_due_webhooks", **_RETRY)
def retry_due_webhooks() -> int:
    """Queue an attempt for every delivery whose time has come (a due one already being
    attempted is skipped by the claim).

    A delivery stays due until it is attempted, so every run queues it again; the message
    expires before the next run, which would otherwise pile up one more copy per delivery
    each interval whenever the workers are behind."""
    return _retry_due()


# The names these tasks had in the api app, kept for one release so that messages queued
# (and beat entries stored) before the upgrade still run. Remove in the release after.
deliver_webhook_old_name = shared_task(name="api.deliver_webhook", **_DELIVER)(_deliver)
retry_due_webhooks_old_name = shared_task(name="api.retry_due_webhooks", **_RETRY)(_retry_due)


def enqueue_delivery(delivery_id: int) -> None:
    """After commit, ask a worker for an attempt (beat's retry run picks up any it misses)."""

    def send() -> None:
        try:
            deliver_webhook.apply_async((delivery_id,), retry=False)
        except Exception:
            logger.warning("Could not queue webhook delivery %s", delivery_id, exc_info=True)

    if settings.OUTBOX_RELAY_ON_COMMIT:
        transaction.on_commit(send)


__all__ = ["deliver_webhook", "enqueue_delivery", "retry_due_webhooks"]
