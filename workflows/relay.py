"""The outbox relay (DESIGN §6): hands committed events to their consumers, at least once.

A change writes its :class:`~mediation.models.OutboxEvent` rows in its own transaction
(:mod:`workflows.events`); nothing here runs for a rollback, because there are no rows.
After commit, :func:`relay_pending` (a Celery task, kicked right after each commit and run
by beat every minute as a fallback) locks a batch of unrelayed rows with
``SELECT ... FOR UPDATE SKIP LOCKED``, so two relays never take the same row, calls every
registered consumer with each event, and marks it relayed. A consumer that fails leaves
the event unrelayed (``attempts`` and ``last_error`` say why) for the next run; a worker
that dies mid-batch rolls back and the rows are taken again. Consumers are therefore
called at least once per event and must be idempotent by event id (the webhook fan-out
relies on a unique constraint per event and endpoint).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mediation.models import OutboxEvent

logger = logging.getLogger(__name__)

Consumer = Callable[[OutboxEvent], None]

_consumers: dict[str, Consumer] = {}


def register(name: str, consumer: Consumer) -> None:
    """Add (or replace) a consumer; ``consume(event)`` must be idempotent."""
    _consumers[name] = consumer


def unregister(name: str) -> None:
    _consumers.pop(name, None)


def consumers() -> dict[str, Consumer]:
    return dict(_consumers)


@dataclass
class RelayReport:
    relayed: int = 0
    failed: int = 0


def relay_pending(batch: int | None = None) -> RelayReport:
    """Relay up to ``batch`` unrelayed events, oldest first (events that failed before go
    after the fresh ones, so one bad event cannot hold the queue)."""
    size = batch or settings.OUTBOX_RELAY_BATCH_SIZE
    report = RelayReport()
    with transaction.atomic():
        events = list(
            # Only the event rows (of=self): locking the joined disputes too would make
            # concurrent relays skip every event of a dispute another relay is on, and hold
            # up the dispute's transitions while the consumers run.
            OutboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(relayed_at__isnull=True)
            .select_related("dispute")
            .order_by("attempts", "created_at", "dispute_id", "audit_seq")[:size]
        )
        for event in events:
            errors = []
            for name, consume in consumers().items():
                try:
                    # A savepoint per consumer: a database error in one leaves the batch usable.
                    with transaction.atomic():
                        consume(event)
                except Exception as exc:
                    logger.exception("Outbox consumer %s failed on event %s", name, event.pk)
                    errors.append(f"{name}: {exc.__class__.__name__}: {exc}")
            event.attempts += 1
            if errors:
                event.last_error = "\n".join(errors)[:2000]
                report.failed += 1
            else:
                event.relayed_at = timezone.now()
                event.last_error = ""
                report.relayed += 1
            event.save(update_fields=["attempts", "last_error", "relayed_at"])
    return report


_RELAY_TASK = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "max_retries": 3,
    "retry_backoff": True,
    "soft_time_limit": 50,
    "time_limit": 60,
    "ignore_result": True,
}


def _relay_outbox() -> dict[str, int]:
    report = relay_pending()
    return {"relayed": report.relayed, "failed": report.failed}


@shared_task(name="workflows.relay_outbox", **_RELAY_TASK)
def relay_outbox() -> dict[str, int]:
    """Relay what is pending (kicked after each commit, and by beat every minute). Safe to
    run twice: rows are locked with SKIP LOCKED and marked once relayed."""
    return _relay_outbox()


# The name this task had in the api app, kept for one release so that messages queued (and
# beat entries stored) before the upgrade still run. Remove in the release after.
relay_outbox_old_name = shared_task(name="api.relay_outbox", **_RELAY_TASK)(_relay_outbox)


def relay_soon() -> None:
    """After the current transaction commits, ask a worker to relay (no query, no wait).

    Beat runs the relay every minute anyway; this only makes delivery prompt. A broker
    that cannot take the message is logged and left to beat.
    """
    if not getattr(settings, "OUTBOX_RELAY_ON_COMMIT", False):
        return
    transaction.on_commit(_send_relay_task)


def _send_relay_task() -> None:
    try:
        relay_outbox.apply_async(retry=False)
    except Exception:
        logger.warning("Could not queue the outbox relay; beat will run it", exc_info=True)
