"""The cache fails open (config/cache.py): against a Redis that refuses, one that hangs, one
killed in the middle of the test and started again, and a cache folder that cannot be used.

Every outage here has a location of its own (a free port, a folder of the test's), since the
record of an outage is per location and per process."""

from __future__ import annotations

import logging
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.db import transaction
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config import cache as cache_module
from config.cache import FileBasedCache, RedisCache
from mediation.models import DeadlinePolicy
from tests.factories import UserFactory
from tests.outages import REDIS_SERVER, RedisServer, free_port
from workflows import policy

PROBLEM = "application/problem+json"


def refused_url(db: int = 7, auth: str = "") -> str:
    """A Redis URL on a port where nothing listens: every connection is refused."""
    return f"redis://{auth}127.0.0.1:{free_port()}/{db}"


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "config.cache" and r.levelno == logging.WARNING
    ]


@pytest.fixture
def low_rates(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """3 requests a minute per user, 2 per anonymous client (see test_idempotency_and_etag's
    fixture of the same name: DRF's class attribute follows the reloaded settings)."""
    rates = {"anon": "2/minute", "user": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)


def use_cache(settings: Any, location: str) -> None:
    # A fresh start for this location: the outage record (config.cache) is kept per location
    # for the process, and the test servers' ports (8500-8599) come round again, so a server
    # an earlier test killed on this port would leave the cache "paused" (failing open).
    cache_module._outages.pop(location, None)
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


# --- The backend ------------------------------------------------------------------------------


def test_reads_miss_and_writes_are_dropped_while_redis_refuses() -> None:
    cache = RedisCache(refused_url(), {})
    assert cache.get("rate") is None
    assert cache.get("rate", []) == []
    cache.set("rate", [1, 2])
    assert cache.add("lock", "mine") is False  # nothing stored: a lock on it stays closed
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("rate") is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]  # the keys not stored
    assert cache.touch("rate") is False
    assert cache.get_or_set("policy", lambda: "from the database") == "from the database"


def test_invalidations_and_counters_still_raise() -> None:
    """A delete that silently failed would leave a stale copy for others to read once Redis
    answers again; a counter that silently failed would count wrong."""
    cache = RedisCache(refused_url(), {})
    for operation in (
        lambda: cache.delete("policy"),
        lambda: cache.delete_many(["a"]),
        lambda: cache.incr("n"),
        cache.clear,
    ):
        with pytest.raises(redis.exceptions.ConnectionError):
            operation()


def test_an_outage_is_logged_once_not_once_per_operation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = refused_url(auth=":s3cret-password@")
    cache = RedisCache(url, {})
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        for n in range(200):
            cache.set(f"k{n}", n)
            assert cache.get(f"k{n}") is None
    (warning,) = cache_warnings(caplog)
    assert "is unavailable" in warning and "failing open" in warning
    assert f"redis://127.0.0.1:{url.rsplit(':', 1)[1]}" in warning
    assert "s3cret" not in caplog.text  # the URL's password stays out of the log


