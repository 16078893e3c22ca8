"""Real Celery workers and beat for the live tests: their database, broker and processes.

The processes are the ones `make run` and docker compose run, against the broker the suite
is configured for: the broker on local files on the embedded default (SQLite), Redis when
``REDIS_URL`` is set (the PostgreSQL + Redis run of CI). They use their own database (a
file, or a throw-away PostgreSQL database), since the test database is private to the test
process.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse, urlunparse

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
CELERY = [str(Path(sys.executable).with_name("celery")), "-A", "config"]


@contextmanager
def database(tmp_path: Path, prefix: str = "mediation_live") -> Iterator[str]:
    """The URL of an empty database of the suite's kind for the processes; dropped after.
    On PostgreSQL it is named ``<prefix>_<8 hex digits>``."""
    if not PG:
        yield f"sqlite:///{tmp_path}/live.sqlite3"
        return
    import psycopg

    db = settings.DATABASES["default"]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conninfo = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or "5432",
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**conninfo) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] or "postgres"
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    try:
        yield f"postgres://{auth}@{conninfo['host']}:{conninfo['port']}/{name}"
    finally:
        with psycopg.connect(**conninfo) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def broker(redis_db: int) -> Iterator[str]:
    """``filesystem://`` (files under the processes' DATA_DIR), or an emptied Redis database
    (``redis_db``, not the cache's) when the suite runs with ``REDIS_URL``; emptied again
    after, so no message outlives its test."""
    with redis_database(redis_db) as url:
        yield url or "filesystem://"


def free_port(ports: range) -> int:
    """A port of 127.0.0.1 in ``ports`` that nothing listens on now (tried in random order,
    so that tests running at once rarely pick the same one)."""
    for port in random.sample(ports, len(ports)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {ports.start}-{ports.stop - 1}")


@contextmanager
def redis_database(redis_db: int) -> Iterator[str | None]:
    """The URL of database ``redis_db`` of the suite's ``REDIS_URL`` server, emptied before
    and after; None when the suite runs without Redis."""
    if not os.environ.get("REDIS_URL"):
        yield None
        return
    import redis

    parsed = urlparse(os.environ["REDIS_URL"])
    url = urlunparse(parsed._replace(path=f"/{redis_db}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def environment(tmp_path: Path, database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "WEBHOOKS_ALLOW_PRIVATE_URLS": "1",
        "LOG_LEVEL": "INFO",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def shell(env: dict[str, str], code: str, timeout: float = 180) -> Any:
    """Run ``code`` in ``manage.py shell``; its last printed line, as JSON."""
    return json.loads(manage(env, "shell", "-c", code, timeout=timeout).strip().splitlines()[-1])


def start(env: dict[str, str], log: IO[str], *args: str) -> subprocess.Popen[bytes]:
    """``celery -A config <args>`` in a process group of its own (a worker's pool children
    included), so that :func:`kill` reaches all of it."""
    return subprocess.Popen(
        [*CELERY, *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def worker(
    env: dict[str, str],
    log: IO[str],
    concurrency: int = 1,
    queues: tuple[str, ...] | None = None,
) -> subprocess.Popen[bytes]:
    """A prefork worker taking ``queues`` (every queue of the service by default)."""
    return start(
        env,
        log,
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--queues",
        ",".join(queues or settings.WORKER_QUEUES),
    )


def beat(env: dict[str, str], log: IO[str]) -> subprocess.Popen[bytes]:
    return start(env, log, "beat", "--loglevel", "INFO", "--pidfile", "")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            found += children
            todo += children
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split()[1:2]


def kill(process: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL the process and every process below it at once, as the OOM killer or a lost
    machine would: no shutdown, no acknowledgement, no cleanup. The pids killed."""
    pids = [process.pid, *descendants(process.pid)]
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in pids:  # any that left the group
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids


def stop(*processes: subprocess.Popen[bytes]) -> None:
    """A warm shutdown (SIGTERM), then SIGKILL for any still running after 30 s."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill(p)
