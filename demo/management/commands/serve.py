"""``python manage.py serve`` (what ``make run`` calls): the web server, a Celery worker and
Celery beat side by side, so that deadlines fire and events go out on a laptop too.

The three run as child processes of this one. Ctrl-C (or SIGTERM) stops all three; if one of
them dies, the others are stopped and the command exits with an error, rather than leaving
a web server up whose deadlines silently never fire.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def commands(*, port: int, web_workers: int, concurrency: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    celery = [str(bin_dir / "celery"), "-A", "config"]
    return {
        "web": [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(web_workers),
            "--access-logfile",
            "-",
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
    return {**environ, "DJANGO_HTTPS": environ.get("DJANGO_HTTPS", "0"), "PORT": str(port)}


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together (the embedded default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
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
