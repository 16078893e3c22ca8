"""A real Celery worker and beat: a dispute left alone escalates after its deadline, and the
shop's webhook receives the signed event.

Runs the processes `make run` and docker compose run, against the broker the suite is
configured for: the broker on local files on the embedded default (SQLite), Redis when
``REDIS_URL`` is set (the PostgreSQL + Redis run of CI). The worker and beat use their own
database (a file, or a throw-away PostgreSQL database), since the test database is private
to the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings

from tests.webhooks.helpers import receiver, verify_signature

ROOT = Path(settings.BASE_DIR)
PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from api.models import WebhookEndpoint
from api.webhook_delivery import new_secret
from mediation.models import Dispute
d = Dispute.objects.get(order__external_id="IW-2003")
assert d.state == "awaiting_seller", d.state
Dispute.objects.filter(pk=d.pk).update(respond_by=timezone.now() - timedelta(minutes=5))
secret = new_secret()
WebhookEndpoint.objects.create(shop=d.shop, url="{url}", events=["dispute.escalated"],
                               secret=secret)
print(json.dumps({{"dispute": d.pk, "secret": secret}}))
"""

CHECK = """
import json
from mediation.models import AuditEntry, Dispute
d = Dispute.objects.get(pk={pk})
entry = AuditEntry.objects.filter(dispute=d).order_by("-seq").first()
print(json.dumps({{"state": d.state, "reason": d.escalation_reason,
                   "action": entry.action, "role": entry.actor_role}}))
"""


def _redis_broker() -> str:
    parsed = urlparse(os.environ["REDIS_URL"])
    return urlunparse(parsed._replace(path="/13"))  # not the cache's database


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not PG:
        yield f"sqlite:///{tmp_path}/live.sqlite3"
        return
    import psycopg

    db = settings.DATABASES["default"]
    name = f"mediation_live_{uuid.uuid4().hex[:8]}"
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
    yield f"postgres://{auth}@{conninfo['host']}:{conninfo['port']}/{name}"
    with psycopg.connect(**conninfo) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _for(requests: list[Any], dispute: int) -> list[Any]:
    return [r for r in requests if json.loads(r.body)["data"]["id"] == dispute]


def _shell(env: dict[str, str], code: str) -> Any:
    return json.loads(_manage(env, "shell", "-c", code).strip().splitlines()[-1])


def test_a_dispute_left_alone_escalates_and_the_webhook_arrives(
    tmp_path: Path, database_url: str
) -> None:
    broker = _redis_broker() if os.environ.get("REDIS_URL") else "filesystem://"
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "BEAT_INTERVAL_SECONDS": "2",
        "WEBHOOKS_ALLOW_PRIVATE_URLS": "1",
        "LOG_LEVEL": "INFO",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    _manage(env, "migrate", "--noinput")
    _manage(env, "seed_demo")
    logs = tmp_path / "workers.log"
    with receiver() as hook, logs.open("w") as log:
        setup = _shell(env, SETUP.format(url=hook.url))
        celery = [str(Path(sys.executable).with_name("celery")), "-A", "config"]
        procs = [
            subprocess.Popen(
                [*celery, "worker", "--concurrency", "1", "--loglevel", "INFO"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            ),
            subprocess.Popen(
                [*celery, "beat", "--loglevel", "INFO", "--pidfile", ""],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            ),
        ]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not _for(hook.requests, setup["dispute"]):
                assert all(p.poll() is None for p in procs), logs.read_text()[-4000:]
                time.sleep(0.5)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        mine = _for(hook.requests, setup["dispute"])
        assert mine, f"no webhook within 120 s:\n{logs.read_text()[-4000:]}"

    # The demo's own escalated dispute (same shop) is delivered too: seeding wrote its events.
    (request,) = mine
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert verify_signature(headers["mediation-signature"], request.body, setup["secret"])
    event = json.loads(request.body)
    assert event["type"] == "dispute.escalated"
    assert event["data"]["id"] == setup["dispute"]
    assert event["data"]["state"] == "escalated"

    state = _shell(env, CHECK.format(pk=setup["dispute"]))
    assert state == {
        "state": "escalated",
        "reason": "seller_no_response",
        "action": "deadline_passed",
        "role": "system",
    }
