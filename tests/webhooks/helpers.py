"""A real HTTP receiver on loopback, and the README's signature check, for the webhook tests."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from webhooks.models import WebhookEndpoint
from webhooks.signing import new_secret

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet() -> str:
    """The copy-paste verification snippet of the README's Webhooks section."""
    section = README.read_text().split("## Webhooks", 1)[1]
    section = section.split("**Verifying a signature**", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README's Webhooks section has no Python snippet"
    return match.group(1)


def _load_verify() -> Callable[..., bool]:
    namespace: dict[str, Any] = {}
    exec(compile(readme_snippet(), "README.md", "exec"), namespace)
    return cast(Callable[..., bool], namespace["verify_signature"])


# Exactly the function a seller copies from the README.
verify_signature = _load_verify()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers every POST with ``status`` after ``delay`` seconds and records it."""

    port: int = 0
    status: int = 200
    delay: float = 0.0
    location: str = ""
    requests: list[Received] = field(default_factory=list)
    # Event ids of the requests received and not answered yet (sleeping out ``delay``).
    in_flight: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            event_id = self.headers.get("Mediation-Event-Id", "")
            state.in_flight.add(event_id)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            state.in_flight.discard(event_id)
            try:
                self.send_response(state.status)
                if state.location:
                    self.send_header("Location", state.location)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if state.status < 300 else b"receiver says no")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up (timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def make_endpoint(shop: Any, url: str, events: list[str] | None = None, **kw: Any) -> Any:
    return WebhookEndpoint.objects.create(
        shop=shop,
        url=url,
        events=events or ["*"],
        secret=kw.pop("secret", new_secret()),
        **kw,
    )
