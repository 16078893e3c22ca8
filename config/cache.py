"""The shared cache on Redis: Django's backend, with one client per connection pool.

Django's ``RedisCache`` builds a new ``redis.Redis`` client for every operation, and a
client's construction (its table of response callbacks, about 300 entries) costs more
CPU than the round trip it makes: every API request pays it twice for the throttle's
read and write. A client is only a handle on its pool and is safe to share between
threads, so one per pool is kept and reused. Pools are per process (redis-py resets a
pool that finds itself in a forked child)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


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


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
