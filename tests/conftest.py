from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from demo.seed import seed
from workflows.credentials import issue_token


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Demo users get real passwords; a fast hasher keeps each seed cheap in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# pytest-xdist workers (PYTEST_XDIST_WORKER=gw0, gw1, ...) run the suite in parallel. With
# Redis as the cache (the PostgreSQL + Redis run) they share one database: each worker keys
# its entries with its own prefix and clears only those, so one worker's fresh start never
# wipes another's throttle counters mid-test. Set before anything touches the cache.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_CACHE = django_settings.CACHES["default"]
if WORKER and _CACHE["BACKEND"].endswith("RedisCache"):
    _CACHE["KEY_PREFIX"] = f"test-{WORKER}"
if _CACHE["BACKEND"].endswith("FileBasedCache"):
    # The embedded default's cache of files: a folder of this run (and worker) alone.
    _CACHE["LOCATION"] = tempfile.mkdtemp(prefix=f"mediation-cache-{WORKER or 'main'}-")
    atexit.register(shutil.rmtree, _CACHE["LOCATION"], ignore_errors=True)


def _clear_this_workers_cache() -> None:
    prefix = _CACHE.get("KEY_PREFIX", "")
    if not prefix or not _CACHE["BACKEND"].endswith("RedisCache"):
        cache.clear()  # the cache's folder belongs to this process alone
        return
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True, scope="session")
def _plain_http() -> Iterator[None]:
    """The suite's clients and live servers speak plain http, as `make run` serves
    (DJANGO_HTTPS=0). Session-wide, so that it holds before the live server's handler is
    built; the tests of the production settings (tests/config/test_security.py) turn the
    HTTPS settings back on."""
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        SECURE_HSTS_SECONDS=0,
    ):
        yield


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Throttle counters live in the cache; every test starts with fresh ones.
    _clear_this_workers_cache()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path_factory: Any) -> None:
    # Uploaded evidence goes to a fresh directory per test, never to the project's var/.
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _audit_anchors(settings: Any, tmp_path_factory: Any) -> None:
    # The audit checkpoints go to a fresh directory per test, never to the project's var/.
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_anchors": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path_factory.mktemp("audit-anchors"))},
        },
    }


@pytest.fixture(autouse=True)
def _webhooks_in_tests(settings: Any) -> None:
    # Tests run their webhook receivers on loopback, and call the relay and deliveries
    # directly (no broker): nothing is queued after a commit.
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.OUTBOX_RELAY_ON_COMMIT = False


@pytest.fixture
def demo(db: Any) -> dict[str, Any]:
    """The demo data of DESIGN §11, made through the real services."""
    seed()
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


class Api:
    """A thin client that speaks as one user at a time."""

    def __init__(self) -> None:
        self.client = APIClient()

    def as_user(self, user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)[1]}")
        return client


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def tamper(db: Any) -> Iterator[None]:
    """Let the test edit audit rows as someone with direct database access could.

    On PostgreSQL the append-only trigger is disabled inside the test's transaction (the
    suite runs as the table owner); the rollback at the end of the test restores it. The
    deferred foreign-key checks of rows written so far are run first, as ALTER TABLE is
    refused while a table has pending trigger events. SQLite has no such trigger.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE mediation_auditentry DISABLE TRIGGER mediation_auditentry_append_only"
            )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures tests report (``record_property("figures", line)``: the scale-out test's),
    at the end of the run, from pytest-xdist's workers too."""
    lines = [
        value
        for key in ("passed", "failed")
        for report in terminalreporter.stats.get(key, [])
        if getattr(report, "when", "call") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == "figures"
    ]
    if lines:
        terminalreporter.section("figures", sep="-")
        for line in lines:
            terminalreporter.write_line(line)
