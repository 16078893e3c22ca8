"""Counters kept in the shared cache, for figures that happen in one process (a worker) and
are read in another (web's /metrics): the sweeper's runs and what its passes did, the tasks
that expired in their queues. The cache fails open for reads and writes but raises on
``incr`` (config/cache.py): a count that cannot be kept is logged and dropped, never the work
it counts."""

from __future__ import annotations

import logging

from django.core.cache import cache

log = logging.getLogger(__name__)


def bump(key: str, by: int = 1) -> int | None:
    """Add ``by`` to the counter ``key`` (created at 0, never expiring); None if the cache
    is down."""
    try:
        cache.add(key, 0, timeout=None)
        return int(cache.incr(key, by))
    except Exception:  # the cache is down: the warning says what was not counted
        log.warning("Could not count %s", key, exc_info=True)
        return None
