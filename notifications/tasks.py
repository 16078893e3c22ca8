"""Celery tasks of the notifications: thin, queued after commit, safe to run twice (each
email is claimed in a committed step before it is sent: :mod:`notifications.sender`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


@shared_task(
    name="notifications.send_emails",
    acks_late=True,
    ignore_result=True,
    # A batch of NOTIFICATION_SEND_BATCH_SIZE emails, each bounded by EMAIL_TIMEOUT.
    soft_time_limit=100,
    time_limit=120,
)
def send_emails() -> dict[str, int]:
    """Send the emails that are due (queued after each relay that wrote some, and run by
    beat every minute for retries and for what a lost message left)."""
    from notifications import sender

    report = sender.send_due()
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}


def send_soon() -> None:
    """After the current transaction commits, ask a worker to send (beat does anyway)."""
    if not settings.OUTBOX_RELAY_ON_COMMIT:
        return

    def queue() -> None:
        try:
            send_emails.apply_async(retry=False)
        except Exception:
            logger.warning("Could not queue the email sender; beat will run it", exc_info=True)

    transaction.on_commit(queue)
