"""The readiness probe, ``GET /readyz``: is every dependency of the service answering?

Each is asked by a django-health-check check, all at once and each within its own time
budget, so that one that hangs answers "unavailable" after a few seconds instead of hanging
the probe:

- ``database``: ``SELECT 1`` on a connection of its own (the library's check);
- ``cache``: a key written, read back and deleted. The cache fails open (config/cache.py),
  so its reads and writes never raise; its ``probe()`` does, past the pause it keeps after
  a failure, so the probe sees the outage and sees it end at once;
- ``broker``: a connection to Celery's broker, not a running worker: ``make run``'s broker
  on local files has its worker beside it, and a deployment's workers scale apart from web.
  A broker on local files is ready when its folders can be written;
- ``storage``: a file saved, read back and deleted in the evidence storage (the library's
  check; on S3 that is three requests per probe).

All answer: 200 ``{"status": "ok", "database": "ok", "cache": "ok", ...}``. One or more do
not: 503 problem+json, its ``code`` naming the first of them in that order
(``database_unavailable``, ``cache_unavailable``, ``broker_unavailable``,
``storage_unavailable``), ``unavailable`` listing them all, and each check's ``"ok"`` or
``"unavailable"`` beside. Why one is down goes to the log (once when the set of unavailable
dependencies changes, once when all answer again), never into the answer.

``/healthz`` (liveness, :func:`api.views.health`) asks nothing: a process whose database is
down is not restarted for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import os
import threading
import uuid
from typing import Any

from celery import current_app
from django.core.cache import caches
from django.http import HttpRequest, JsonResponse
from health_check import checks
from health_check.base import HealthCheck
from health_check.exceptions import HealthCheckException, ServiceUnavailable
from health_check.views import HealthCheckView
from kombu.exceptions import KombuError

from api.errors import PROBLEM, problem

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Cache(HealthCheck):
    """The cache answers a write and a read (its own error, not the miss of failing open)."""

    alias: str = "default"

    def run(self) -> None:
        backend = caches[self.alias]
        try:
            probe = getattr(backend, "probe", None)
            if probe is not None:
                probe()
                return
            key = f"readiness-probe:{uuid.uuid4().hex}"
            backend.set(key, "ok", 10)
            if backend.get(key) != "ok":
                raise ValueError("the cache did not return the value just written")
        except Exception as exc:
            raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc


@dataclasses.dataclass
class Broker(HealthCheck):
    """Celery's broker accepts a connection (for Redis, kombu's channel pings it)."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=4), repr=False
    )

    def run(self) -> None:
        try:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=0, timeout=self.timeout.total_seconds())
                if connection.transport.driver_type == "filesystem":
                    options = connection.transport_options
                    for key in ("data_folder_in", "data_folder_out", "control_folder"):
                        folder = options.get(key)
                        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                            raise ServiceUnavailable(f"The broker's {key} cannot be written")
        except (OSError, KombuError) as exc:
            raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc


@dataclasses.dataclass
class Storage(checks.Storage):
    """The library's check, with the storage's own errors (a bucket that refuses, a full
    disk) reported as the storage being unavailable rather than as an unexpected error."""

    def run(self) -> None:
        try:
            super().run()
        except HealthCheckException:
            raise
        except Exception as exc:
            raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc


# In the order the problem's code picks the first unavailable one.
DEPENDENCIES: dict[str, tuple[type[HealthCheck], dict[str, Any]]] = {
    "database": (checks.Database, {}),
    "cache": (Cache, {}),
    "broker": (Broker, {}),
    "storage": (Storage, {}),
}
TITLES = {
    "database": "The database does not answer",
    "cache": "The cache does not answer",
    "broker": "The task broker does not answer",
    "storage": "The file storage does not answer",
}

_reported: frozenset[str] = frozenset()
_reported_lock = threading.Lock()


def _report(down: dict[str, HealthCheckException]) -> None:
    """Log when the set of unavailable dependencies changes (a probe runs every few seconds:
    one line per change, not one per probe)."""
    global _reported
    names = frozenset(down)
    with _reported_lock:
        if names == _reported:
            return
        before, _reported = _reported, names
    if names:
        reasons = "; ".join(f"{name} unavailable ({error})" for name, error in down.items())
        logger.warning("Not ready: %s.", reasons)
    else:
        logger.warning(
            "Ready again: %s back.", ", ".join(name for name in DEPENDENCIES if name in before)
        )


class ReadinessView(HealthCheckView):
    checks = tuple(DEPENDENCIES.values())

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        down = {
            name: result.error
            for name, result in zip(DEPENDENCIES, results, strict=True)
            if result.error is not None
        }
        _report(down)
        states = {name: "unavailable" if name in down else "ok" for name in DEPENDENCIES}
        if not down:
            return JsonResponse({"status": "ok", **states})
        first = next(iter(down))
        body = problem(
            503,
            f"{first}_unavailable",
            TITLES[first],
            f"Not ready: {', '.join(down)} unavailable.",
            request.get_full_path(),
            unavailable=list(down),
            **states,
        )
        response = JsonResponse(body, status=503, content_type=PROBLEM)
        response._has_been_logged = True  # type: ignore[attr-defined]  # logged by _report
        return response


ready = ReadinessView.as_view()
