"""Evidence uploads (issue 4): typed by content, streamed with limits, audited, withdrawable."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from mediation.models import AuditEntry, Evidence
from tests.evidence import files
from tests.scenarios import Scenario, as_user, dispute_in
from workflows import evidence as service
from workflows.evidence import sanitize_name

pytestmark = pytest.mark.django_db


def url(sc: Scenario, suffix: str = "") -> str:
    return f"/api/v1/disputes/{sc.id}/evidence/{suffix}"


def upload(
    sc: Scenario,
    who: str,
    name: str,
    content: bytes,
    content_type: str = "",
    **fields: Any,
) -> Any:
    data = {"file": files.upload(name, content, content_type), **fields}
    return as_user(sc[who]).post(url(sc), data, format="multipart")


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.fixture
def sc() -> Scenario:
    return dispute_in("under_review", mediator="mediator_agent")


# --- Happy paths ---------------------------------------------------------------------------------


def test_upload_list_download_and_audit(sc: Scenario) -> None:
    content = files.png()
    r = upload(sc, "buyer", "broken vase.png", content, "image/png", description="The crack")
    assert r.status_code == 201, r.json()
    item = r.json()
    assert item["uploaded_by"] == "buyer"
    assert item["file_name"] == "broken vase.png"
    assert item["content_type"] == "image/png"
    assert item["size"] == len(content)
    assert item["sha256"] == hashlib.sha256(content).hexdigest()
    assert item["kind"] == "other" and item["withdrawn"] is False

    row = Evidence.objects.get(pk=item["id"])
    assert str(row.file.name).startswith(f"evidence/{sc.id}/")
    assert "vase" not in str(row.file.name)
    assert [p.read_bytes() for p in stored_files()] == [content]

    entry = AuditEntry.objects.filter(dispute_id=sc.id).last()
    assert entry is not None and entry.action == "evidence"
    assert entry.payload["sha256"] == item["sha256"]
    assert entry.payload["evidence"] == item["id"]
    assert entry.payload["size"] == len(content)

    for who in ("owner", "mediator_lead", "buyer"):
        listed = as_user(sc[who]).get(url(sc)).json()
        assert [e["id"] for e in listed] == [item["id"]]

    r = as_user(sc["owner"]).get(url(sc, f"{item['id']}/download/"))
    assert r.status_code == 200
    assert r.getvalue() == content
    assert r["Content-Type"] == "image/png"
    assert r["Content-Disposition"].startswith("attachment;")
    assert "broken vase.png" in r["Content-Disposition"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Security-Policy"] == "default-src 'none'; sandbox"

    audit = as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/audit/").json()
    assert audit["verified"] is True


@pytest.mark.parametrize(
    ("name", "make", "declared", "detected"),
    [
        ("photo.png", files.png, "image/png", "image/png"),
        ("photo.jpg", files.jpeg, "image/jpeg", "image/jpeg"),
        ("anim.gif", files.gif, "image/gif", "image/gif"),
        ("receipt.pdf", files.pdf, "application/pdf", "application/pdf"),
        ("tracking.txt", files.text, "text/plain", "text/plain"),
        ("no-extension", files.png, "", "image/png"),
        ("letter.txt", lambda: "Grüße, ça va? 👍\n".encode(), "", "text/plain"),
    ],
)
def test_types_are_detected_by_content(
    sc: Scenario, name: str, make: Any, declared: str, detected: str
) -> None:
    r = upload(sc, "owner", name, make(), declared, kind="receipt")
    assert r.status_code == 201, r.json()
    assert r.json()["content_type"] == detected
    assert r.json()["uploaded_by"] == "seller_owner"


@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("photo.jpg", b"<!DOCTYPE html><html><body>hi</body></html>", ""),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64, ""),
        ("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64, ""),
        ("empty.png", b"", "image/png"),
        ("photo.jpg", files.png(), "image/jpeg"),  # PNG named and declared as JPEG
        ("photo.png", files.png(), "application/pdf"),  # declared type contradicts content
        ("notes.txt", b"binary\x00junk\x01\x02", "text/plain"),
        ("notes.txt", b"\xff\xfe not utf-8 \xc3", "text/plain"),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', ""),
        ("photo.html", files.png(), ""),
    ],
)
def test_refused_types_are_415_and_leave_nothing(
    sc: Scenario, name: str, content: bytes, declared: str
) -> None:
    r = upload(sc, "buyer", name, content, declared)
    assert r.status_code == 415, r.json()
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "unsupported_file_type"
    assert Evidence.objects.count() == 0
    assert stored_files() == []


# --- Limits ---------------------------------------------------------------------------------------


@override_settings(EVIDENCE_MAX_FILE_MB=1 / 1024)  # 1 KiB
def test_a_file_over_the_limit_is_cut_off_while_streaming(sc: Scenario) -> None:
    r = upload(sc, "buyer", "big.txt", b"a" * 1025, "text/plain")
    assert r.status_code == 413, r.json()
    assert r.json()["code"] == "file_too_large"
    assert stored_files() == [] and Evidence.objects.count() == 0
    r = upload(sc, "buyer", "fits.txt", b"a" * 1024, "text/plain")
    assert r.status_code == 201, r.json()


def test_a_declared_huge_body_is_refused_before_reading(sc: Scenario) -> None:
    data = {"file": files.upload("small.png", files.png())}
    r = as_user(sc["buyer"]).post(
        url(sc), data, format="multipart", CONTENT_LENGTH=str(2 * 1024**3)
    )
    assert r.status_code == 413, r.json()
    assert r.json()["code"] == "file_too_large"
    assert stored_files() == []


@override_settings(EVIDENCE_MAX_FILES=2)
def test_file_quota_per_party_counts_withdrawn_items(sc: Scenario) -> None:
    first = upload(sc, "buyer", "a.txt", b"one\n").json()
    assert upload(sc, "buyer", "b.txt", b"two\n").status_code == 201
    as_user(sc["buyer"]).post(url(sc, f"{first['id']}/withdraw/"))
    r = upload(sc, "buyer", "c.txt", b"three\n")
    assert r.status_code == 422 and r.json()["code"] == "evidence_quota_exceeded"
    # The other party has their own quota, and mediators none.
    assert upload(sc, "owner", "d.txt", b"four\n").status_code == 201
    assert upload(sc, "mediator_agent", "e.txt", b"five\n").status_code == 201
    assert len(stored_files()) == 4


@override_settings(EVIDENCE_MAX_TOTAL_MB=10 / 1024**2)  # 10 bytes
def test_size_quota_per_party(sc: Scenario) -> None:
    assert upload(sc, "owner", "a.txt", b"123456\n").status_code == 201
    r = upload(sc, "owner", "b.txt", b"7890\n")
    assert r.status_code == 422 and r.json()["code"] == "evidence_quota_exceeded"
    assert len(stored_files()) == 1


def test_a_failure_after_storing_removes_the_file(sc: Scenario, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit down")

    monkeypatch.setattr("workflows.base.Context.record", broken)
    with pytest.raises(RuntimeError):
        service.upload_evidence(
            dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("a.png", files.png())
        )
    assert stored_files() == [] and Evidence.objects.count() == 0


# --- Who may do what ------------------------------------------------------------------------------


def test_internal_evidence_is_for_mediators_only(sc: Scenario) -> None:
    r = upload(sc, "buyer", "a.txt", b"secret?\n", internal="true")
    assert r.status_code == 403
    r = upload(sc, "mediator_agent", "fraud.txt", b"three open fraud flags\n", internal="true")
    assert r.status_code == 201, r.json()
    item = r.json()
    assert item["internal"] is True and item["uploaded_by"] == "mediator"
    entry = AuditEntry.objects.filter(dispute_id=sc.id).last()
    assert entry is not None and entry.action == "evidence_internal"
    assert entry.visibility == "mediators" and entry.payload["internal"] is True
    for who in ("buyer", "owner"):
        assert as_user(sc[who]).get(url(sc)).json() == []
        r = as_user(sc[who]).get(url(sc, f"{item['id']}/download/"))
        assert r.status_code == 404
    assert len(as_user(sc["mediator_senior"]).get(url(sc)).json()) == 1


def test_withdraw_own_item_once(sc: Scenario) -> None:
    item = upload(sc, "buyer", "a.png", files.png()).json()
    download = url(sc, f"{item['id']}/download/")
    withdraw = url(sc, f"{item['id']}/withdraw/")
    assert as_user(sc["owner"]).post(withdraw).status_code == 403
    r = as_user(sc["buyer"]).post(withdraw)
    assert r.status_code == 200 and r.json()["withdrawn"] is True
    r = as_user(sc["buyer"]).post(withdraw)
    assert r.status_code == 409 and r.json()["code"] == "already_withdrawn"

    assert as_user(sc["owner"]).get(url(sc)).json() == []
    assert as_user(sc["owner"]).get(download).status_code == 404
    assert as_user(sc["owner"]).post(withdraw).status_code == 404
    for who in ("buyer", "mediator_agent"):
        listed = as_user(sc[who]).get(url(sc)).json()
        assert [(e["id"], e["withdrawn"]) for e in listed] == [(item["id"], True)]
        assert as_user(sc[who]).get(download).status_code == 200

    entry = AuditEntry.objects.filter(dispute_id=sc.id).last()
    assert entry is not None and entry.action == "evidence_withdrawn"
    assert entry.payload["sha256"] == item["sha256"]
    assert len(stored_files()) == 1  # immutable: the file stays


def test_outsiders_get_404_and_closed_disputes_refuse_parties() -> None:
    sc = dispute_in("closed", outcome="agreement")
    assert upload(sc, "buyer", "late.txt", b"late\n").status_code == 409
    assert upload(sc, "mediator_agent", "note.txt", b"for the file\n").status_code == 201
    assert upload(sc, "other_buyer", "x.txt", b"x\n").status_code == 404
    assert as_user(sc["other_buyer"]).get(url(sc)).status_code == 404
    assert as_user(sc["platform"]).get(url(sc)).status_code == 403
    assert as_user(None).get(url(sc)).status_code == 401
    item = Evidence.objects.get()
    assert as_user(sc["other_owner"]).get(url(sc, f"{item.pk}/download/")).status_code == 404


# --- Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("/abs/path/photo.png", "photo.png"),
        ("evil\x00.png", "evil.png"),
        ("line\r\nbreak\t.png", "linebreak.png"),
        ("rtl\u202egnp.txt", "rtlgnp.txt"),
        ("", "upload"),
        ("..", "upload"),
        ("a" * 300 + ".png", "a" * 116 + ".png"),
    ],
)
def test_names_are_sanitized(raw: str, clean: str) -> None:
    assert sanitize_name(raw) == clean
    assert len(sanitize_name(raw)) <= 120


def test_traversal_name_is_stored_under_a_random_name(sc: Scenario) -> None:
    r = upload(sc, "buyer", "../../../../tmp/pwned.png", files.png())
    assert r.status_code == 201, r.json()
    assert r.json()["file_name"] == "pwned.png"
    [path] = stored_files()
    assert path.parent.name == str(sc.id) and len(path.name) == 32
