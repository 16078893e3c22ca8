"""Hostile uploads (issue 4): each is refused with its code or stored harmlessly, none is a
500, and a refusal leaves no row, no audit entry and no file, in storage or in the
temporary upload directory."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from mediation.models import AuditEntry, Evidence
from tests.evidence.hostile import CORPUS, LIMIT_MB, Case
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db


def files_under(root: str | Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


@pytest.fixture
def upload_tmp(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


def test_the_corpus_is_large_and_ids_are_unique() -> None:
    ids = [case.id for case in CORPUS]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_hostile_upload(case: Case, settings: Any, upload_tmp: Path) -> None:
    settings.EVIDENCE_MAX_FILE_MB = LIMIT_MB
    for name, value in case.settings.items():
        setattr(settings, name, value)
    sc: Scenario = dispute_in("under_review", mediator="mediator_agent")
    before = (Evidence.objects.count(), AuditEntry.objects.count())
    meta: dict[str, Any] = dict(case.meta)

    r = as_user(sc["buyer"]).generic(
        "POST",
        f"/api/v1/disputes/{sc.id}/evidence/",
        data=case.body(),  # type: ignore[arg-type]  # the stubs say str; bytes are sent as is
        content_type=case.content_type,
        **meta,
    )

    assert r.status_code != 500, r.content
    assert files_under(upload_tmp) == [], "a temporary upload was left behind"
    if case.status != 201:
        assert r["Content-Type"] == "application/problem+json", r.content
        body = r.json()
        assert (r.status_code, body["code"]) == (case.status, case.code), body
        assert body["status"] == r.status_code and body["detail"]
        assert (Evidence.objects.count(), AuditEntry.objects.count()) == before
        assert files_under(django_settings.MEDIA_ROOT) == []
        return

    assert r.status_code == 201, r.json()
    item = r.json()
    assert item["content_type"] == case.stored_as
    name = item["file_name"]
    if case.file_name is not None:
        assert name == case.file_name
    assert 0 < len(name) <= 120 and not {"/", "\\"} & set(name)
    assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert (Evidence.objects.count(), AuditEntry.objects.count()) == (
        before[0] + 1,
        before[1] + 1,
    )
    [path] = files_under(django_settings.MEDIA_ROOT)
    assert path.parent.name == str(sc.id) and len(path.name) == 32  # a random name
    if case.content is not None:
        content = case.content()
        assert path.read_bytes() == content
        assert item["sha256"] == hashlib.sha256(content).hexdigest()

    # Stored harmlessly: only ever served as a sandboxed attachment of the detected type.
    r = as_user(sc["owner"]).get(f"/api/v1/disputes/{sc.id}/evidence/{item['id']}/download/")
    assert r.status_code == 200
    assert r["Content-Type"] == case.stored_as
    assert r["Content-Disposition"].startswith("attachment;")
    assert "\r" not in r["Content-Disposition"] and "\n" not in r["Content-Disposition"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Security-Policy"] == "default-src 'none'; sandbox"
    if case.content is not None:
        assert r.getvalue() == case.content()
