"""The Celery app. Broker and schedule come from settings (CELERY_* variables)."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, task_revoked, worker_ready
from django_structlog.celery.steps import DjangoStructLogInitStep

from config import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The broker on local files writes each message whole before a worker can take it.
broker.install()

app = Celery("mediation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task's log records carry the request_id (and user_id) of the request that enqueued it.
app.steps["worker"].add(DjangoStructLogInitStep)
logger = logging.getLogger("config.celery")


def _make_broker_folders() -> None:
    """The broker on local files (the embedded default) needs its folders to exist."""
    from pathlib import Path

    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


_make_broker_folders()


# --- Tasks that expired in a queue -----------------------------------------------------------
# A periodic task carries an expiry (the sweeper's: 0.9 of its interval): a worker that takes
# it later discards it, since the next run does its work. That must not pass silently: a
# queue that is always too slow would drop every sweep. Each expiry is logged as a warning
# and counted (the cache's "celery-expired:<task name>", per task name).
EXPIRED_KEY = "celery-expired:{}"


@task_revoked.connect
def _count_expired(
    sender: Any = None, request: Any = None, expired: bool = False, **_: Any
) -> None:
    if not expired:
        return
    name = getattr(request, "task", None) or getattr(sender, "name", None) or "unknown"
    delivery = getattr(request, "delivery_info", None) or {}
    logger.warning(
        "Task %s expired in the queue before a worker took it (queue %s): its work waits for "
        "the next run. A queue whose tasks expire needs more workers.",
        name,
        delivery.get("routing_key") or "?",
    )
    count_expired(name)


def count_expired(name: str) -> int | None:
    from workflows.counters import bump

    return bump(EXPIRED_KEY.format(name))


def expired_count(name: str) -> int:
    """How many times tasks named ``name`` expired in a queue (since the cache was emptied)."""
    from django.core.cache import cache

    return int(cache.get(EXPIRED_KEY.format(name)) or 0)


def _started(name: str) -> None:
    """``manage.py serve`` waits for the worker and beat to be up before its banner: each
    leaves a file named after itself in ``SERVE_READY_DIR`` (set by serve only)."""
    from pathlib import Path

    folder = os.environ.get("SERVE_READY_DIR", "")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).touch()


@worker_ready.connect
def _worker_ready(**kwargs: Any) -> None:
    _started("worker")


@beat_init.connect
def _beat_ready(**kwargs: Any) -> None:
    _started("beat")
