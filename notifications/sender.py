"""Sending the emails the relay's consumer wrote (DESIGN §6): claimed, sent, recorded.

:func:`notifications.emails.consume` runs in the outbox relay's transaction and only writes
:class:`~mediation.models.Notification` rows, ``pending`` and rendered. :func:`send_due`
(the Celery task ``notifications.send_emails``, queued after each relay that wrote rows and
run by beat every minute) sends them, one row at a time:

1. **Claim**, in a transaction of its own that commits before anything is sent: the row
   (``SELECT ... FOR UPDATE SKIP LOCKED``, so two senders never take the same one) becomes
   ``sending``, its attempt is counted, and it is leased until ``next_attempt_at``
   (:setting:`NOTIFICATION_SEND_LEASE_SECONDS`).
2. **Send**, outside any transaction, with the row's ``Message-ID``.
3. **Record**: ``sent``; or, for a temporary failure (no connection, a 4xx answer), ``pending``
   again at the next time of :data:`RETRY_DELAYS`; or ``failed`` for good (the server
   refused the address with a 5xx, or :setting:`NOTIFICATION_MAX_ATTEMPTS` are spent).

At least once, and a duplicate only in one window
    A sender killed after its claim leaves the row ``sending``; once the lease is over,
    the next run sends it. Only a kill between the mail server's "250 OK" and the record
    (milliseconds) sends an email twice, and then with the same ``Message-ID``, which
    mail systems and clients use to drop the second copy. A crash of the relay itself
    sends nothing: the rows roll back with it and the next relay writes them again.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mediation.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

# The wait after the n-th failed attempt: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h,
# 12 h (about 28 h in all, 10 attempts with NOTIFICATION_MAX_ATTEMPTS at its default).
RETRY_DELAYS: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200)
DUE = (NotificationStatus.PENDING, NotificationStatus.SENDING)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def message_id(event_id: int, user_id: int) -> str:
    """The Message-ID of the email of one event to one person, made once, when the row is
    written: ``<time.pid.random.n.<event>.<user>@<domain of DEFAULT_FROM_EMAIL>>``."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return make_msgid(idstring=f"n.{event_id}.{user_id}", domain=domain)


def lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_SEND_LEASE_SECONDS)


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the ``attempts``-th failed attempt; None when they are spent."""
    if attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        return None
    return timedelta(seconds=RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1])


def due(now: datetime | None = None) -> Q:
    """Rows the sender may take now: pending ones whose time has come, and ones being sent
    whose lease is over (their sender died)."""
    return Q(status__in=DUE, next_attempt_at__lte=now or timezone.now())


def _claim(now: datetime) -> Notification | None:
    with transaction.atomic():
        row = (
            # The event too (build() names its dispute), locked: the notification row only.
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event")
            .filter(due(now))
            .order_by("next_attempt_at", "id")
            .first()
        )
        if row is None:
            return None
        row.status = NotificationStatus.SENDING
        row.attempts += 1
        row.next_attempt_at = now + lease()
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        return row


def build(row: Notification) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.email],
        headers={
            "Message-ID": row.message_id,
            "Auto-Submitted": "auto-generated",
            "X-Mediation-Event": str(row.event_id),
            "X-Mediation-Dispute": str(row.event.dispute_id),
        },
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def permanent(exc: BaseException) -> bool:
    """A refusal the same message would get again: every recipient refused, or a 5xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _record(row: Notification, error: BaseException | None, report: SendReport) -> None:
    now = timezone.now()
    fields: dict[str, object]
    if error is None:
        fields = {
            "status": NotificationStatus.SENT,
            "sent_at": now,
            "error": "",
            "next_attempt_at": None,
        }
        report.sent += 1
    else:
        wait = None if permanent(error) else retry_delay(row.attempts)
        fields = {"error": f"{error.__class__.__name__}: {error}"[:2000]}
        if wait is None:
            fields.update(status=NotificationStatus.FAILED, next_attempt_at=None)
            report.failed += 1
        else:
            fields.update(status=NotificationStatus.PENDING, next_attempt_at=now + wait)
            report.retrying += 1
    # Only this claim's row: had the lease run out and another sender taken the row, that
    # sender's attempt (counted after this one) records the outcome.
    Notification.objects.filter(
        pk=row.pk, status=NotificationStatus.SENDING, attempts=row.attempts
    ).update(**fields)


def send_due(limit: int | None = None) -> SendReport:
    """Send up to ``limit`` (:setting:`NOTIFICATION_SEND_BATCH_SIZE`) due emails over one
    connection to the mail server."""
    size = limit or settings.NOTIFICATION_SEND_BATCH_SIZE
    report = SendReport()
    if not Notification.objects.filter(due()).exists():
        return report
    connection = get_connection()
    try:
        try:
            connection.open()
        except Exception:
            # Each send below then tries to connect again, and records its own failure.
            logger.warning("Could not open the mail connection", exc_info=True)
        for _ in range(size):
            row = _claim(timezone.now())
            if row is None:
                break
            message = build(row)
            message.connection = connection
            error: BaseException | None = None
            try:
                message.send()
            except Exception as exc:
                logger.warning(
                    "Email %s (%s) to user %s failed", row.pk, row.kind, row.user_id, exc_info=True
                )
                error = exc
            _record(row, error, report)
    finally:
        try:
            connection.close()
        except Exception:
            logger.debug("Closing the mail connection failed", exc_info=True)
    return report
