"""Celery tasks of the lifecycle: thin wrappers around the services, so a worker does what
the commands do. The outbox relay's task is defined beside the relay
(:func:`workflows.relay.relay_outbox`) and imported here, where Celery looks for tasks."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from workflows import counters, credentials, storage_sweep, sweeper
from workflows.relay import relay_outbox

log = logging.getLogger(__name__)


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
    report = sweeper.sweep(max_seconds=50).as_dict()
    _record_sweep_run()
    return report


# The sweeper's last run and its count, for /metrics (config/metrics.py): in the cache, which
# every process shares, since the run happens in a worker and the scrape in web.
SWEEP_LAST_RUN_KEY = "metrics:sweep:last-run"
SWEEP_RUNS_KEY = "metrics:sweep:runs"


def _record_sweep_run() -> None:
    cache.set(SWEEP_LAST_RUN_KEY, time.time(), timeout=None)  # fails open
    counters.bump(SWEEP_RUNS_KEY)


@shared_task(
    name="workflows.sweep_evidence_files",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
    ignore_result=True,
)
def sweep_evidence_files() -> dict[str, int]:
    """Hourly (CELERY_BEAT_SCHEDULE): remove stored evidence files that no row refers to and
    that are older than an hour (an upload killed between storing and committing); log rows
    whose file is missing."""
    report = storage_sweep.sweep_evidence_files()
    for pk in report.missing:
        log.error("Evidence %s: its file is missing from storage", pk)
    return {
        "scanned": report.scanned,
        "removed": len(report.removed),
        "too_recent": report.too_recent,
        "missing": len(report.missing),
    }


__all__ = ["relay_outbox", "sweep_deadlines", "sweep_evidence_files"]


@shared_task(
    name="workflows.clear_expired_tokens",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
    ignore_result=True,
)
def clear_expired_tokens() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): delete the rows of expired personal tokens (they are
    refused already)."""
    return credentials.clear_expired_tokens()
