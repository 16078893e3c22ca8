"""Celery tasks of the domain: the anchoring of the audit heads (DESIGN §8)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from mediation import audit_anchor


@shared_task(
    name="mediation.anchor_audit_heads",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
)
def anchor_audit_heads() -> dict[str, Any]:
    """Every AUDIT_ANCHOR_INTERVAL_SECONDS (CELERY_BEAT_SCHEDULE): write signed checkpoints
    of the audit heads that changed since the last one to the anchor storage. Runs one at a
    time (a lock); a run with nothing new writes nothing. Stops between checkpoints after
    500 s (the first run after the upgrade anchors every dispute: about 150 µs a head, a
    few minutes at a million); the next run goes on where it stopped."""
    return audit_anchor.anchor_heads(max_seconds=500).as_dict()
