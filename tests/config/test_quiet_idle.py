"""``LOG_QUIET_IDLE``'s filter (config/logs.py): what a service at rest logs is left out,
what happens is kept. The live view of it: tests/demo/test_serve.py."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from config.logs import QuietIdle, logging_config


def record(name: str, msg: Any, args: Any = None, level: int = logging.INFO) -> logging.LogRecord:
    made = logging.LogRecord(name, level, __file__, 1, msg, None, None)
    made.args = args  # as logging keeps a lone mapping argument
    return made


def request(path: str, code: int, event: str = "request_finished") -> logging.LogRecord:
    return record(
        "django_structlog.middlewares.request",
        {"event": event, "request": f"GET {path}", "code": code},
    )


LEFT_OUT = [
    record("celery.beat", "Scheduler: Sending due task %s (%s)", ("relay-outbox", "x")),
    record("celery.worker.strategy", "Task %(name)s[%(id)s] received", {"name": "x", "id": "1"}),
    record("celery.app.trace", "Task succeeded", {"return_value": "{'relayed': 0, 'failed': 0}"}),
    record(
        "celery.app.trace", "Task succeeded", {"return_value": "{'applied': 0, 'seconds': 0.021}"}
    ),
    record("celery.app.trace", "Task succeeded", {"return_value": "None"}),
    record("django_structlog.celery.receivers", {"event": "task_started"}),
    record("django_structlog.celery.receivers", {"event": "task_enqueued"}),
    request("/healthz", 200),
    request("/readyz", 200),
    request("/static/x.css", 200, event="streaming_finished"),
    record("axes.handlers.database", "AXES: Reset 0 access attempts from database."),
    record(
        "kombu.connection",
        "No hostname was supplied. Reverting to default 'localhost'",
        level=logging.WARNING,
    ),
]
KEPT = [
    record("celery.app.trace", "Task succeeded", {"return_value": "{'relayed': 3, 'failed': 0}"}),
    record("celery.app.trace", "Task failed", {"exc": "boom"}, level=logging.ERROR),
    record("django_structlog.celery.receivers", {"event": "task_failed"}, level=logging.ERROR),
    record("django_structlog.celery.receivers", {"event": "task_retrying"}, level=logging.WARNING),
    request("/readyz", 503),
    request("/api/v1/disputes/", 200),
    request("/", 200),
    record("notifications.mail", "email to %s: %s (%s)", ("a@example.com", "Hi", "var/mail/x")),
    record("axes.handlers.database", "AXES: Reset 2 access attempts from database."),
    record("celery.beat", "beat: Starting..."),
]


@pytest.mark.parametrize("made", LEFT_OUT, ids=lambda r: f"{r.name}:{str(r.msg)[:30]}")
def test_what_a_service_at_rest_logs_is_left_out(made: logging.LogRecord) -> None:
    assert QuietIdle().filter(made) is False


@pytest.mark.parametrize("made", KEPT, ids=lambda r: f"{r.name}:{str(r.msg)[:30]}")
def test_what_happens_is_kept(made: logging.LogRecord) -> None:
    assert QuietIdle().filter(made) is True


def test_the_filter_is_on_only_when_asked() -> None:
    assert "filters" not in logging_config("plain", "INFO")["handlers"]["console"]
    quiet = logging_config("json", "INFO", quiet_idle=True)
    assert quiet["handlers"]["console"]["filters"] == ["quiet_idle"]
