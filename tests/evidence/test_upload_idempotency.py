"""Idempotency-Key on evidence uploads: a retried upload is stored once, keyed by content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError

from api.models import IdempotencyRecord
from mediation.models import AuditEntry, Evidence
from tests.evidence import files
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def sc() -> Scenario:
    return dispute_in("under_review", mediator="mediator_agent")


def post(sc: Scenario, content: bytes, key: str, name: str = "receipt.png", **fields: Any) -> Any:
    data = {"file": files.upload(name, content, "image/png"), **fields}
    return as_user(sc["buyer"]).post(
        f"/api/v1/disputes/{sc.id}/evidence/",
        data,
        format="multipart",
        headers={"Idempotency-Key": key},
    )


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_a_retried_upload_is_stored_once_and_replayed(sc: Scenario) -> None:
    first = post(sc, files.png(), "up-1", description="The receipt")
    assert first.status_code == 201, first.json()
    entries = AuditEntry.objects.filter(dispute_id=sc.id).count()

    again = post(sc, files.png(), "up-1", description="The receipt")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Evidence.objects.filter(dispute_id=sc.id).count() == 1
    assert AuditEntry.objects.filter(dispute_id=sc.id).count() == entries
    assert len(stored_files()) == 1


def test_the_same_key_with_other_content_is_refused(sc: Scenario) -> None:
    assert post(sc, files.png(), "up-2").status_code == 201
    changed = post(sc, files.gif(), "up-2", name="receipt.gif")
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
    # Same name, different bytes: the fingerprint is the content, not the name.
    text = post(sc, files.text(), "up-2", name="receipt.png")
    assert text.status_code in (415, 422)
    same_name = files.png() + b"\n"
    assert post(sc, same_name, "up-2").json()["code"] == "idempotency_key_reused"
    assert Evidence.objects.filter(dispute_id=sc.id).count() == 1
    assert len(stored_files()) == 1


def test_other_fields_are_part_of_the_fingerprint(sc: Scenario) -> None:
    assert post(sc, files.png(), "up-3", description="first").status_code == 201
    r = post(sc, files.png(), "up-3", description="second")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"


def test_a_refused_upload_does_not_burn_the_key(sc: Scenario) -> None:
    refused = post(sc, b"<html><script>alert(1)</script></html>", "up-4", name="x.png")
    assert refused.status_code == 415
    assert not IdempotencyRecord.objects.filter(key="up-4").exists()
    assert post(sc, files.png(), "up-4").status_code == 201


def test_nothing_stays_in_storage_when_the_key_record_cannot_be_written(
    sc: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evidence row rolls back with the failed key record; its file must go too."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(IdempotencyRecord.objects, "create", refuse)
    r = post(sc, files.png(), "up-5")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_in_use"
    assert not Evidence.objects.filter(dispute_id=sc.id).exists()
    assert stored_files() == []


def test_outsiders_get_404_before_the_body_is_read(sc: Scenario) -> None:
    r = as_user(sc["other_buyer"]).post(
        f"/api/v1/disputes/{sc.id}/evidence/",
        {"file": files.upload("x.png", files.png(), "image/png")},
        format="multipart",
        headers={"Idempotency-Key": "up-6"},
    )
    assert r.status_code == 404
    assert not IdempotencyRecord.objects.filter(key="up-6").exists()
