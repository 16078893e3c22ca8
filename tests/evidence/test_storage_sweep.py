"""Files that no evidence row refers to are removed after a grace period; rows without files
are reported."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from mediation.models import Evidence
from tests.evidence import files
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def sc() -> Scenario:
    return dispute_in("under_review", mediator="mediator_agent")


def _upload(sc: Scenario) -> Evidence:
    r = as_user(sc["buyer"]).post(
        f"/api/v1/disputes/{sc.id}/evidence/",
        {"file": files.upload("photo.png", files.png(), "image/png")},
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    return Evidence.objects.get(pk=r.json()["id"])


def _leftover(sc: Scenario, name: str, age_hours: float) -> str:
    stored = default_storage.save(f"evidence/{sc.id}/{name}", ContentFile(b"%PDF-1.4 partial"))
    old = time.time() - age_hours * 3600
    os.utime(Path(settings.MEDIA_ROOT) / stored, (old, old))
    return stored


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sweep_evidence_files", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_old_orphans_go_recent_ones_and_real_evidence_stay(sc: Scenario) -> None:
    kept = _upload(sc)
    old = _leftover(sc, "0" * 32, age_hours=3)
    recent = _leftover(sc, "1" * 32, age_hours=0.1)

    out, _ = _run("--dry-run")
    assert f"Would remove {old}" in out
    assert default_storage.exists(old)

    out, err = _run()
    assert f"Removed {old}" in out
    assert "Scanned 3 files: 1 orphaned (removed), 1 too recent to judge" in out
    assert err == ""
    assert not default_storage.exists(old)
    assert default_storage.exists(recent)
    assert default_storage.exists(str(kept.file.name))

    out, _ = _run("--grace-minutes", "0")
    assert f"Removed {recent}" in out
    assert default_storage.exists(str(kept.file.name))


def test_rows_whose_file_is_missing_are_reported_not_removed(sc: Scenario) -> None:
    item = _upload(sc)
    default_storage.delete(str(item.file.name))
    out, err = _run()
    assert f"Evidence {item.pk}: its file is missing from storage." in err
    assert "1 evidence rows without their file" in out
    assert Evidence.objects.filter(pk=item.pk).exists()


def test_an_empty_storage_is_fine() -> None:
    out, _ = _run()
    assert "Scanned 0 files: 0 orphaned" in out


def test_beat_runs_the_sweep_every_hour(sc: Scenario) -> None:
    from workflows import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-evidence-files"]
    assert entry["task"] == tasks.sweep_evidence_files.name
    assert entry["schedule"] == 3600.0
    kept = _upload(sc)
    old = _leftover(sc, "2" * 32, age_hours=2)
    assert tasks.sweep_evidence_files() == {
        "scanned": 2,
        "removed": 1,
        "too_recent": 0,
        "missing": 0,
    }
    assert not default_storage.exists(old)
    assert default_storage.exists(str(kept.file.name))
