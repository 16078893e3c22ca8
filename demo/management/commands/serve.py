"""``python manage.py serve`` (what ``make run`` calls): the web server, a Celery worker and
Celery beat side by side, so that deadlines fire and events go out on a laptop too.

The three run as child processes of this one. Ctrl-C (or SIGTERM) stops all three; if one of
them dies, the others are stopped and the command exits with an error, rather than leaving
a web server up whose deadlines silently never fire.

A port already in use is said so before anything starts (with the way to pick another);
once the web server answers ``/healthz``, a short banner names the addresses, the demo
logins and how to stop. The processes log quietly while nothing happens
(``LOG_QUIET_IDLE``, config/logs.py): no beat ticks, no probe requests, no routine task
lines; each request (from django-structlog, the access log here) and each email stay.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from demo.seed import DEMO_PLATFORM_KEY, PASSWORD, USERS
from notifications.mail import mail_folder

HOST = "127.0.0.1"
# Who the demo people are, for the banner (README "Demo data").
DEMO_ROLES = (
    ("buyers", "alice, bob"),
    ("shop owners", "petals_owner (Paper Petals), inkwell_owner (Inkwell Studio)"),
    ("shop agent", "petals_agent (offers up to 50.00 USD)"),
    ("mediators", "mia_agent (agent), sam_senior (senior), lee_lead (lead): the console"),
)


def ready_folder() -> Path:
    """Where the worker and beat say they are up (config/celery.py, SERVE_READY_DIR)."""
    return Path(settings.DATA_DIR) / "run"


def control_socket() -> Path:
    """gunicorn's control socket (``gunicornc``), under DATA_DIR rather than the home."""
    return Path(settings.DATA_DIR) / "gunicorn.ctl"


