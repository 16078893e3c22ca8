"""Error reporting (README "Error reporting"): with SENTRY_DSN set, an unhandled error reaches
the server the DSN names, over Sentry's envelope protocol, without personal data; unset,
nothing is sent. The server here is a local HTTP server that takes envelopes as Sentry does
(``POST /api/<project>/envelope/``, gzip-compressed, newline-delimited JSON)."""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.config.test_security import manage

KEY = "0123456789abcdef0123456789abcdef"


class Envelopes:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # {"path", "auth", "items": [(header, body)]}
        self.lock = threading.Lock()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                body
                for envelope in self.received
                for header, body in envelope["items"]
                if header.get("type") == "event"
            ]


def _parse(raw: bytes) -> list[tuple[dict[str, Any], Any]]:
    """An envelope: a header line, then per item a header line and its payload."""
    lines = raw.split(b"\n")
    items, i = [], 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        header = json.loads(lines[i])
        length = header.get("length")
        if length is not None:
            rest = b"\n".join(lines[i + 1 :])
            payload, tail = rest[:length], rest[length + 1 :]
            lines = [b"", *tail.split(b"\n")] if tail else [b""]
            i = 1
        else:
            payload = lines[i + 1]
            i += 2
        try:
            body: Any = json.loads(payload)
        except ValueError:
            body = payload
        items.append((header, body))
    return items


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, Envelopes]]:
    store = Envelopes()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            with store.lock:
                store.received.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("X-Sentry-Auth", ""),
                        "items": _parse(raw),
                    }
                )
            body = json.dumps({"id": "0" * 32}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{KEY}@127.0.0.1:{server.server_address[1]}/42", store
    finally:
        server.shutdown()
        server.server_close()


# What a view's unexpected exception reaches: the API's exception handler (a 500 problem),
# then the SDK's flush, as on a worker's exit.
RAISE = """
import sentry_sdk
from rest_framework.test import APIRequestFactory
from api.errors import problem_exception_handler
# (The body and the token are put together here: the command line itself is in the event.)
request = APIRequestFactory().post(
    "/api/v1/disputes/7/offer/?amount=1", {"note": "my address is 1 Main" + " St"},
    format="json", HTTP_AUTHORIZATION="Token secret-" + "token-value",
)
try:
    raise ZeroDivisionError("the unexpected")
except ZeroDivisionError as exc:
    response = problem_exception_handler(exc, {"request": request})
print("status", response.status_code, "active", sentry_sdk.get_client().is_active())
sentry_sdk.flush(timeout=10)
"""


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, **values}


def test_an_unhandled_error_reaches_the_dsn_without_personal_data(
    sentry_server: tuple[str, Envelopes],
) -> None:
    dsn, store = sentry_server
    env = _env(SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="staging", SENTRY_RELEASE="mediation@1.2.3")
    done = manage(env, "shell", "-c", RAISE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "status 500 active True" in done.stdout
    assert store.received, "no envelope arrived"
    envelope = store.received[0]
    assert envelope["path"] == "/api/42/envelope/"
    assert f"sentry_key={KEY}" in envelope["auth"]
    (event,) = store.events()
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("ZeroDivisionError", "the unexpected")
    assert exception["stacktrace"]["frames"], "with its traceback"
    assert event["logger"] == "api.errors" and event["level"] == "error"
    assert (event["environment"], event["release"]) == ("staging", "mediation@1.2.3")
    sent = json.dumps(event)
    assert "secret-token-value" not in sent
    assert "1 Main St" not in sent
    assert "user" not in event or not event["user"].get("ip_address")


def test_without_a_dsn_nothing_is_sent(sentry_server: tuple[str, Envelopes]) -> None:
    _, store = sentry_server
    done = manage(_env(), "shell", "-c", RAISE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "status 500 active False" in done.stdout
    assert store.received == []
