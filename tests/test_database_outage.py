"""The database going away under a running server (gunicorn, as deployed): an unreachable
database is a 503 ``database_unavailable`` with ``Retry-After`` from the API, the console and
the readiness probe, logged once; a connection the server dropped (a restart) is replaced on
the next request instead of failing it (``CONN_HEALTH_CHECKS``)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.outages import Gunicorn, free_port

PROBLEM = "application/problem+json"
SESSION = "sessionid=" + "a" * 32  # the console's session cookie: read from the database
TOKEN = "Token " + "0" * 64  # a personal token: looked up in the database


def test_an_unreachable_database_answers_503_with_retry_after(tmp_path: Path) -> None:
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/mediation_degrade_nowhere"
    with Gunicorn(tmp_path, DATABASE_URL=nowhere, DATABASE_RETRY_AFTER_SECONDS="7") as server:
        assert server.request("GET", "/healthz")[0] == 200  # liveness asks nothing
        for _ in range(3):  # each the same, and logged once between them all
            status, headers, body = server.request("GET", "/api/v1/disputes/", Authorization=TOKEN)
            assert status == 503, body
            assert headers["content-type"].startswith(PROBLEM)
            assert headers["retry-after"] == "7"
            assert body["code"] == "database_unavailable" and body["retry_after"] == 7
            assert body["instance"] == "/api/v1/disputes/"

            status, headers, body = server.request(
                "POST", "/api/v1/auth/token/", {"username": "alice", "password": "x"}
            )
            assert (status, body["code"], headers["retry-after"]) == (
                503,
                "database_unavailable",
                "7",
            )

            # The console (a plain Django view), never a 500 page.
            status, headers, body = server.request("GET", "/admin/", Cookie=SESSION)
            assert (status, body["code"], headers["retry-after"]) == (
                503,
                "database_unavailable",
                "7",
            )
            assert headers["content-type"].startswith(PROBLEM)

            status, headers, body = server.request("GET", "/readyz")
            assert (status, body["code"], body["database"]) == (
                503,
                "database_unavailable",
                "unavailable",
            )
    log = server.log
    assert "Traceback" not in log and "Internal Server Error" not in log, log
    unavailable = [line for line in log.splitlines() if "The database is unavailable" in line]
    assert len(unavailable) == 1, log
    assert "Connection refused" in unavailable[0]
    assert "Service Unavailable" not in log  # Django's line per 503 is not repeated either


def _backends(application_name: str) -> list[int]:
    """The server processes of that application's connections, as of now (the test runs in a
    transaction, which would otherwise see the statistics as of its first look)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name]
        )
        return [pid for (pid,) in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="terminates PostgreSQL server processes"
)
def test_the_next_request_after_a_database_restart_succeeds(db: Any, tmp_path: Path) -> None:
    """The server keeps its connection between requests (DATABASE_CONN_MAX_AGE). When the
    database drops it, as a restart does to every connection, the next request checks it
    first, finds it dead and connects again: it answers as usual, not with an error."""
    name = f"mediation_degrade_{uuid.uuid4().hex[:8]}"  # marks this server's connections
    db_settings = settings.DATABASES["default"]
    auth = db_settings["USER"] or "postgres"
    if db_settings["PASSWORD"]:
        auth += f":{db_settings['PASSWORD']}"
    url = (
        f"postgres://{auth}@{db_settings['HOST'] or '127.0.0.1'}:{db_settings['PORT'] or 5432}"
        f"/{db_settings['NAME']}?application_name={name}"
    )
    with Gunicorn(tmp_path, DATABASE_URL=url) as server:

        def ask() -> tuple[int, Any]:
            status, _, body = server.request("GET", "/api/v1/disputes/", Authorization=TOKEN)
            return status, body

        # The token is looked up in the database (and not found): 401, the connection kept.
        for _ in range(2):
            status, body = ask()
            assert (status, body["code"]) == (401, "authentication_failed")
        (kept,) = _backends(name)

        with connection.cursor() as cursor:  # what a restart does to the server's connection
            cursor.execute("SELECT pg_terminate_backend(%s)", [kept])
        deadline = time.monotonic() + 10
        while _backends(name) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _backends(name) == []

        status, body = ask()
        assert status == 401, body
        assert body["code"] == "authentication_failed"
        (replacement,) = _backends(name)
        assert replacement != kept
    assert "Traceback" not in server.log, server.log
