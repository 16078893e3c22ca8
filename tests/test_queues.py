"""Three queues (config/settings.py CELERY_TASK_ROUTES): the deadline sweeper and the outbox
relay never wait behind webhook deliveries or emails. Each queue has its own workers in
compose, a laptop's worker takes them all, and a task that expires in its queue is logged and
counted rather than dropped in silence."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from celery.bin.celery import celery as celery_cli
from django.conf import settings

from config.celery import app
from demo.management.commands.serve import commands as serve_commands
from tests import live
from tests.test_deploy import WORKERS, program, services

EXPECTED = {
    "workflows.sweep_deadlines": "celery",
    "workflows.relay_outbox": "celery",
    "workflows.sweep_evidence_files": "celery",
    "workflows.clear_expired_tokens": "celery",
    "mediation.anchor_audit_heads": "celery",
    "webhooks.deliver_webhook": "webhooks",
    "webhooks.retry_due_webhooks": "webhooks",
    "api.deliver_webhook": "webhooks",
    "api.retry_due_webhooks": "webhooks",
    "api.relay_outbox": "celery",
    "notifications.send_emails": "emails",
}


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def ours() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_goes_to_its_queue() -> None:
    assert set(ours()) == set(EXPECTED), "a new task needs its queue here and in the README"
    for name, queue in EXPECTED.items():
        assert queue_of(name) == queue, name
    assert set(EXPECTED.values()) == set(settings.WORKER_QUEUES)


def _queues(argv: list[str]) -> set[str]:
    """The queues a ``celery ... worker`` command line takes (-Q / --queues, comma-separated;
    none: only the default queue)."""
    options = {opt for p in celery_cli.commands["worker"].params for opt in p.opts}
    assert {"-Q", "--queues"} <= options
    found: list[str] = []
    args = argv[argv.index("worker") + 1 :]
    for i, arg in enumerate(args):
        if arg in ("-Q", "--queues"):
            found += args[i + 1].split(",")
        elif arg.startswith("--queues="):
            found += arg.split("=", 1)[1].split(",")
    return set(found) or {settings.CELERY_TASK_DEFAULT_QUEUE}


def test_each_queue_has_workers_of_its_own_in_compose() -> None:
    consumed = {name: _queues(program(name, "celery")) for name in WORKERS}
    for name, queues in consumed.items():
        assert len(queues) == 1, f"{name} takes {sorted(queues)}: one queue a worker service"
    taken = [q for queues in consumed.values() for q in queues]
    assert sorted(taken) == sorted(settings.WORKER_QUEUES)
    # Every worker service waits for the migrations and stops gracefully.
    for name in WORKERS:
        service = services()[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["stop_grace_period"]


def test_a_laptops_worker_takes_every_queue() -> None:
    argv = serve_commands(port=8000, web_workers=1, concurrency=1)["worker"]
    assert _queues(argv) == set(settings.WORKER_QUEUES)


EXPIRE = """
import json
from datetime import timedelta
from django.utils import timezone
from config.celery import app
past = timezone.now() - timedelta(seconds=30)
result = app.send_task("workflows.sweep_deadlines", expires=past)
print(json.dumps({"id": result.id}))
"""

COUNT = """
import json
from config.celery import expired_count
print(json.dumps({"expired": expired_count("workflows.sweep_deadlines")}))
"""


def test_a_task_that_expires_in_its_queue_is_logged_and_counted(tmp_path: Path) -> None:
    logs = tmp_path / "worker.log"
    with (
        live.database(tmp_path) as database_url,
        live.broker(redis_db=5) as broker,
        # The count is kept in the cache: one of this test's own (the suite's is shared).
        live.redis_database(6) as cache_url,
        logs.open("w") as log,
    ):
        env = live.environment(tmp_path, database_url, broker)
        if cache_url:
            env["REDIS_URL"] = cache_url
        else:
            env.pop("REDIS_URL", None)  # the embedded default's cache, under DATA_DIR
        live.manage(env, "migrate", "--noinput")
        sent = live.shell(env, EXPIRE)
        worker = live.worker(env, log)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and "expired in the queue" not in logs.read_text():
                assert worker.poll() is None, logs.read_text()[-4000:]
                time.sleep(0.5)
        finally:
            live.stop(worker)
        text = logs.read_text()
        assert "Task workflows.sweep_deadlines expired in the queue" in text, text[-4000:]
        assert "(queue celery)" in text
        assert sent["id"] in text  # Celery's own line for the discarded message
        counted: Any = live.shell(env, COUNT)
    assert counted == {"expired": 1}
    assert json.dumps(counted)


@pytest.mark.parametrize("name", ["webhooks.deliver_webhook", "notifications.send_emails"])
def test_the_slow_kinds_stay_out_of_the_sweepers_queue(name: str) -> None:
    assert queue_of(name) != queue_of("workflows.sweep_deadlines")
