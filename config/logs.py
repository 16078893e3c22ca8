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


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING`` for settings."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {name: formatter(name) for name in FORMATS},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
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
