"""``make bench-upload``: the serving process's memory while it receives a 50 MB upload.

Starts gunicorn (one sync worker) on a throw-away SQLite database with the demo data and a
per-file limit raised above the body size, uploads one body of ``--mb`` megabytes as a
buyer's evidence, and reads the worker's peak resident set (``VmHWM``, reset through
``/proc/<pid>/clear_refs`` just before the upload) against its resident set before it. The
upload is streamed to a temporary file and hashed on the way, so the growth must stay under
``--budget-mb`` (16 MB) whatever the body size; the command exits 1 otherwise.

It then sends the same headers with a declared 2 GB body to a server with the default limit,
to show that such a body is refused before it is read. Linux only (``/proc``).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

MB = 1024 * 1024
CHUNK = MB
BOUNDARY = "bench-upload-boundary-7d1c3f"


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory field, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise CommandError(f"/proc/{pid}/status has no {field}")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


class Server:
    """gunicorn with one sync worker on a throw-away data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "STATIC_ROOT": str(data_dir / "static"),
            "DJANGO_DEBUG": "0",
            # Production settings refuse the development key (the demo data's own database).
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            # Plain http on loopback, as `make run` serves: no redirect to https.
            "DJANGO_HTTPS": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        for name in ("DATABASE_URL", "MEDIA_ROOT", "STORAGE_BACKEND", "AWS_STORAGE_BUCKET_NAME"):
            self.env.pop(name, None)
        self.proc: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def __enter__(self) -> Server:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/healthz")
                if status == 200 and _children(self.proc.pid):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise CommandError("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    @property
    def worker(self) -> int:
        assert self.proc is not None
        (pid,) = _children(self.proc.pid)
        return pid

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw or b"null")
            except ValueError:
                return response.status, raw
        finally:
            conn.close()

    def token(self, username: str) -> str:
        status, body = self.request(
            "POST",
            "/api/v1/auth/token/",
            json.dumps({"username": username, "password": "demo-pass-123"}),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            raise CommandError(f"could not log in as {username}: {status} {body}")
        return str(body["token"])


def _multipart_parts(name: str) -> tuple[bytes, bytes]:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="description"\r\n\r\n'
        "Benchmark upload\r\n"
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail


def _pdf_chunks(size: int) -> Any:
    """A PDF-typed body of ``size`` bytes, produced chunk by chunk (never held whole)."""
    first = b"%PDF-1.7\n%" + bytes(range(0x80, 0x84)) + b"\n"
    block = os.urandom(CHUNK)
    sent = 0
    while sent < size:
        piece = (first + block)[:CHUNK] if sent == 0 else block
        piece = piece[: size - sent]
        sent += len(piece)
        yield piece


class Command(BaseCommand):
    help = "Measure the serving process's RSS growth while it receives a large evidence upload."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mb", type=int, default=50, help="Body size in MB (default 50).")
        parser.add_argument(
            "--budget-mb", type=float, default=16.0, help="Allowed RSS growth (default 16)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Path("/proc/self/status").exists():
            raise CommandError("This benchmark reads /proc and runs on Linux only.")
        size = options["mb"] * MB
        budget = int(options["budget_mb"] * MB)
        with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
            limits = {
                "EVIDENCE_MAX_FILE_MB": str(options["mb"] + 1),
                "EVIDENCE_MAX_TOTAL_MB": str(options["mb"] * 2 + 10),
            }
            server = Server(Path(tmp), limits)
            self.stdout.write("Preparing a throw-away database with the demo data ...")
            server.manage("migrate", "--noinput")
            server.manage("seed_demo")
            with server:
                growth = self._measure(server, size)
            refused = self._declared_huge(Server(Path(tmp), {}))
        self.stdout.write(refused)
        if growth >= budget:
            raise CommandError(
                f"RSS grew by {growth / MB:.1f} MB, over the {budget / MB:.0f} MB budget."
            )
        self.stdout.write(self.style.SUCCESS("PASS: the upload was streamed."))

    def _dispute_for(self, server: Server, token: str) -> int:
        status, page = server.request(
            "GET", "/api/v1/disputes/?state=awaiting_seller", headers=self._auth(token)
        )
        if status != 200 or not page["results"]:
            raise CommandError(f"no open dispute for the demo buyer: {status} {page}")
        return int(page["results"][0]["id"])

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Token {token}"}

    def _upload(self, server: Server, token: str, dispute: int, size: int) -> tuple[int, Any, str]:
        head, tail = _multipart_parts("carrier-scan.pdf")
        sha = hashlib.sha256()
        conn = server.connection()
        try:
            conn.putrequest("POST", f"/api/v1/disputes/{dispute}/evidence/")
            for name, value in {
                **self._auth(token),
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(len(head) + size + len(tail)),
            }.items():
                conn.putheader(name, value)
            conn.endheaders()
            conn.send(head)
            for piece in _pdf_chunks(size):
                sha.update(piece)
                conn.send(piece)
            conn.send(tail)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null"), sha.hexdigest()
        finally:
            conn.close()

    def _measure(self, server: Server, size: int) -> int:
        token = server.token("bob")
        dispute = self._dispute_for(server, token)
        # Warm up: the first request imports and caches what every later one uses.
        status, body, _ = self._upload(server, token, dispute, 64 * 1024)
        if status != 201:
            raise CommandError(f"warm-up upload refused: {status} {body}")
        worker = server.worker
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = _status(worker, "VmRSS")
        started = time.perf_counter()
        status, body, sha = self._upload(server, token, dispute, size)
        seconds = time.perf_counter() - started
        peak = _status(worker, "VmHWM")
        if status != 201:
            raise CommandError(f"upload refused: {status} {body}")
        if body["sha256"] != sha or body["size"] != size:
            raise CommandError("the stored file's SHA-256 or size differs from what was sent")
        growth = peak - before
        rows = [
            ("body", f"{size / MB:.0f} MB"),
            ("status", f"{status} (stored, SHA-256 matches)"),
            ("time", f"{seconds:.2f} s ({size / MB / seconds:.0f} MB/s)"),
            ("worker RSS before", f"{before / MB:.1f} MB"),
            ("worker peak RSS", f"{peak / MB:.1f} MB"),
            ("growth", f"{growth / MB:.1f} MB"),
            ("growth / body", f"{growth / size:.3f}"),
        ]
        for label, value in rows:
            self.stdout.write(f"  {label:<20} {value}")
        return growth

    def _declared_huge(self, server: Server) -> str:
        """Default limits, a declared 2 GB body: refused before the body is read."""
        with server:
            token = server.token("bob")
            dispute = self._dispute_for(server, token)
            head, _ = _multipart_parts("huge.pdf")
            conn = server.connection()
            try:
                conn.putrequest("POST", f"/api/v1/disputes/{dispute}/evidence/")
                conn.putheader("Authorization", f"Token {token}")
                conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
                conn.putheader("Content-Length", str(2 * 1024 * MB))
                conn.endheaders()
                conn.send(head)
                started = time.perf_counter()
                response = conn.getresponse()
                body = json.loads(response.read() or b"null")
                seconds = time.perf_counter() - started
            finally:
                conn.close()
        if response.status != 413 or body.get("code") != "file_too_large":
            raise CommandError(f"a declared 2 GB body was not refused: {response.status} {body}")
        return (
            f"  declared 2 GB body   {response.status} {body['code']} after "
            f"{len(head)} bytes sent, in {seconds * 1000:.0f} ms"
        )
