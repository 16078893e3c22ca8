"""Celery tasks: thin wrappers around the services, so a worker does what the commands do."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from workflows import sweeper


@shared_task(
    name="workflows.sweep_deadlines",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=90,
    time_limit=110,
    ignore_result=True,
)
def sweep_deadlines() -> dict[str, Any]:
    """Every minute (CELERY_BEAT_SCHEDULE): apply due deadline transitions, flag SLA
    breaches, send due reminders. Stops between batches after 50 s so runs do not pile up;
    what is left is done by the next run, and overlapping runs share the work."""
    return sweeper.sweep(max_seconds=50).as_dict()
