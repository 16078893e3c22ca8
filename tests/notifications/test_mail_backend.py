"""The default email backend (notifications/mail.py): each message whole in a file under
EMAIL_FILE_PATH, and one line of the log naming it."""

from __future__ import annotations

import email
import email.message
import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection


def _text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_each_email_is_a_file_and_a_line(settings: Any, tmp_path: Path, caplog: Any) -> None:
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    backend = get_connection("notifications.mail.FileSummaryBackend")
    message = EmailMultiAlternatives(
        "Your dispute on order PP-1001",
        "Hello Alice,\n\nOpen it: http://x/disputes/1/\n",
        "disputes@marketplace.local",
        ["alice@example.com"],
    )
    message.attach_alternative("<p>Hello Alice</p>", "text/html")
    empty = EmailMultiAlternatives("Nobody", "x", "disputes@marketplace.local", [])
    with caplog.at_level(logging.INFO, logger="notifications.mail"):
        assert backend.send_messages([message, empty]) == 1

    (path,) = (tmp_path / "mail").glob("*.eml")
    assert not list((tmp_path / "mail").glob("*.part"))
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["Subject"] == "Your dispute on order PP-1001"
    assert parsed["To"] == "alice@example.com"
    parts = {p.get_content_type(): _text(p) for p in parsed.walk() if not p.is_multipart()}
    assert "Open it: http://x/disputes/1/" in parts["text/plain"]
    assert parts["text/html"] == "<p>Hello Alice</p>"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "notifications.mail"]
    assert line == f"email to alice@example.com: Your dispute on order PP-1001 ({path})"


def test_a_folder_that_cannot_be_written_fails_the_send(settings: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.EMAIL_FILE_PATH = str(blocker / "mail")
    message = EmailMultiAlternatives("S", "b", "f@example.com", ["a@example.com"])
    with pytest.raises(OSError):
        get_connection("notifications.mail.FileSummaryBackend").send_messages([message])
    quiet = get_connection("notifications.mail.FileSummaryBackend", fail_silently=True)
    assert quiet.send_messages([message]) == 0