def commands(*, port: int, web_workers: int, concurrency: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    # --quiet: without Celery's start-up banners (the configuration, the task list).
    celery = [str(bin_dir / "celery"), "-A", "config", "--quiet"]
    return {
        "web": [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(web_workers),
            # No access log of gunicorn's: django-structlog's request_finished is one line
            # per request already, with its request id (and quiet for the probes).
            "--control-socket",
            str(control_socket()),
        ],
        "worker": [
            *celery,
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            # One worker for every queue on a laptop (deployment runs one per queue).
            "--queues",
            ",".join(settings.WORKER_QUEUES),
        ],
        "beat": [*celery, "beat", "--loglevel", "INFO", "--pidfile", ""],
    }


def child_environment(environ: dict[str, str], *, port: int) -> dict[str, str]:
    """The environment of the three processes: the web server speaks plain http on
    127.0.0.1, so DJANGO_HTTPS=0 (no redirect to https, no Secure cookies a browser would
    drop, no HSTS) unless the caller set DJANGO_HTTPS; and PORT is the port served, from
    which the links in emails are made (SERVICE_URL's default), whatever PORT was."""
    return {
        **environ,
        "DJANGO_HTTPS": environ.get("DJANGO_HTTPS", "0"),
        "PORT": str(port),
        "LOG_QUIET_IDLE": environ.get("LOG_QUIET_IDLE", "1"),
        "SERVE_READY_DIR": str(ready_folder()),
    }


def port_taken(port: int) -> bool:
    """Whether something listens on (or holds) ``port`` of 127.0.0.1 already."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As gunicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def wait_until_up(
    port: int,
    children: dict[str, subprocess.Popen[bytes]],
    timeout: float,
    stopped: Callable[[], bool],
) -> bool:
    """Whether the web server answered /healthz with 200 and the worker and beat said they
    are up (their files in :func:`ready_folder`) within ``timeout``; False at once if a
    child died or the command is being stopped."""
    deadline = time.monotonic() + timeout
    celery = [name for name in ("worker", "beat") if name in children]
    while time.monotonic() < deadline:
        if stopped() or any(child.poll() is not None for child in children.values()):
            return False
        if not all((ready_folder() / name).exists() for name in celery):
            time.sleep(0.3)
            continue
        if "web" not in children:
            return True
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def demo_logins() -> list[str]:
    """The banner's lines about the demo people, when they are in the database."""
    try:
        present = get_user_model().objects.filter(username__in=list(USERS)).count()
    except DatabaseError:
        return []
    if present < len(USERS):
        return []
    return [
        f"  Demo logins (password {PASSWORD}):",
        *(f"    {role:<12} {who}" for role, who in DEMO_ROLES),
        f"    {'platform':<12} API key {DEMO_PLATFORM_KEY}",
    ]


def banner(port: int, wanted: list[str]) -> str:
    base = f"http://{HOST}:{port}"
    mail = mail_folder()
    try:
        mail_shown = str(mail.relative_to(Path(settings.BASE_DIR)))
    except ValueError:
        mail_shown = str(mail)
    lines = [
        "",
        "=" * 72,
        f"  Dispute mediation is up at {base}/",
        f"    API         {base}/api/v1/",
        f"    API docs    {base}/api/docs/  (Redoc: {base}/api/redoc/)",
        f"    Console     {base}/admin/",
        f"    Health      {base}/healthz  {base}/readyz",
    ]
    if settings.EMAIL_BACKEND == "notifications.mail.FileSummaryBackend":
        lines.append(f"    Emails      one line each below; the messages in {mail_shown}/")
    if wanted != ["web", "worker", "beat"]:
        lines.append(f"    Running     {', '.join(wanted)} only")
    lines += demo_logins()
    lines += ["  Stop: Ctrl-C (stops the web server, the worker and beat).", "=" * 72, ""]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together (the embedded default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--startup-timeout",
            type=float,
            default=60.0,
            help="Seconds to wait for the web server to answer before the banner.",
        )
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")
        parser.add_argument(
            "--only",
            action="append",
            choices=["web", "worker", "beat"],
            help="Start only these (repeatable); all three by default.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = options["only"] or ["web", "worker", "beat"]
        port: int = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port (1-65535).")
        try:
            taken = "web" in wanted and port_taken(port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {HOST}:{port}: {exc.strerror}.") from None
        if taken:
            raise CommandError(
                f"Port {port} on {HOST} is in use already (another `make run`, or another "
                f"server). Stop it, or serve on another port: make run PORT={port + 1}"
            )
        control_socket().parent.mkdir(parents=True, exist_ok=True)
        ready_folder().mkdir(parents=True, exist_ok=True)
        for name in ("worker", "beat"):
            (ready_folder() / name).unlink(missing_ok=True)
        table = commands(
            port=options["port"],
            web_workers=options["web_workers"],
            concurrency=options["concurrency"],
        )
        env = child_environment(dict(os.environ), port=options["port"])
        children: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for name in wanted:
                children[name] = subprocess.Popen(table[name], cwd=settings.BASE_DIR, env=env)
                self.stdout.write(f"started {name} (pid {children[name].pid})")
                self.stdout.flush()
            if children:
                if wait_until_up(port, children, options["startup_timeout"], lambda: stopping):
                    if "web" in wanted:
                        self.stdout.write(banner(port, wanted))
                    else:
                        self.stdout.write(f"Up: {', '.join(wanted)}. Stop: Ctrl-C.")
                    self.stdout.flush()
                elif not stopping and all(c.poll() is None for c in children.values()):
                    self.stderr.write(
                        f"Not up after {options['startup_timeout']:.0f} s (the web server at "
                        f"http://{HOST}:{port}/healthz, the worker, beat); their log above "
                        "says why."
                    )
            failed = ""
            while not stopping and not failed:
                for name, child in children.items():
                    if child.poll() is not None:
                        failed = f"{name} exited with status {child.returncode}"
                        break
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 20
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed:
            raise CommandError(f"{failed}; the others were stopped.")
        self.stdout.write("stopped")
