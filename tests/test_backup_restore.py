"""The README's backup and restore (Deployment, "Backups and restore"), exercised: a
``pg_dump`` of a database in use, restored with ``pg_restore`` into a fresh database, is the
same data, and ``verify_audit`` finds every audit chain intact against the checkpoints in the
anchor storage, in a process of its own on the restored copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from demo.seed import seed
from mediation import audit_anchor
from mediation.models import AuditCheckpoint, AuditEntry, Dispute
from tests.live import ROOT

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a pg_dump of PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _libpq_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGHOST": db["HOST"] or "127.0.0.1", "PGUSER": db["USER"] or "postgres"}
    if db["PORT"]:
        env["PGPORT"] = str(db["PORT"])
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, env=env or _libpq_env(), capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, f"{argv[0]}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


@pytest.fixture
def restored_name() -> Iterator[str]:
    """A fresh database for the restore, dropped after the test."""
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    name = f"{settings.DATABASES['default']['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", "--force", name], env=_libpq_env(), capture_output=True
        )


def _counts(cursor: Any) -> dict[str, int]:
    tables = ("mediation_dispute", "mediation_auditentry", "mediation_auditcheckpoint")
    found = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {table}")
        found[table] = cursor.fetchone()[0]
    return found


def test_a_restored_dump_verifies_every_audit_chain(restored_name: str, tmp_path: Path) -> None:
    seed()
    report = audit_anchor.anchor_heads()
    assert report.checkpoints, "the demo's heads were anchored"
    source = settings.DATABASES["default"]["NAME"]
    with connection.cursor() as cursor:
        before = _counts(cursor)
    assert before["mediation_auditentry"] == AuditEntry.objects.count() > 0
    assert before["mediation_auditcheckpoint"] == AuditCheckpoint.objects.count() > 0

    # The README's commands: a custom-format dump, restored into a new database.
    dump = tmp_path / "mediation.dump"
    _run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source)
    _run("createdb", restored_name)
    _run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored_name}", str(dump))

    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    anchors = settings.STORAGES["audit_anchors"]["OPTIONS"]["location"]
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": f"{url}/{restored_name}",
        "CELERY_BROKER_URL": "memory://",
        # The same keys and the same anchor storage: the restore brings the database back,
        # the secrets and the checkpoints were kept apart from it.
        "AUDIT_ANCHOR_DIR": anchors,
        "AUDIT_ANCHOR_BACKEND": "local",
    }
    done = _run(sys.executable, "manage.py", "verify_audit", "--jobs", "1", env=env)
    disputes = Dispute.objects.count()
    entries = before["mediation_auditentry"]
    assert f"Verified {disputes:,} disputes ({entries:,} entries): {disputes:,} intact" in (
        done.stdout
    ), done.stdout
    assert "0 broken" in done.stdout

    # And the copy is the data: the same rows, the trigger that keeps the log append-only.
    restored = connection.settings_dict.copy()
    restored["NAME"] = restored_name
    from django.db.backends.postgresql.base import DatabaseWrapper

    copy = DatabaseWrapper(restored, alias="restored")
    try:
        with copy.cursor() as cursor:
            assert _counts(cursor) == before
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'mediation_auditentry_append_only'"
            )
            assert cursor.fetchone()[0] == 1
    finally:
        copy.close()