def test_a_redis_that_hangs_costs_one_timeout_not_one_per_operation() -> None:
    """A server that accepts connections and never answers (a frozen Redis): the first
    operation waits for the socket timeout, the next ones are answered at once."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", free_port()))
        silent.listen(16)
        port = silent.getsockname()[1]
        cache = RedisCache(
            f"redis://127.0.0.1:{port}/7",
            {"OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}},
        )
        started = time.monotonic()
        assert cache.get("rate", []) == []
        first = time.monotonic() - started
        for _ in range(50):
            cache.set("rate", [1])
            assert cache.get("rate", []) == []
        rest = time.monotonic() - started - first
    assert 0.25 <= first < 5
    assert rest < 0.25


def test_the_file_cache_fails_open_when_its_folder_cannot_be_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache's folder should be")
    cache = FileBasedCache(str(blocker / "cache"), {})
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        cache.set("rate", [1])
        assert cache.get("rate") is None
        assert cache.add("lock", 1) is False
    assert len(cache_warnings(caplog)) == 1


# --- Requests while Redis is down -----------------------------------------------------------


@pytest.mark.django_db
def test_throttled_endpoints_answer_while_redis_refuses(
    settings: Any, low_rates: None, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    use_cache(settings, refused_url(db=8))
    alice = api.as_user(UserFactory(username="alice"))
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        for _ in range(6):  # twice the rate: not counted, not refused
            assert alice.get("/api/v1/disputes/").status_code == 200
    assert len(cache_warnings(caplog)) == 1


@pytest.mark.django_db
def test_the_login_lockout_holds_while_redis_refuses(
    settings: Any, low_rates: None, api: Any
) -> None:
    """The anonymous rate of the token endpoint is open, but django-axes counts failed logins
    in the database: the account is still locked after LOGIN_FAILURE_LIMIT failures."""
    use_cache(settings, refused_url(db=9))
    UserFactory(username="bob", password="the-right-password")
    client = api.as_user(None)

    def login(password: str) -> Any:
        return client.post("/api/v1/auth/token/", {"username": "bob", "password": password})

    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert login("wrong").status_code == 401  # above the anonymous rate of 2: not 429
    refused = login("wrong")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert login("the-right-password").json()["code"] == "too_many_attempts"


@pytest.mark.django_db
def test_the_deadline_policy_is_read_from_the_database_while_redis_refuses(
    settings: Any,
) -> None:
    use_cache(settings, refused_url(db=7))
    # A change the cache never heard of (an UPDATE sends no signal): read, not a stale copy.
    DeadlinePolicy.objects.filter(state="awaiting_seller", reason="").update(
        duration=timedelta(hours=36)
    )
    assert policy.duration("awaiting_seller") == timedelta(hours=36)
    # An edit must drop the copy other processes read: refused while it cannot, not saved.
    row = DeadlinePolicy.objects.get(state="awaiting_buyer", reason="")
    before = row.duration
    row.duration = timedelta(hours=10)
    with pytest.raises(redis.exceptions.ConnectionError), transaction.atomic():
        row.save()
    row.refresh_from_db()
    assert row.duration == before


@pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server")
@pytest.mark.django_db
def test_redis_killed_mid_test_then_back(
    settings: Any, low_rates: None, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer().start()
    try:
        use_cache(settings, server.url(db=7))
        alice = api.as_user(UserFactory(username="alice"))
        # Redis up: the rate is counted and the fourth request in the minute is refused.
        for _ in range(3):
            assert alice.get("/api/v1/disputes/").status_code == 200
        assert alice.get("/api/v1/disputes/").status_code == 429
        assert api.client.get("/readyz").status_code == 200

        with caplog.at_level(logging.WARNING):
            server.kill()
            for _ in range(5):
                assert alice.get("/api/v1/disputes/").status_code == 200
            ready = api.client.get("/readyz")
            assert ready.status_code == 503
            assert ready["Content-Type"].startswith(PROBLEM)
            body = ready.json()
            assert body["code"] == "cache_unavailable" and body["unavailable"] == ["cache"]
            assert (body["cache"], body["database"], body["broker"], body["storage"]) == (
                "unavailable",
                "ok",
                "ok",
                "ok",
            )
            assert "Connection refused" not in ready.content.decode()  # reasons go to the log

            server.start()  # back, empty
            back = api.client.get("/readyz")
            assert back.status_code == 200, back.content
            assert back.json()["cache"] == "ok"
            # Counted again at once (the readiness probe ended the pause): 3, then refused.
            for _ in range(3):
                assert alice.get("/api/v1/disputes/").status_code == 200
            assert alice.get("/api/v1/disputes/").status_code == 429
        warnings = cache_warnings(caplog)
        assert len(warnings) == 2, warnings
        assert "is unavailable" in warnings[0] and "answers again" in warnings[1]
        readiness = [r.getMessage() for r in caplog.records if r.name == "api.health"]
        assert readiness[-2].startswith("Not ready: cache unavailable (")
        assert readiness[-1] == "Ready again: cache back."
    finally:
        server.kill()
