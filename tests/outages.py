"""Real dependencies to take away in the middle of a test: a Redis server of the test's own,
killed and started again on its port.

Ports come from 8500-8599, picked at random among the free ones, so that parallel workers
(pytest-xdist) and other local servers do not collide.
"""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from contextlib import suppress

PORTS = range(8500, 8600)
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8500-8599")


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
