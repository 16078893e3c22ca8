"""bench_api's pieces on PostgreSQL: the bare baseline's endpoints answer a token, and the
captured SQL of a transition is a pgbench script that runs (and leaves nothing behind)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, modify_settings, override_settings

from benchmarks import apibench as ab
from mediation.models import Dispute, Message

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="bench_api is PostgreSQL only"),
]

BARE = [
    modify_settings(INSTALLED_APPS={"append": "benchmarks.bare"}),
    override_settings(ROOT_URLCONF="benchmarks.bare.urls"),
]


def _bare(client: Client, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Authorization": f"Token {token}"} if token else {}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, body, content_type="application/json", headers=headers)


def test_bare_endpoints_answer_a_token(db: Any) -> None:
    cast = ab.make_cast("bare-test")
    (pk,) = ab.raise_disputes(cast, 1)
    version = Dispute.objects.get(pk=pk).version
    client = Client()
    for decorator in BARE:
        decorator.enable()
    try:
        assert _bare(client, "GET", f"/bare/disputes/{pk}/", None).status_code == 401
        detail = _bare(client, "GET", f"/bare/disputes/{pk}/", cast.buyer_token)
        assert detail.status_code == 200
        assert detail.json()["state"] == "awaiting_seller"
        assert detail.json()["version"] == version
        offer = _bare(
            client, "POST", f"/bare/disputes/{pk}/offer/", cast.owner_token, {"kind": "goodwill"}
        )
        assert offer.status_code == 200, offer.content
        message = _bare(
            client, "POST", f"/bare/disputes/{pk}/messages/", cast.buyer_token, {"body": "Hi"}
        )
        assert message.status_code == 201, message.content
        missing = _bare(client, "POST", "/bare/disputes/0/offer/", cast.owner_token, {"kind": "x"})
        assert missing.status_code == 404
    finally:
        for decorator in reversed(BARE):
            decorator.disable()
    assert Dispute.objects.get(pk=pk).version == version + 1
    assert Message.objects.filter(dispute_id=pk).count() == 2


@pytest.mark.skipif(shutil.which("pgbench") is None, reason="needs pgbench")
def test_captured_transition_sql_runs_in_pgbench(transactional_db: Any, tmp_path: Path) -> None:
    cast = ab.make_cast("capture-test")
    warm_up, pk = ab.raise_disputes(cast, 2)
    version = Dispute.objects.get(pk=pk).version
    ((offer, counter),) = ab.capture_transitions(cast, [warm_up, pk])
    assert any(s.startswith('UPDATE "mediation_dispute"') for s in offer.inside)
    assert any(s.startswith('INSERT INTO "mediation_auditentry"') for s in offer.inside)
    assert any(s.startswith('INSERT INTO "mediation_offer"') for s in counter.inside)
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in offer.before + offer.after)
    # The capture was rolled back: the dispute is as it was raised.
    assert Dispute.objects.get(pk=pk).state == "awaiting_seller"

    db = connection.settings_dict
    for cap in (offer, counter):
        script = tmp_path / f"{cap.label.split()[0]}.sql"
        script.write_text(ab.pgbench_script([cap]))
        args = ["pgbench", "-n", "-t", "1", "-f", str(script)]
        for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
            if db.get(key):
                args += [flag, str(db[key])]
        env = {"PATH": "/usr/bin:/bin", "PGPASSWORD": db.get("PASSWORD") or ""}
        result = subprocess.run(
            [*args, db["NAME"]], capture_output=True, text=True, env=env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert "number of failed transactions: 0" in result.stdout
    assert Dispute.objects.get(pk=pk).version == version


def test_both_servers_take_the_dockerfiles_gunicorn_options() -> None:
    """The Dockerfile's CMD minus the program, the application and ``--bind``: the config
    file's option and its value stay together."""
    from benchmarks.management.commands.bench_api import gunicorn_flags
    from tests.live import ROOT

    flags = gunicorn_flags(ROOT / "Dockerfile")
    assert flags[:2] == ["-c", "config/gunicorn.conf.py"]
    assert "config.wsgi:application" not in flags and "--bind" not in flags


def test_a_servers_cpu_keeps_what_its_replaced_workers_used(tmp_path: Path) -> None:
    """gunicorn replaces a worker after ``max_requests``: the server's CPU figure still
    counts what the replaced worker used (its master reaped it), so a run's CPU never
    drops when a worker is recycled during it."""
    import sys
    import time

    from benchmarks.management.commands.bench_api import Server

    # A "master" that forks a worker, which spends about 0.4 s on the CPU and exits, and
    # reaps it (as gunicorn does), then idles.
    program = (
        "import os, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    end = time.process_time() + 0.4\n"
        "    while time.process_time() < end:\n"
        "        pass\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('reaped', flush=True)\n"
        "time.sleep(60)\n"
    )
    master = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    server = Server("probe", 0, master, tmp_path / "log")  # type: ignore[arg-type]
    try:
        assert master.stdout is not None
        assert master.stdout.readline().strip() == "reaped"
        assert server.workers() == []  # no live worker: only the reaped one's CPU is left
        assert server.cpu() >= 0.35
        before = server.cpu()
        time.sleep(0.05)
        assert server.cpu() >= before
    finally:
        master.kill()
        master.wait()
