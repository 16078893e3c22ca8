"""Logging: one line per record, as JSON in deployment (``LOG_FORMAT=json``) or as readable
text on a laptop (``plain``, the default), through structlog for the service's own records
and for every library's (Django, Celery, gunicorn's error log).

Each record carries what the request or task it belongs to is about, from context variables
bound by django-structlog's middleware and Celery receivers and by the service
(``config.middleware.RequestLogMiddleware``, ``api.authentication``): ``request_id``
(the caller's ``X-Request-ID`` when well-formed, else a new UUID; returned in the response
and carried into the tasks the request enqueues), ``user_id`` and ``dispute_id``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import structlog

FORMATS = ("plain", "json")

# What every record gets, the service's and the libraries' alike.
_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    structlog.stdlib.ExtraAdder(),
]


def renderer(log_format: str) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer(sort_keys=False)
    return structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback
    )


def formatter(log_format: str) -> dict[str, Any]:
    """A ``logging`` formatter definition (dictConfig's ``()`` form) for ``log_format``."""
    final: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if log_format == "json":
        # The traceback as a string field of the JSON object, not a multi-line dump.
        final.append(structlog.processors.dict_tracebacks)
    final.append(renderer(log_format))
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": final,
        "foreign_pre_chain": [
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
        ],
    }


def configure_structlog() -> None:
    """structlog's own loggers (django-structlog's request and task events) hand their
    records to ``logging``, which formats them like every other record."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# Requests that say nothing when they succeed: probes and scrapes, the browser's icon.
PROBE_PATHS = ("/healthz", "/readyz", "/metrics", "/favicon.ico")
# django-structlog's events of every task (the periodic ones every minute): a failure, a
# retry or a revocation is logged all the same.
_TASK_ROUTINE = frozenset({"task_enqueued", "task_received", "task_started", "task_succeeded"})
# The counts in a task's result, not the decimals of a duration ('seconds': 0.021).
_AXES_NOTHING = re.compile(r"AXES: (?:Cleaned up|Reset|Deleted) 0 ")
_NUMBER = re.compile(r"(?<![\d.])\d+(?![\d.])")


def _event(record: logging.LogRecord) -> dict[str, Any]:
    """The event dict of a structlog record (``wrap_for_formatter`` puts it in ``msg``)."""
    return record.msg if isinstance(record.msg, dict) else {}


def _did_nothing(return_value: Any) -> bool:
    """Whether a task's result counts nothing: ``0``, ``None``, ``{'relayed': 0, ...}``."""
    return all(int(n) == 0 for n in _NUMBER.findall(str(return_value)))


class QuietIdle(logging.Filter):
    """Leave out what a service at rest logs (``LOG_QUIET_IDLE``, ``make run``'s default):
    beat's ticks, each task's received/started/succeeded lines, the result of a periodic
    task that found nothing to do, the successful probes of /healthz and /readyz, a login's
    housekeeping that removed nothing (django-axes), and kombu's warning that the
    local-files broker has no host name. Warnings and errors, a
    task that did something (``{'relayed': 3}``), every other request and the emails stay.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return not (
                record.name == "kombu.connection"
                and str(record.msg).startswith("No hostname was supplied")
            )
        name = record.name
        if name.startswith("axes."):
            # Each login's housekeeping that found nothing ("Reset 0 access attempts").
            return not _AXES_NOTHING.match(str(record.msg))
        if name == "celery.beat":
            return not str(record.msg).startswith("Scheduler: Sending due task")
        if name == "celery.worker.strategy":
            return False  # "Task ... received"
        if name == "celery.app.trace":
            args = record.args if isinstance(record.args, dict) else {}
            return "return_value" not in args or not _did_nothing(args["return_value"])
        event = _event(record)
        if name.startswith("django_structlog.celery"):
            return event.get("event") not in _TASK_ROUTINE
        if name.startswith("django_structlog.middlewares"):
            request = str(event.get("request", ""))
            path = request.partition(" ")[2].partition("?")[0]
            if event.get("event") == "streaming_finished":
                return False  # the request_finished line before it said it all
            return not (path in PROBE_PATHS and str(event.get("code", "")).startswith("2"))
        return True


def logging_config(log_format: str, level: str, *, quiet_idle: bool = False) -> dict[str, Any]:
    """``LOGGING`` for settings; ``quiet_idle``: with the :class:`QuietIdle` filter."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": log_format}
    if quiet_idle:
        handler["filters"] = ["quiet_idle"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {name: formatter(name) for name in FORMATS},
        "filters": {"quiet_idle": {"()": QuietIdle}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # django-health-check logs every failed check with its traceback, each probe; the
            # readiness view (api/health.py) logs once when what is unavailable changes.
            "health_check": {"level": "ERROR"},
            # Django's warning for each 4xx comes after the middleware (without the request's
            # ids); django-structlog's request_finished records every response with them.
            "django.request": {"level": "ERROR"},
        },
    }
