"""An email backend for a laptop (the default, ``make run``'s): each message is written
whole to a file under ``EMAIL_FILE_PATH`` (``$DATA_DIR/mail``, one ``.eml`` file a message,
which any mail client opens) and summed up in one line of the log, instead of the console
backend's dump of every MIME part into the worker's output. Nothing is sent: SMTP is
``EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend``."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger(__name__)


def mail_folder() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


class FileSummaryBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.folder = mail_folder()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            log.info(
                "email to %s: %s (%s)",
                ", ".join(message.recipients()),
                message.subject,
                _shown(path),
            )
            sent += 1
        return sent

    def _write(self, message: EmailMessage) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        # Written aside, then renamed: a mail client never opens half a message.
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(message.message().as_bytes())
        os.replace(partial, path)
        return path


def _shown(path: Path) -> str:
    """The file as a path from the project's folder when it is under it (var/mail/...)."""
    try:
        return str(path.relative_to(Path(settings.BASE_DIR)))
    except ValueError:
        return str(path)
