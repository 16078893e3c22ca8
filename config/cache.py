"""The shared cache: Django's backends, made to fail open, and the Redis one with one client
per connection pool.

Failing open. Nothing the service decides is kept only in the cache: it holds the request
rates (DRF's throttles) and a copy of the deadline policy table, whose source is the
database. So when the cache cannot be reached (Redis down, restarting or unreachable; the
embedded default's folder unwritable), reads are misses and writes are dropped instead of
failing the request: a throttle then lets the request through uncounted, and the policy
table is read from the database. A miss is never a stale value: whoever reads recomputes from
the source. What must not be lost silently still raises: ``delete`` (an invalidation that did
not happen would leave a stale copy in the cache for others to read once it answers),
``delete_many``, ``clear``, ``incr`` and ``decr``. ``add`` answers False (nothing was stored),
so a lock built on it stays closed.

One warning is logged when an outage starts, then at most one a minute while it lasts (with
the number of operations answered without the cache), and one line when the cache answers
again. After a failure the cache is not asked again for ``RETRY_SECONDS``: a Redis that hangs
instead of refusing costs one socket timeout (``CACHE_SOCKET_TIMEOUT_SECONDS``) per process
every few seconds, not one per request. ``probe()`` is the readiness check's: it asks the
cache whatever the pause and raises its error.

One client per pool. Django's ``RedisCache`` builds a new ``redis.Redis`` client for every
operation, and a client's construction (its table of response callbacks, about 300
entries) costs more CPU than the round trip it makes: every API request pays it twice for
the throttle's read and write. A client is only a handle on its pool and is safe to share
between threads, so one per pool is kept and reused. Pools are per process (redis-py resets
a pool that finds itself in a forked child)."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.cache.backends import filebased
from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from api.outages import Outage

logger = logging.getLogger(__name__)

# Seconds the cache is left alone after a failed operation; then the next operation tries it.
RETRY_SECONDS = 5.0

_nested = threading.local()  # inside a guarded operation: inner calls are not guarded again
_outages: dict[str, Outage] = {}
_outages_lock = threading.Lock()


def outage_of(location: str, name: str) -> Outage:
    """The outage record of one cache location, shared by the threads' backend instances."""
    with _outages_lock:
        if location not in _outages:
            _outages[location] = Outage(
                f"Cache {name}",
                "failing open: requests are not rate-limited and cached values are recomputed "
                "until it answers again",
                pause=RETRY_SECONDS,
                log=logger,
            )
        return _outages[location]


class FailOpen(BaseCache):
    """Mixin for a Django cache backend, before it among the bases: see the module's
    docstring. ``unavailable`` are the backend's errors that mean "cannot reach it", as
    opposed to a bug or a bad value."""

    unavailable: tuple[type[BaseException], ...] = ()
    outage: Outage

    def _guard(self, fallback: Any, call: Callable[..., Any], *args: Any) -> Any:
        if getattr(_nested, "active", False):  # e.g. the file cache's add() calls has_key()
            return call(*args)
        if self.outage.paused():
            return fallback
        _nested.active = True
        try:
            result = call(*args)
        except self.unavailable as exc:
            self.outage.failed(exc)
            return fallback
        finally:
            _nested.active = False
        self.outage.answered()
        return result

    def probe(self) -> None:
        """Write, read back and delete a key of its own, whatever the pause; raise what the
        cache raises (the readiness check reports it)."""
        key = f"readiness-probe:{uuid.uuid4().hex}"
        _nested.active = True
        try:
            super().set(key, "ok", 10)
            found = super().get(key)
            super().delete(key)
        finally:
            _nested.active = False
        if found != "ok":
            raise ValueError("the cache did not return the value just written")
        self.outage.answered()

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard(default, super().get, key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._guard({}, super().get_many, keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._guard(False, super().has_key, key, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guard(None, super().set, key, value, timeout, version)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(False, super().add, key, value, timeout, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        # The keys that were not stored: all of them.
        return self._guard(list(data), super().set_many, data, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(False, super().touch, key, timeout, version)


def _redis_name(servers: list[str]) -> str:
    """``redis://host:6379/0`` without a password, for the logs."""
    parts = urlsplit(servers[0])
    where = parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"
    db = parts.path if parts.scheme != "unix" else ""
    return f"{parts.scheme}://{where}{db}"


class _ReusingClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # (Django's private helpers, not in django-stubs.)
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[id(pool)] = client
        return client


class RedisCache(FailOpen, django_redis.RedisCache):
    """Django's Redis cache, failing open on redis-py's connection errors and time-outs
    (a server loading its data after a restart answers with a ConnectionError too)."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        import redis

        self._class = _ReusingClient
        self.unavailable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        location = server if isinstance(server, str) else ",".join(server)
        self.outage = outage_of(location, _redis_name(self._servers))  # type: ignore[attr-defined]


class FileBasedCache(FailOpen, filebased.FileBasedCache):
    """Django's cache of files (the embedded default), failing open when its folder cannot
    be written or read (a full disk, lost permissions)."""

    unavailable = (OSError,)

    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        folder = os.path.abspath(dir)
        self.outage = outage_of(f"file://{folder}", folder)
        try:
            super().__init__(dir, params)  # creates the folder (each write does it again)
        except OSError as exc:
            self.outage.failed(exc)
