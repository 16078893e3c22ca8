"""The case file (DESIGN §7): one streamed ZIP per dispute, as the caller may see it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import AuditEntry, Evidence
from tests.evidence import files
from tests.pages import every, pages
from tests.scenarios import Scenario, as_user, dispute_in
from workflows import conversation, evidence, transitions

pytestmark = pytest.mark.django_db

SECRET = "INTERNAL-NOTE-51c2: the buyer has filed four disputes this month"
HOSTILE = '<script>alert("case file")</script><img src=x onerror=alert(1)>'
DOCUMENTS = {"summary.html", "timeline.json", "audit.json", "manifest.json"}


def stream(response: Any) -> Any:
    """The body chunks of a streaming response (the test client's type hides them)."""
    return response.streaming_content


def url(sc: Scenario) -> str:
    return f"/api/v1/disputes/{sc.id}/case-file/"


def upload(sc: Scenario, who: str, name: str, content: bytes, **kwargs: Any) -> Evidence:
    return evidence.upload_evidence(
        dispute_id=sc.id, actor=sc[who], uploaded_file=files.upload(name, content), **kwargs
    )


@pytest.fixture
def sc() -> Scenario:
    """A ruled and refunded dispute with a full thread and evidence of every kind: the
    buyer's photo, the seller's withdrawn receipt, and a mediator's internal file."""
    sc = dispute_in("under_review", mediator="mediator_agent")
    say = conversation.post_message
    say(dispute_id=sc.id, actor=sc["buyer"], body="It arrived crushed; photo attached.")
    say(dispute_id=sc.id, actor=sc["owner"], body="It left our workshop intact.")
    say(dispute_id=sc.id, actor=sc["mediator_agent"], body=SECRET, internal=True)
    photo = upload(sc, "buyer", "crushed.png", files.png(), kind="photo", description="The box")
    receipt = upload(sc, "owner", "receipt.pdf", files.pdf(), kind="receipt")
    evidence.withdraw_evidence(dispute_id=sc.id, evidence_id=receipt.pk, actor=sc["owner"])
    flags = upload(sc, "mediator_agent", "flags.txt", SECRET.encode(), internal=True)
    transitions.rule(
        dispute_id=sc.id,
        actor=sc["mediator_agent"],
        kind="partial_refund",
        amount=5000,
        rationale="The photos show a crushed box; half the price is fair.",
    )
    transitions.fulfil(
        dispute_id=sc.id, actor=sc["platform"], kind="refund", amount=5000, reference="re_cf_1"
    )
    sc.options.update(photo=photo, receipt=receipt, flags=flags)
    sc.refresh()
    return sc


def fetch(sc: Scenario, who: str) -> tuple[Any, zipfile.ZipFile]:
    r = as_user(sc[who]).get(url(sc))
    assert r.status_code == 200, r.content[:500]
    assert r.streaming
    return r, zipfile.ZipFile(io.BytesIO(b"".join(stream(r))))


def manifest_of(zf: zipfile.ZipFile) -> dict[str, Any]:
    return json.loads(zf.read("manifest.json"))


def evidence_ids(zf: zipfile.ZipFile) -> set[int]:
    return {f["evidence"] for f in manifest_of(zf)["files"] if "evidence" in f}


# --- Content per viewer ---------------------------------------------------------------------------


def test_headers_and_layout(sc: Scenario) -> None:
    r, zf = fetch(sc, "buyer")
    assert r["Content-Type"] == "application/zip"
    assert r["Content-Disposition"] == f'attachment; filename="dispute-{sc.id}-case-file.zip"'
    assert r["Cache-Control"] == "private, no-store"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert zf.testzip() is None
    names = zf.namelist()
    assert names[:3] == ["summary.html", "timeline.json", "audit.json"]
    assert names[-1] == "manifest.json"
    photo = sc.options["photo"]
    assert f"evidence/{photo.pk}-crushed.png" in names
    for info in zf.infolist():
        # Written to a stream: sizes and CRC follow the data in a data descriptor.
        assert info.flag_bits & 0x08
        stored = info.filename.startswith("evidence/")
        assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def test_the_buyer_sees_what_the_api_shows_them(sc: Scenario) -> None:
    _, zf = fetch(sc, "buyer")
    photo, receipt, flags = (sc.options[k] for k in ("photo", "receipt", "flags"))
    assert evidence_ids(zf) == {photo.pk}
    assert not any(n.startswith(f"evidence/{receipt.pk}-") for n in zf.namelist())
    assert not any(n.startswith(f"evidence/{flags.pk}-") for n in zf.namelist())
    everything = b"".join(zf.read(n) for n in zf.namelist()).decode("utf-8", "replace")
    assert SECRET not in everything

    summary = zf.read("summary.html").decode()
    assert "It arrived crushed; photo attached." in summary
    assert "It left our workshop intact." in summary
    assert "Internal note" not in summary
    assert "receipt.pdf" not in summary and "flags.txt" not in summary
    assert "The photos show a crushed box; half the price is fair." in summary
    assert "re_cf_1" in summary and sc.cast.order.external_id in summary

    # The case file holds the whole timeline and chain; the API gives them page by page.
    client = as_user(sc["buyer"])
    timeline = every(client, f"/api/v1/disputes/{sc.id}/timeline/?page_size=2")
    assert json.loads(zf.read("timeline.json")) == timeline
    assert "internal_note" not in {e["action"] for e in timeline}
    audit = json.loads(zf.read("audit.json"))
    audit_pages = pages(client, f"/api/v1/disputes/{sc.id}/audit/?page_size=2")
    assert len(audit_pages) > 1
    assert audit["entries"] == [e for page in audit_pages for e in page["results"]]
    assert audit["verified"] is True and all(page["verified"] for page in audit_pages)
    hidden = [e for e in audit["entries"] if e["visibility"] == "mediators"]
    assert hidden and all(e["payload"] == {"redacted": True} for e in hidden)
    assert all(len(e["hash"]) == 64 for e in audit["entries"])

    manifest = manifest_of(zf)
    assert manifest["generated_for"] == "buyer"
    assert manifest["dispute"] == sc.id
    assert manifest["audit_chain"]["verified"] is True


def test_the_seller_keeps_their_own_withdrawn_item(sc: Scenario) -> None:
    _, zf = fetch(sc, "owner")
    photo, receipt = sc.options["photo"], sc.options["receipt"]
    assert evidence_ids(zf) == {photo.pk, receipt.pk}
    [row] = [f for f in manifest_of(zf)["files"] if f.get("evidence") == receipt.pk]
    assert row["withdrawn"] is True and row["internal"] is False
    assert SECRET not in zf.read("summary.html").decode()
    assert manifest_of(zf)["generated_for"] == "seller"


def test_a_mediator_sees_everything_marked(sc: Scenario) -> None:
    _, zf = fetch(sc, "mediator_senior")
    photo, receipt, flags = (sc.options[k] for k in ("photo", "receipt", "flags"))
    assert evidence_ids(zf) == {photo.pk, receipt.pk, flags.pk}
    rows = {f["evidence"]: f for f in manifest_of(zf)["files"] if "evidence" in f}
    assert (rows[receipt.pk]["withdrawn"], rows[receipt.pk]["internal"]) == (True, False)
    assert (rows[flags.pk]["withdrawn"], rows[flags.pk]["internal"]) == (False, True)
    assert (rows[photo.pk]["withdrawn"], rows[photo.pk]["internal"]) == (False, False)
    assert zf.read(f"evidence/{flags.pk}-flags.txt") == SECRET.encode()

    summary = zf.read("summary.html").decode()
    assert SECRET in summary
    assert "Internal note, mediators only" in summary
    assert "Internal, mediators only" in summary and "Withdrawn" in summary
    timeline = every(as_user(sc["mediator_senior"]), f"/api/v1/disputes/{sc.id}/timeline/")
    assert json.loads(zf.read("timeline.json")) == timeline
    assert "internal_note" in {e["action"] for e in timeline}
    assert manifest_of(zf)["generated_for"] == "mediator"


def test_summary_is_self_contained(sc: Scenario) -> None:
    _, zf = fetch(sc, "mediator_lead")
    summary = zf.read("summary.html").decode()
    assert summary.startswith("<!DOCTYPE html>")
    assert "<style>" in summary
    for external in ("http://", "https://", "src=", "<link", "<script", "url("):
        assert external not in summary, external


# --- Integrity ------------------------------------------------------------------------------------


def test_manifest_hashes_match_the_bytes_in_the_zip(sc: Scenario) -> None:
    _, zf = fetch(sc, "mediator_agent")
    manifest = manifest_of(zf)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(zf.namelist()) == set(listed) | {"manifest.json"}
    for path, row in listed.items():
        data = zf.read(path)
        assert row["size"] == len(data), path
        assert row["sha256"] == hashlib.sha256(data).hexdigest(), path
    for item in Evidence.objects.filter(dispute_id=sc.id):
        [row] = [f for f in manifest["files"] if f.get("evidence") == item.pk]
        assert row["sha256"] == row["stored_sha256"] == item.sha256
        assert row["sha256_matches"] is True
    assert manifest["evidence_mismatches"] == [] and manifest["missing"] == []


def test_a_changed_or_missing_file_in_storage_is_flagged(sc: Scenario) -> None:
    photo, receipt = sc.options["photo"], sc.options["receipt"]
    Path(settings.MEDIA_ROOT, photo.file.name).write_bytes(files.png() + b"tampered")
    Path(settings.MEDIA_ROOT, receipt.file.name).unlink()
    _, zf = fetch(sc, "mediator_agent")
    manifest = manifest_of(zf)
    path = f"evidence/{photo.pk}-crushed.png"
    [row] = [f for f in manifest["files"] if f["path"] == path]
    assert row["sha256_matches"] is False
    assert row["sha256"] == hashlib.sha256(zf.read(path)).hexdigest() != photo.sha256
    assert manifest["evidence_mismatches"] == [path]
    assert [m["evidence"] for m in manifest["missing"]] == [receipt.pk]
    assert not any(n.startswith(f"evidence/{receipt.pk}-") for n in zf.namelist())


def test_a_file_the_storage_cannot_read_is_left_out_and_named(
    sc: Scenario, monkeypatch: Any
) -> None:
    from django.core.files.base import File

    photo = sc.options["photo"]
    real_chunks = File.chunks

    def chunks(self: Any, chunk_size: int | None = None) -> Any:
        if self.name == photo.file.name:
            raise PermissionError("access denied")  # as a bucket policy might answer
        return real_chunks(self, chunk_size)

    monkeypatch.setattr(File, "chunks", chunks)
    _, zf = fetch(sc, "buyer")
    assert zf.testzip() is None
    manifest = manifest_of(zf)
    assert [(m["evidence"], m["problem"]) for m in manifest["missing"]] == [
        (photo.pk, "the file could not be read from storage (PermissionError)")
    ]
    assert not any(n.startswith("evidence/") for n in zf.namelist())


def test_a_tampered_audit_chain_is_reported(sc: Scenario, tamper: None) -> None:
    AuditEntry.objects.filter(dispute_id=sc.id, seq=3).update(payload={"forged": True})
    for who in ("buyer", "mediator_agent"):
        _, zf = fetch(sc, who)
        chain = manifest_of(zf)["audit_chain"]
        assert (chain["verified"], chain["broken_at"]) == (False, 3)
        assert chain["problem"] == "content does not match its hash"
        audit = json.loads(zf.read("audit.json"))
        assert (audit["verified"], audit["broken_at"]) == (False, 3)
        summary = zf.read("summary.html").decode()
        assert "does not verify: the first broken entry is number 3" in summary


# --- Who may have it ------------------------------------------------------------------------------


def test_outsiders_get_404_the_platform_403_and_anonymous_401(sc: Scenario) -> None:
    for who in ("other_buyer", "other_owner"):
        r = as_user(sc[who]).get(url(sc))
        assert r.status_code == 404
        assert r["Content-Type"] == "application/problem+json"
        assert r.json()["code"] == "not_found"
    r = as_user(sc["other_owner"]).get(f"/api/v1/disputes/{sc.id + 1000}/case-file/")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = as_user(sc["platform"]).get(url(sc))
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = as_user(None).get(url(sc))
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")


def test_exporting_writes_nothing_to_the_audit_log(sc: Scenario) -> None:
    before = AuditEntry.objects.filter(dispute_id=sc.id).count()
    fetch(sc, "buyer")
    fetch(sc, "mediator_agent")
    assert AuditEntry.objects.filter(dispute_id=sc.id).count() == before


# --- Escaping -------------------------------------------------------------------------------------


def test_summary_escapes_hostile_text() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    conversation.post_message(dispute_id=sc.id, actor=sc["buyer"], body=HOSTILE)
    item = upload(sc, "owner", '"><svg onload=alert(1)>.txt', b"hello\n", description=HOSTILE)
    _, zf = fetch(sc, "mediator_agent")
    summary = zf.read("summary.html").decode()
    assert "<script" not in summary and "<img" not in summary and "<svg" not in summary
    assert "&lt;script&gt;alert(&quot;case file&quot;)&lt;/script&gt;" in summary
    assert "&lt;img src=x onerror=alert(1)&gt;" in summary
    # The file name is kept in the summary (escaped) and made safe for the path in the ZIP.
    [path] = [n for n in zf.namelist() if n.startswith(f"evidence/{item.pk}-")]
    assert not set('<>:"|?*\\') & set(path.removeprefix("evidence/"))
    assert zf.read(path) == b"hello\n"


# --- The command ----------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("export_case_file", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_command_writes_the_full_view_atomically(sc: Scenario, tmp_path: Path) -> None:
    target = tmp_path / "case.zip"
    out = run(str(sc.id), "--out", str(target))
    assert out.count("\n") == 1
    assert out.startswith(f"Wrote {target}: dispute {sc.id} as seen by the platform")
    assert "audit chain intact" in out
    assert [p.name for p in tmp_path.iterdir()] == ["case.zip"]  # no temporary file left
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        manifest = manifest_of(zf)
        assert manifest["generated_for"] == "platform"
        assert len(evidence_ids(zf)) == 3  # the full mediator view
        assert SECRET in zf.read("summary.html").decode()
        for row in manifest["files"]:
            assert hashlib.sha256(zf.read(row["path"])).hexdigest() == row["sha256"]


def test_command_as_a_user(sc: Scenario, tmp_path: Path) -> None:
    target = tmp_path / "buyer.zip"
    out = run(str(sc.id), "--out", str(target), "--as-user", sc["buyer"].username)
    assert "as seen by the buyer" in out
    with zipfile.ZipFile(target) as zf:
        assert evidence_ids(zf) == {sc.options["photo"].pk}
        assert SECRET not in zf.read("summary.html").decode()


def test_command_default_name(sc: Scenario, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    run(str(sc.id))
    assert (tmp_path / f"dispute-{sc.id}-case-file.zip").is_file()


def test_command_refuses_clearly(sc: Scenario, tmp_path: Path) -> None:
    target = str(tmp_path / "x.zip")
    with pytest.raises(CommandError, match=f"No dispute {sc.id + 1000}"):
        run(str(sc.id + 1000), "--out", target)
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run(str(sc.id), "--out", target, "--as-user", "nobody")
    with pytest.raises(CommandError, match="may not see dispute"):
        run(str(sc.id), "--out", target, "--as-user", sc["other_buyer"].username)
    with pytest.raises(CommandError, match="for the parties and the mediators"):
        run(str(sc.id), "--out", target, "--as-user", sc["platform"].username)
    with pytest.raises(CommandError, match="does not exist"):
        run(str(sc.id), "--out", str(tmp_path / "missing" / "x.zip"))
    assert list(tmp_path.iterdir()) == []


def test_command_leaves_nothing_when_the_stream_fails(
    sc: Scenario, tmp_path: Path, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b"PK"
        raise OSError("storage went away")

    monkeypatch.setattr("reports.case_file.stream_zip", broken)
    with pytest.raises(OSError):
        run(str(sc.id), "--out", str(tmp_path / "x.zip"))
    assert list(tmp_path.iterdir()) == []


# --- Memory and queries ---------------------------------------------------------------------------


def big_evidence(sc: Scenario, name: str, megabytes: int) -> Evidence:
    """A large stored file and its row, written in 1 MB pieces (uploads stop at 10 MB)."""
    stored = f"evidence/{sc.id}/{uuid.uuid4().hex}"
    path = Path(settings.MEDIA_ROOT, stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for _ in range(megabytes):
            piece = os.urandom(1024 * 1024)
            digest.update(piece)
            fh.write(piece)
    return Evidence.objects.create(
        dispute_id=sc.id,
        uploaded_by=sc["buyer"],
        uploader_role="buyer",
        party="buyer",
        kind="photo",
        file=stored,
        file_name=name,
        content_type="image/jpeg",
        size=megabytes * 1024 * 1024,
        sha256=digest.hexdigest(),
    )


def test_streaming_memory_does_not_grow_with_the_evidence(tmp_path: Path) -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    items = [big_evidence(sc, f"photo-{i}.jpg", 9) for i in range(3)]  # 27 MB
    total = sum(item.size for item in items)
    target = tmp_path / "case.zip"
    client = as_user(sc["mediator_agent"])
    # A first request compiles the template and warms Django's caches; measure the second.
    for _ in stream(client.get(url(sc))):
        pass
    largest = chunks = 0
    tracemalloc.start()
    try:
        r = client.get(url(sc))
        with target.open("wb") as fh:
            for chunk in stream(r):
                largest = max(largest, len(chunk))
                chunks += 1
                fh.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 200
    # About 0.5 MB in practice, whatever the size of the evidence.
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB for {total} bytes"
    assert chunks > 400 and largest < 256 * 1024  # handed on as produced, 64 KB at a time
    with zipfile.ZipFile(target) as zf:
        manifest = manifest_of(zf)
        assert manifest["evidence_mismatches"] == []
        for item in items:
            [row] = [f for f in manifest["files"] if f.get("evidence") == item.pk]
            assert row["size"] == item.size and row["sha256"] == item.sha256
        assert zf.testzip() is None


def _queries(sc: Scenario, who: str) -> int:
    client = as_user(sc[who])
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url(sc))
        b"".join(stream(r))
    assert r.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["buyer", "mediator_agent"])
def test_queries_do_not_grow_with_messages_or_evidence(
    who: str, django_assert_max_num_queries: Any
) -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    upload(sc, "buyer", "a.png", files.png())
    conversation.post_message(dispute_id=sc.id, actor=sc["buyer"], body="First")
    few = _queries(sc, who)
    for i in range(8):
        upload(sc, "buyer", f"b{i}.png", files.png())
        upload(sc, "mediator_agent", f"m{i}.txt", b"note\n", internal=True)
        conversation.post_message(dispute_id=sc.id, actor=sc["owner"], body=f"Reply {i}")
        conversation.post_message(
            dispute_id=sc.id, actor=sc["mediator_agent"], body=f"Note {i}", internal=True
        )
    assert _queries(sc, who) == few
    client = as_user(sc[who])
    with django_assert_max_num_queries(12):
        b"".join(stream(client.get(url(sc))))
