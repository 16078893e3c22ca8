"""The Celery app. Broker and schedule come from settings (CELERY_* variables)."""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mediation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task's log records carry the request_id (and user_id) of the request that enqueued it.
app.steps["worker"].add(DjangoStructLogInitStep)


def _make_broker_folders() -> None:
    """The broker on local files (the embedded default) needs its folders to exist."""
    from pathlib import Path

    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


_make_broker_folders()
