"""Real dependencies to take away in the middle of a test: a Redis server of the test's own,
killed and started again on its port, and the service under gunicorn, as the Dockerfile runs
it, against whatever database or cache the test points it at.

Ports come from 8500-8599, picked at random among the free ones, so that parallel workers
(pytest-xdist) and other local servers do not collide.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from django.conf import settings

from tests import live

ROOT = Path(settings.BASE_DIR)
PORTS = range(8500, 8600)
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    """A port of 8500-8599 that nothing listens on now."""
    return live.free_port(PORTS)


def _wait_for(port: int, process: subprocess.Popen[bytes], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as probe, suppress(OSError):
            probe.settimeout(0.5)
            probe.connect(("127.0.0.1", port))
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds} s")


class RedisServer:
    """``redis-server`` on a free port, nothing saved to disk; :meth:`kill` stops it as a crash
    would (SIGKILL), :meth:`start` brings it back, empty, on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(self.port, self.process, "redis-server")
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


class Gunicorn:
    """The service under gunicorn (one sync worker, as the Dockerfile's CMD serves it), with
    ``environ`` over a plain-http, embedded-default environment of its own (DATA_DIR in
    ``data_dir``); its output (the error log, no access log) in :attr:`log`."""

    def __init__(self, data_dir: Path, **environ: str) -> None:
        self.port = free_port()
        self.log_path = data_dir / "gunicorn.log"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
        }
        self.env.update(
            {
                "DATA_DIR": str(data_dir),
                "CELERY_BROKER_URL": "filesystem://",
                "DJANGO_HTTPS": "0",
                "DJANGO_DEBUG": "0",
                # Production settings refuse the development key.
                "DJANGO_SECRET_KEY": (
                    os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
                ),
                "LOG_LEVEL": "INFO",
                **environ,
            }
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[str] | None = None

    def __enter__(self) -> Gunicorn:
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                *(str(Path(sys.executable).with_name("gunicorn")), "config.wsgi:application"),
                *("--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "60"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        _wait_for(self.port, self.process, "gunicorn")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def request(
        self, method: str, path: str, json_body: Any = None, **headers: str
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers, the JSON body or the text) of one request on a new connection;
        ``headers`` as keyword arguments, ``_`` for ``-`` (``X_Request=...``)."""
        sent_headers = {key.replace("_", "-"): value for key, value in headers.items()}
        data = None
        if json_body is not None:
            data = json.dumps(json_body)
            sent_headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read().decode()
            sent = {key.lower(): value for key, value in response.getheaders()}
        finally:
            connection.close()
        body: Any = raw
        if "json" in sent.get("content-type", ""):
            body = json.loads(raw)
        return response.status, sent, body
