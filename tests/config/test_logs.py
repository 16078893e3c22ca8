"""Structured logs (README "Logs"): with LOG_FORMAT=json each record is one JSON object with
its timestamp, level, logger and the request_id, user_id and dispute_id of the request it
belongs to; the request id comes from X-Request-ID when it is a plain id, goes back in the
response, and is carried into the tasks the request enqueues."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from config import logs
from mediation.models import Dispute
from tests import live


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger's records, formatted as LOG_FORMAT=json formats them."""
    definition = logs.formatter("json")
    factory = definition.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**definition))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        structlog.contextvars.clear_contextvars()


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_a_request_logs_json_lines_with_its_id_user_and_dispute(
    api: Any, demo: dict[str, Any], json_lines: io.StringIO
) -> None:
    buyer = demo["alice"]
    dispute = Dispute.objects.filter(buyer=buyer).order_by("pk").first()
    assert dispute is not None
    client = api.as_user(buyer)
    # A refused action: the buyer may not take the case.
    response = client.post(
        f"/api/v1/disputes/{dispute.pk}/assign/",
        {},
        format="json",
        HTTP_X_REQUEST_ID="trace-4bf92f3577b34da6.01",
    )
    assert response.status_code == 403
    assert response["X-Request-ID"] == "trace-4bf92f3577b34da6.01"

    (finished,) = [r for r in records(json_lines) if r["event"] == "request_finished"]
    assert finished["request_id"] == "trace-4bf92f3577b34da6.01"
    assert finished["user_id"] == buyer.pk
    assert finished["dispute_id"] == dispute.pk
    assert finished["code"] == 403
    assert finished["request"] == f"POST /api/v1/disputes/{dispute.pk}/assign/"
    assert finished["level"] == "info" and finished["timestamp"].endswith("Z")
    assert finished["logger"] == "django_structlog.middlewares.request"


def test_a_record_logged_while_a_request_runs_carries_its_id(
    api: Any, demo: dict[str, Any], json_lines: io.StringIO
) -> None:
    # django-axes warns of a failed login from inside the view.
    response = api.as_user(None).post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "not-her-password"},
        format="json",
        HTTP_X_REQUEST_ID="login-attempt-1",
    )
    assert response.status_code in (400, 401)
    during = [r for r in records(json_lines) if r["logger"].startswith("axes")]
    assert during, records(json_lines)
    assert {r["request_id"] for r in during} == {"login-attempt-1"}
    assert "warning" in {r["level"] for r in during}  # the failure itself


@pytest.mark.parametrize(
    "sent",
    [None, "", "has space", "line\r\nINFO forged record", "x" * 129, "-leading-dash", "é"],
)
def test_a_missing_or_malformed_request_id_is_replaced(
    api: Any, demo: dict[str, Any], json_lines: io.StringIO, sent: str | None
) -> None:
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = api.as_user(demo["alice"]).get("/api/v1/disputes/", **headers)
    assert response.status_code == 200
    given = response["X-Request-ID"]
    assert str(uuid.UUID(given)) == given
    finished = [r for r in records(json_lines) if r["event"] == "request_finished"]
    assert [r["request_id"] for r in finished] == [given]
    assert all(sent is None or sent not in json.dumps(r) for r in finished if sent)


def test_an_error_record_carries_its_traceback_in_one_line(json_lines: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        raise ValueError("the cause")
    except ValueError:
        logging.getLogger("api.errors").exception("Unhandled error on %s", "/api/v1/x/")
    (record,) = records(json_lines)
    assert record["event"] == "Unhandled error on /api/v1/x/"
    assert record["level"] == "error" and record["request_id"] == "req-1"
    (exc,) = record["exception"]
    assert (exc["exc_type"], exc["exc_value"]) == ("ValueError", "the cause")
    assert exc["frames"]


def test_plain_text_on_a_laptop() -> None:
    definition = logs.formatter("plain")
    factory = definition.pop("()")
    formatter = factory(**definition)
    record = logging.LogRecord("mediation", logging.WARNING, __file__, 1, "hello %s", ("x",), None)
    line = formatter.format(record)
    assert "hello x" in line and "[mediation]" in line and "warning" in line
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of plain, json"):
        logs.logging_config("xml", "INFO")


ENQUEUE = """
import structlog
from workflows.relay import relay_outbox
structlog.contextvars.bind_contextvars(request_id="req-from-the-api-7", user_id=42)
relay_outbox.delay()
print("{}")
"""


def test_a_task_logs_the_request_id_of_the_request_that_enqueued_it(tmp_path: Path) -> None:
    """A real worker on the suite's broker: django-structlog's receivers put the request's
    context in the task message's headers and bind it again in the worker."""
    logs_file = tmp_path / "worker.log"
    with (
        live.database(tmp_path) as database_url,
        live.broker(redis_db=4) as broker,
        logs_file.open("w") as log,
    ):
        env = live.environment(tmp_path, database_url, broker, LOG_FORMAT="json")
        live.manage(env, "migrate", "--noinput")
        live.shell(env, ENQUEUE)
        worker = live.worker(env, log)
        try:
            deadline = time.monotonic() + 90
            ran: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not ran:
                assert worker.poll() is None, logs_file.read_text()[-4000:]
                time.sleep(0.5)
                lines = [ln for ln in logs_file.read_text().splitlines() if ln.startswith("{")]
                ran = [
                    r
                    for r in map(json.loads, lines)
                    if r.get("event") == "task_succeeded"
                    and r.get("request_id") == "req-from-the-api-7"
                ]
        finally:
            live.stop(worker)
    assert ran, logs_file.read_text()[-4000:]
    assert ran[0]["user_id"] == 42
