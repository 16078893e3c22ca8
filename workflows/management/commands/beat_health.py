"""``python manage.py beat_health``: are the periodic tasks being sent? (compose's beat
healthcheck; a Kubernetes liveness or readiness command likewise).

Healthy (exit 0) when the deadline sweeper's schedule entry ran within ``--max-age``
seconds (by default three beat intervals, plus the DatabaseScheduler's three minutes
between its writes of the run times): read from RedBeat's entry in Redis in deployment, from
django-celery-beat's table on the embedded default. A standby beat (RedBeat's lock held by
another) is healthy while the active one sends; no beat sending makes every beat unhealthy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

ENTRY = "sweep-deadlines"
# How long django-celery-beat's DatabaseScheduler may keep a run time before writing it.
DATABASE_SYNC_SECONDS = 180


def last_sweep_sent() -> datetime | None:
    """When beat last sent the deadline sweeper's task (None: never)."""
    if settings.REDBEAT:
        from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf

        app = current_app._get_current_object()
        ensure_conf(app)  # RedBeat's settings on the app, as its scheduler sets them
        key = RedBeatSchedulerEntry.generate_key(app, ENTRY)
        last = RedBeatSchedulerEntry.load_meta(key, app).get("last_run_at")
    else:
        from django_celery_beat.models import PeriodicTask

        last = PeriodicTask.objects.filter(name=ENTRY).values_list("last_run_at", flat=True).first()
    if last is not None and timezone.is_naive(last):
        last = timezone.make_aware(last, UTC)
    return last


class Command(BaseCommand):
    help = "Exit 0 when beat sent the deadline sweeper within --max-age seconds, 1 otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-age", type=float, default=None, help="Seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["max_age"]
        if limit is None:
            limit = 3 * settings.BEAT_INTERVAL + (0 if settings.REDBEAT else DATABASE_SYNC_SECONDS)
        scheduler = "RedBeat" if settings.REDBEAT else "DatabaseScheduler"
        last = last_sweep_sent()
        if last is None:
            raise CommandError(f"beat ({scheduler}) has not sent {ENTRY} yet")
        age = (timezone.now() - last).total_seconds()
        if age > limit:
            raise CommandError(
                f"beat ({scheduler}) last sent {ENTRY} {age:.0f} s ago (the limit is {limit:.0f} s)"
            )
        self.stdout.write(f"ok: beat ({scheduler}) sent {ENTRY} {age:.0f} s ago")
