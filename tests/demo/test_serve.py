"""``manage.py serve`` (``make run``) in a subprocess, as a developer meets it: a banner
once the three processes are up, a home page at ``/``, the control socket under DATA_DIR,
a quiet log while nothing happens but every request and email in it (each email one line,
the message in a file whose link names the port served), and a port in use said so."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.live import free_port

ROOT = Path(settings.BASE_DIR)
PORTS = range(18100, 18200)
BANNER_END = "Stop: Ctrl-C"


def _environment(data: Path) -> dict[str, str]:
    """What `make run` serves with: SQLite and the broker on files under DATA_DIR, no Redis,
    the default email backend; HOME apart, to see that nothing is written there."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "EMAIL_", "DJANGO_", "LOG_"))
        and k not in {"PORT", "SERVICE_URL", "STOREFRONT_DISPUTE_URL", "CONSOLE_CASE_URL"}
    }
    home = data / "home"
    home.mkdir(parents=True, exist_ok=True)
    env |= {
        "DATA_DIR": str(data),
        "HOME": str(home),
        "BEAT_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("XDG_RUNTIME_DIR", None)  # gunicorn's other default place for its socket
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@dataclass
class Served:
    port: int
    data: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def settle(self, quiet: float = 3, timeout: float = 90) -> None:
        """Until the output has not grown for ``quiet`` seconds: the seed's outbox relayed
        and its emails written, which the worker does once it is up."""
        deadline = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now = len(self.output())
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.3)
        raise AssertionError(f"still logging after {timeout} s:\n{self.output()[-4000:]}")

    def wait_for(self, text: str, timeout: float = 60, start: int = 0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()[start:]
            if text in out:
                return out
            assert self.process.poll() is None, f"serve exited:\n{self.output()[-4000:]}"
            time.sleep(0.3)
        raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output()[-4000:]}")


def _request(url: str, body: Any = None, token: str = "") -> tuple[int, str, str]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("serve")
    env = _environment(data)
    _manage(env, "migrate", "--noinput", "--verbosity", "0")
    _manage(env, "seed_demo")
    port = free_port(PORTS)
    log = data / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--port",
                str(port),
                "--web-workers",
                "1",
                "--concurrency",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Served(port, data, log, process)
    try:
        running.wait_for(BANNER_END, timeout=120)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_the_banner_names_the_addresses_logins_and_how_to_stop(served: Served) -> None:
    out = served.output()
    banner = out[out.index("Dispute mediation is up at") :]
    for line in (
        f"API         {served.base}/api/v1/",
        f"API docs    {served.base}/api/docs/",
        f"Console     {served.base}/admin/",
        f"Health      {served.base}/healthz  {served.base}/readyz",
        "Demo logins (password demo-pass-123):",
        "alice, bob",
        "mia_agent (agent), sam_senior (senior), lee_lead (lead)",
        "API key demo0key.storefront-demo-key-not-secret",
        "Stop: Ctrl-C",
    ):
        assert line in banner, line
    # It ends the start-up: the worker and beat were up before it.
    assert out.index("celery@") < out.index("Dispute mediation is up at")
    assert "beat: Starting" in out[: out.index("Dispute mediation is up at")]
    # Celery's start-up banners are left out.
    assert "[tasks]" not in out and "Configuration ->" not in out


def test_the_root_is_a_page_of_links(served: Served) -> None:
    status, kind, html = _request(f"{served.base}/")
    assert status == 200 and kind.startswith("text/html")
    for link in (
        'href="/api/docs/"',
        'href="/api/redoc/"',
        'href="/admin/"',
        'href="/healthz"',
        'href="/readyz"',
    ):
        assert link in html, link


def test_the_control_socket_is_under_data_dir(served: Served) -> None:
    socket_path = served.data / "gunicorn.ctl"
    assert socket_path.is_socket()
    assert f"Control socket listening at {socket_path}" in served.output()
    assert not (served.data / "home" / ".gunicorn").exists()


def test_idle_is_quiet_and_real_events_show(served: Served) -> None:
    # The demo data's overdue case (IW-2001) is a real event of the first sweep: its SLA
    # breach is flagged, logged and relayed. After it, nothing is due.
    served.wait_for("'sla_flags': {'applied': 1")
    served.settle()
    # Beat ticks every second here: a few seconds of them, and a few probes.
    start = len(served.output())
    for _ in range(3):
        assert _request(f"{served.base}/healthz")[0] == 200
        assert _request(f"{served.base}/readyz")[0] == 200
    time.sleep(6)
    idle = served.output()[start:]
    assert idle.strip() == "", idle

    # A real event: Alice raises a dispute.
    login = _request(
        f"{served.base}/api/v1/auth/token/", {"username": "alice", "password": "demo-pass-123"}
    )
    token = json.loads(login[2])["token"]
    orders = json.loads(
        _request(f"{served.base}/api/v1/orders/?external_id=PP-1001", token=token)[2]
    )
    status, _, body = _request(
        f"{served.base}/api/v1/disputes/",
        {
            "order": orders["results"][0]["id"],
            "reason": "damaged_or_defective",
            "requested_outcome": "full_refund",
            "description": "The bouquet arrived crushed.",
        },
        token=token,
    )
    assert status == 201
    dispute = json.loads(body)["id"]
    events = served.wait_for("email to petals_agent@example.com", start=start)
    assert "request='POST /api/v1/disputes/'" in events and "code=201" in events
    assert "'relayed': 1" in events  # a task that did something keeps its line

    # Each email is one line, the message itself a file under DATA_DIR/mail.
    line = next(x for x in events.splitlines() if "email to petals_owner@example.com" in x)
    assert ": A customer has opened a dispute on order PP-1001 (" in line
    path = Path(line.split(" (", 1)[1].split(")", 1)[0])
    message = path.read_text()
    assert path.parent == served.data / "mail" and path.suffix == ".eml"
    assert "Subject: A customer has opened a dispute on order PP-1001" in message
    assert "Content-Type: multipart/alternative" in message
    assert "Content-Type: multipart" not in events  # not dumped into the log
    # Its link names the port served, and opens a page (after a login).
    link = f"{served.base}/disputes/{dispute}/"
    assert link in message
    status, kind, html = _request(link)
    assert status == 200 and kind.startswith("text/html") and 'name="password"' in html


def test_a_port_in_use_is_said_so(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port(PORTS)))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use already" in done.stderr
    assert f"make run PORT={port + 1}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "started web" not in done.stdout  # nothing was started
