"""The Redis cache backend (config/cache.py) against a real Redis: it behaves as Django's
and reuses one client per connection pool instead of building one per operation."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import pytest

from config.cache import RedisCache

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="runs in the PostgreSQL + Redis suite"
)


@pytest.fixture
def redis_cache() -> Iterator[RedisCache]:
    # A database number of its own and a key prefix per xdist worker: nothing collides.
    parsed = urlparse(os.environ["REDIS_URL"])
    url = urlunparse(parsed._replace(path="/11"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    backend = RedisCache(url, {"KEY_PREFIX": f"cache-test-{worker}"})
    yield backend
    client = backend._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"cache-test-{worker}:*"))
    if keys:
        client.delete(*keys)


def test_operations_behave_as_djangos_backend(redis_cache: RedisCache) -> None:
    assert redis_cache.get("missing") is None
    redis_cache.set("history", [1, 2, 3], timeout=60)
    assert redis_cache.get("history") == [1, 2, 3]
    assert redis_cache.add("history", "other") is False
    redis_cache.set("n", 1)
    assert redis_cache.incr("n", 2) == 3
    redis_cache.delete("history")
    assert redis_cache.get("history") is None


def test_one_client_serves_every_operation_and_thread(redis_cache: RedisCache) -> None:
    redis_cache.set("k", "v")
    first = redis_cache._cache.get_client(write=True)
    seen: list[object] = []

    def use() -> None:
        assert redis_cache.get("k") == "v"
        seen.append(redis_cache._cache.get_client())

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [first] * 4
