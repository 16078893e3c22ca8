"""The deadline policy (DESIGN §4 deadline column, §6): how long each state gives its party,
and how long before that deadline the party is reminded.

The table is small and read on every transition, so it is cached whole (Django cache, so a
deployment with Redis shares it between processes) and the cache is dropped whenever a row
is saved or deleted; the TTL bounds how long a process with a local cache may lag behind an
edit made in another. A lookup resolves ``(state, reason)`` row, then the state's default
row (blank reason), then the settings (``DEADLINE_*``, ``REMINDER_*``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from mediation.models import DeadlinePolicy

CACHE_KEY = "mediation:deadline-policy:v1"
CACHE_TTL = 60  # seconds

# (state, reason) -> (duration, remind_before); reason "" is the state's default row.
Table = dict[tuple[str, str], tuple[timedelta | None, timedelta | None]]


def table() -> Table:
    rows: Table | None = cache.get(CACHE_KEY)
    if rows is None:
        rows = {
            (state, reason): (duration, remind)
            for state, reason, duration, remind in DeadlinePolicy.objects.values_list(
                "state", "reason", "duration", "remind_before"
            )
        }
        cache.set(CACHE_KEY, rows, CACHE_TTL)
    return rows


def _lookup(
    index: int, state: str, reason: str, fallback: dict[str, timedelta]
) -> timedelta | None:
    rows = table()
    for key in ((state, reason), (state, "")):
        value = rows.get(key, (None, None))[index]
        if value is not None:
            return value
    return fallback.get(state)


def duration(state: str, reason: str = "") -> timedelta | None:
    """Time from entering ``state`` to its deadline; None when the state has none."""
    value = _lookup(0, state, reason, settings.MEDIATION_DEADLINES)
    return value if value else None


def remind_before(state: str, reason: str = "") -> timedelta | None:
    """How long before the deadline of ``state`` its party is reminded; None for never."""
    value = _lookup(1, state, reason, settings.MEDIATION_REMINDERS)
    return value if value else None


def reminder_leads() -> dict[str, tuple[timedelta | None, dict[str, timedelta | None]]]:
    """Per state with any reminder: its default lead, and the leads of reasons overriding it
    (for the sweeper's query)."""
    rows = table()
    states = {s for s, _ in rows} | set(settings.MEDIATION_REMINDERS)
    leads: dict[str, tuple[timedelta | None, dict[str, timedelta | None]]] = {}
    for state in states:
        default = remind_before(state)
        overrides = {
            reason: remind_before(state, reason)
            for (s, reason), (_, remind) in rows.items()
            if s == state and reason and remind is not None
        }
        if default or any(overrides.values()):
            leads[state] = (default, overrides)
    return leads


def invalidate() -> None:
    cache.delete(CACHE_KEY)


@receiver(post_save, sender=DeadlinePolicy, dispatch_uid="deadline-policy-saved")
@receiver(post_delete, sender=DeadlinePolicy, dispatch_uid="deadline-policy-deleted")
def _policy_changed(**kwargs: Any) -> None:
    invalidate()
