"""A rewritten audit chain is detected (DESIGN §8): the keyed chain, key rotation, legacy
entries, and the signed checkpoints outside the database (mediation.audit_anchor).

The attacker is "a database superuser": they edit the audit rows directly (the ``tamper``
fixture turns the append-only trigger off, as a superuser could) and recompute every hash
and the head, with plain SHA-256 when they lack the key, with the key when the test gives
it to them. The anchor storage is a folder of this test (tests/conftest.py) or a real S3
server on loopback (moto's).
"""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import sha256
from io import StringIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.settings import audit_hmac_keys
from mediation import audit, audit_anchor, audit_scan
from mediation.models import AuditCheckpoint, AuditEntry, Dispute
from mediation.tasks import anchor_audit_heads
from tests.evidence.test_s3 import KEY_ID, REGION, SECRET, s3_endpoint  # noqa: F401
from tests.mediation.test_audit_chain import busy_dispute
from workflows import conversation

# --- helpers ---------------------------------------------------------------------------------


def run_verify(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def plain_sha256(entry: AuditEntry) -> str:
    return sha256(audit.canonical(entry)).hexdigest()


def rewrite(
    dispute: Dispute,
    *,
    at: int,
    payload: Any,
    hasher: Callable[[AuditEntry], str],
    key_id: str | None = None,
    keep: int | None = None,
) -> None:
    """Edit entry ``at``'s payload, then recompute every hash from there (and the head) with
    ``hasher``, as someone with write access to the database would; ``key_id`` sets every
    entry's key id and rehashes them all ('' to pass the chain off as legacy); ``keep``
    cuts the chain after that entry."""
    entries = list(AuditEntry.objects.filter(dispute=dispute).order_by("seq"))
    if keep is not None:
        AuditEntry.objects.filter(dispute=dispute, seq__gt=keep).delete()
        entries = entries[:keep]
    previous = ""
    for e in entries:
        if e.seq < at and key_id is None:  # left as it was
            previous = e.hash
            continue
        if e.seq == at:
            e.payload = payload
        if key_id is not None:
            e.key_id = key_id
        e.prev_hash = previous
        e.hash = hasher(e)
        AuditEntry.objects.filter(pk=e.pk).update(
            payload=e.payload, key_id=e.key_id, prev_hash=e.prev_hash, hash=e.hash
        )
        previous = e.hash
    Dispute.objects.filter(pk=dispute.pk).update(audit_seq=len(entries), audit_head=previous)


def anchor_dir() -> Path:
    return Path(django_settings.STORAGES["audit_anchors"]["OPTIONS"]["location"])


def stored() -> dict[str, bytes]:
    folder = anchor_dir()
    return {p.name: p.read_bytes() for p in sorted(folder.glob("checkpoint-*.json"))}


def document(number: int) -> dict[str, Any]:
    data = (anchor_dir() / audit_anchor.checkpoint_name(number)).read_bytes()
    return dict(json.loads(data))


def check(dispute: Dispute) -> audit.Verification:
    dispute.refresh_from_db()
    return audit.verify(dispute)


# --- the keyed chain -----------------------------------------------------------------------


@pytest.mark.parametrize("key", [b"k", b"a-32-byte-secret-of-the-audit-lg", b"x" * 100])
def test_the_mac_is_hmac_sha256(settings: Any, key: bytes) -> None:
    settings.AUDIT_HMAC_KEYS = {"t": key}
    for message in (b"", b"{}", "Ça 壊れた 🌷".encode() * 50):
        assert audit.mac_hex("t", message) == hmac.new(key, message, sha256).hexdigest()
    with pytest.raises(audit.UnknownKey):
        audit.mac_hex("other", b"{}")


def test_new_entries_are_hmacs_under_the_current_key(demo: dict[str, Any]) -> None:
    dispute = busy_dispute(demo)
    key_id = django_settings.AUDIT_HMAC_KEY_ID
    key = django_settings.AUDIT_HMAC_KEYS[key_id]
    for e in AuditEntry.objects.filter(dispute=dispute):
        assert e.key_id == key_id
        assert e.hash == hmac.new(key, audit.canonical(e), sha256).hexdigest()
        assert e.hash != plain_sha256(e)
    # The sweeper's batched inserts too: every entry the demo made is keyed.
    assert not AuditEntry.objects.filter(key_id="").exists()


def test_a_rewrite_recomputed_with_plain_sha256_is_detected(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    rewrite(dispute, at=2, payload={"amount": 1}, hasher=plain_sha256)
    result = check(dispute)
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        2,
        "content does not match its hash",
    )
    out, error = run_verify()
    assert error is not None and error.returncode == 1
    assert f"dispute {dispute.pk}: broken at entry 2: content does not match its hash" in out


def test_a_rewrite_recomputed_with_a_guessed_key_is_detected(
    demo: dict[str, Any], tamper: None, settings: Any
) -> None:
    dispute = busy_dispute(demo)
    real = dict(settings.AUDIT_HMAC_KEYS)
    key_id = settings.AUDIT_HMAC_KEY_ID
    settings.AUDIT_HMAC_KEYS = {key_id: b"what the attacker guessed"}
    rewrite(dispute, at=3, payload={"requested_amount": 1}, hasher=audit.compute_hash)
    settings.AUDIT_HMAC_KEYS = real
    assert check(dispute).broken_at == 3


def test_a_chain_passed_off_as_legacy_after_the_first_checkpoint_is_detected(
    demo: dict[str, Any], tamper: None
) -> None:
    """Dropping the key ids and rehashing with plain SHA-256 makes a chain look as if it was
    written before the chain was keyed; the first checkpoint fixed which chains can be."""
    audit_anchor.anchor_heads()
    dispute = busy_dispute(demo)  # raised after the first checkpoint
    rewrite(dispute, at=2, payload={"amount": 1}, hasher=plain_sha256, key_id="")
    assert check(dispute).verified  # the chain alone cannot tell ...
    out, error = run_verify()  # ... the checkpoints can
    assert error is not None
    assert f"dispute {dispute.pk}: broken at entry 1: is not keyed where the chain must be" in out


def test_an_unkeyed_entry_may_not_follow_a_keyed_one(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    last = AuditEntry.objects.get(dispute=dispute, seq=6)
    AuditEntry.objects.filter(pk=last.pk).update(key_id="", hash=plain_sha256(last))
    Dispute.objects.filter(pk=dispute.pk).update(audit_head=plain_sha256(last))
    result = check(dispute)
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        6,
        "is not keyed where the chain must be",
    )


# --- legacy entries and rotation -------------------------------------------------------------


def test_legacy_entries_still_verify_before_and_after_anchoring(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    # As the entries written before the chain was keyed: key id '', plain SHA-256.
    rewrite(dispute, at=0, payload=None, hasher=plain_sha256, key_id="")
    assert set(AuditEntry.objects.filter(dispute=dispute).values_list("key_id", flat=True)) == {""}
    assert check(dispute) == audit.Verification(dispute.pk, True, 6)
    assert run_verify()[1] is None

    audit_anchor.anchor_heads()
    assert run_verify()[1] is None
    # New entries on a legacy chain are keyed, and the chain verifies as a whole.
    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="A photo.")
    assert AuditEntry.objects.get(dispute=dispute, seq=7).key_id == audit.current_key_id()
    assert check(dispute) == audit.Verification(dispute.pk, True, 7)
    out, error = run_verify()
    assert error is None, out


def test_rotation_keeps_the_old_entries_verifiable_while_their_key_is_configured(
    demo: dict[str, Any], settings: Any
) -> None:
    demo_keys = dict(settings.AUDIT_HMAC_KEYS)  # the demo's entries were written under it
    settings.AUDIT_HMAC_KEY_ID = "k1"
    settings.AUDIT_HMAC_KEYS = {**demo_keys, "k1": b"first secret"}
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads()
    # Rotated: k2 writes, k1 (AUDIT_HMAC_OLD_KEYS) still verifies.
    current, keys = audit_hmac_keys("second secret", "k2", "k1:first secret", "unused")
    settings.AUDIT_HMAC_KEY_ID, settings.AUDIT_HMAC_KEYS = current, {**demo_keys, **keys}
    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="A photo.")
    audit_anchor.anchor_heads()
    written = list(AuditEntry.objects.filter(dispute=dispute).values_list("key_id", flat=True))
    assert written == ["k1"] * 6 + ["k2"]
    assert check(dispute) == audit.Verification(dispute.pk, True, 7)
    assert document(1)["key_id"] == "k1" and document(2)["key_id"] == "k2"
    out, error = run_verify()
    assert error is None, out

    # Without the old key the entries and the checkpoint it signed cannot be checked: said
    # so, with a non-zero exit, not a crash.
    settings.AUDIT_HMAC_KEYS = {**demo_keys, "k2": b"second secret"}
    assert check(dispute).problem == "is keyed with 'k1', a key that is not configured"
    out, error = run_verify("--dispute", str(dispute.pk))
    assert error is not None and error.returncode == 1
    assert "anchors: checkpoint 1: is signed with key 'k1', a key that is not configured" in out
    assert (
        f"dispute {dispute.pk}: broken at entry 1: is keyed with 'k1', a key that is not configured"
    ) in out


def test_the_key_settings() -> None:
    current, keys = audit_hmac_keys("", "", "", "some secret key")
    assert current == "local"
    assert keys == {"local": sha256(b"mediation audit chain\0some secret key").digest()}
    assert audit_hmac_keys("s3cret", "", "", "x") == ("k1", {"k1": b"s3cret"})
    current, keys = audit_hmac_keys("new", "2027", " 2026:old , 2025:older:with:colons ", "x")
    assert (current, keys) == (
        "2027",
        {"2027": b"new", "2026": b"old", "2025": b"older:with:colons"},
    )
    for old in ("nocolon", ":secret", "id:", "2027:another"):
        with pytest.raises(ImproperlyConfigured):
            audit_hmac_keys("new", "2027", old, "x")
    with pytest.raises(ImproperlyConfigured):
        audit_hmac_keys("s", "x" * 33, "", "x")


def test_deploy_check_warns_about_the_derived_key(settings: Any) -> None:
    settings.AUDIT_HMAC_KEY_DERIVED = True
    ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "mediation.W001" in ids
    settings.AUDIT_HMAC_KEY_DERIVED = False
    assert "mediation.W001" not in [m.id for m in run_checks(include_deployment_checks=True)]
    assert "mediation.W001" not in [m.id for m in run_checks()]  # a laptop is not warned


# --- anchoring -------------------------------------------------------------------------------


def test_a_rewrite_with_the_key_after_anchoring_is_caught_by_the_anchor(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    report = audit_anchor.anchor_heads()
    assert report.checkpoints == [1]
    # The attacker holds the key as well: the rewritten chain is consistent in itself.
    rewrite(dispute, at=2, payload={"amount": 1}, hasher=audit.compute_hash)
    assert check(dispute).verified

    out, error = run_verify()

    assert error is not None and error.returncode == 1
    assert str(error) == "1 audit chain is broken."
    assert (
        f"dispute {dispute.pk}: broken at entry 6: does not match the head anchored in checkpoint 1"
    ) in out
    out, error = run_verify("--dispute", str(dispute.pk))
    assert error is not None and "does not match the head anchored in checkpoint 1" in out


def test_a_rewrite_anchored_again_by_a_later_checkpoint_is_still_caught(
    demo: dict[str, Any], tamper: None
) -> None:
    """The attacker rewrites the anchored chain with the key and appends to it, and the next
    run anchors the new head: that checkpoint records the hash the database then held at
    the seq anchored before, which is not the anchored one, so the earlier head still counts."""
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads()
    rewrite(dispute, at=2, payload={"amount": 1}, hasher=audit.compute_hash)
    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="Covering up.")
    assert audit_anchor.anchor_heads().checkpoints == [2]
    assert check(dispute).verified

    anchors = audit_anchor.load_anchors()
    assert anchors.problems == []
    assert [(a.seq, a.checkpoint) for a in anchors.of(dispute.pk)] == [(7, 2), (6, 1)]
    out, error = run_verify()
    assert error is not None
    assert (
        f"dispute {dispute.pk}: broken at entry 6: does not match the head anchored in checkpoint 1"
    ) in out


def test_a_head_anchored_again_after_honest_appends_supersedes_the_earlier(
    demo: dict[str, Any],
) -> None:
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads()
    for body in ("One.", "Two."):
        conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body=body)
        audit_anchor.anchor_heads()
    anchors = audit_anchor.load_anchors()
    assert [(a.seq, a.checkpoint) for a in anchors.of(dispute.pk)] == [(8, 3)]
    assert anchors.earlier == {}
    assert run_verify()[1] is None


def test_a_chain_cut_short_and_rekeyed_after_anchoring_is_caught(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads()
    rewrite(dispute, at=2, payload={"amount": 1}, hasher=audit.compute_hash, keep=4)
    assert check(dispute).verified
    out, error = run_verify("--chunk-size", "1")
    assert error is not None
    assert (
        f"dispute {dispute.pk}: broken at entry 5: the chain ends before entry 6, anchored in "
        "checkpoint 1"
    ) in out


def test_an_anchored_dispute_deleted_with_its_entries_is_reported(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads()
    other = Dispute.objects.order_by("pk").first()
    assert other is not None
    # Put back at the end, for the foreign keys the test database checks at its teardown.
    rows = list(Dispute.objects.filter(pk__in=[dispute.pk, other.pk]).values())
    with connection.cursor() as cursor:  # foreign keys are checked at commit, never here
        cursor.execute("DELETE FROM mediation_auditentry WHERE dispute_id = %s", [dispute.pk])
        cursor.execute("DELETE FROM mediation_dispute WHERE id = %s", [dispute.pk])
    out, error = run_verify()
    assert error is not None
    assert (
        f"dispute {dispute.pk}: broken at entry 1: its dispute does not exist, but checkpoint 1 "
        "anchored it at entry 6"
    ) in out
    # Where its entries are left, they are reported once, as entries without a dispute.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM mediation_dispute WHERE id = %s", [other.pk])
    broken = audit_scan.verify_everything(jobs=1).broken
    assert [(r.dispute_id, r.problem) for r in broken] == sorted(
        [
            (other.pk, "its dispute does not exist"),
            (
                dispute.pk,
                "its dispute does not exist, but checkpoint 1 anchored it at entry 6",
            ),
        ]
    )
    Dispute.objects.bulk_create([Dispute(**row) for row in rows])


def test_anchoring_is_incremental_and_idempotent(demo: dict[str, Any]) -> None:
    dispute = busy_dispute(demo)
    heads = list(Dispute.objects.order_by("pk").values_list("pk", "audit_seq", "audit_head"))
    assert len(heads) > 3

    first = audit_anchor.anchor_heads(batch_size=3)

    count = (len(heads) + 2) // 3
    assert first.checkpoints == list(range(1, count + 1)) and first.heads == len(heads)
    files = stored()
    assert list(files) == [audit_anchor.checkpoint_name(n) for n in first.checkpoints]
    anchored = [tuple(h) for n in first.checkpoints for h in document(n)["heads"]]
    assert anchored == [(*head, 0, "") for head in heads]  # nothing anchored before
    # Each is signed and chained to the one before; the first fixes the legacy bound.
    previous = ""
    for n in first.checkpoints:
        doc = document(n)
        assert doc["number"] == n and doc["previous"] == previous
        assert doc["signature"] == audit_anchor.signature(doc)
        assert doc["legacy_until"] == heads[-1][0]
        previous = sha256(files[audit_anchor.checkpoint_name(n)]).hexdigest()
    assert list(AuditCheckpoint.objects.values_list("number", "digest")) == [
        (n, sha256(files[audit_anchor.checkpoint_name(n)]).hexdigest()) for n in first.checkpoints
    ]

    # Nothing changed: nothing written, in a fixed, small number of queries.
    with CaptureQueriesContext(connection) as queries:
        assert audit_anchor.anchor_heads().checkpoints == []
    assert stored() == files
    assert len(queries) <= 6

    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="A photo.")
    dispute.refresh_from_db()
    again = audit_anchor.anchor_heads(batch_size=3)
    assert (again.checkpoints, again.heads) == ([count + 1], 1)
    sixth = AuditEntry.objects.get(dispute=dispute, seq=6).hash
    assert document(count + 1)["heads"] == [[dispute.pk, 7, dispute.audit_head, 6, sixth]]
    assert audit_anchor.anchor_heads().checkpoints == []

    out, error = run_verify()
    assert error is None, out
    assert f"Checked {count + 1} checkpoints ({len(heads)} anchored heads): 0 problems." in out


def test_the_changed_heads_are_read_through_their_partial_index(demo: dict[str, Any]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    query = (
        Dispute.objects.filter(audit_seq__gt=F("audit_anchored_seq"))
        .order_by("pk")
        .values_list("pk", "audit_seq", "audit_head")[:5000]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "dispute_audit_unanchored" in plan


def test_a_checkpoint_stored_by_a_run_that_did_not_commit_is_taken_up(
    demo: dict[str, Any],
) -> None:
    busy_dispute(demo)
    audit_anchor.anchor_heads()
    # As if the run's transaction had rolled back after the document was stored.
    AuditCheckpoint.objects.all().delete()
    Dispute.objects.update(audit_anchored_seq=0)

    report = audit_anchor.anchor_heads()

    assert report.checkpoints == [2]
    assert document(2)["previous"] == sha256(stored()[audit_anchor.checkpoint_name(1)]).hexdigest()
    assert list(AuditCheckpoint.objects.values_list("number", flat=True)) == [1, 2]
    assert run_verify()[1] is None


def test_a_foreign_document_where_the_next_checkpoint_goes_stops_the_run(
    demo: dict[str, Any],
) -> None:
    busy_dispute(demo)
    audit_anchor.anchor_heads()
    (anchor_dir() / audit_anchor.checkpoint_name(2)).write_bytes(b'{"forged": true}\n')
    conversation.post_message(
        dispute_id=Dispute.objects.first().pk,  # type: ignore[union-attr]
        actor=demo["mia_agent"],
        body="Noted.",
    )
    out = StringIO()
    with pytest.raises(CommandError, match="is not a checkpoint that follows checkpoint 1"):
        call_command("anchor_audit", stdout=out)
    assert AuditCheckpoint.objects.count() == 1


def test_tampered_checkpoints_are_reported(demo: dict[str, Any]) -> None:
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads(batch_size=1)
    count = AuditCheckpoint.objects.count()
    assert count >= 4
    path = anchor_dir() / audit_anchor.checkpoint_name(1)
    doc = document(1)
    doc["heads"][0][2] = "0" * 64
    path.write_bytes(json.dumps(doc).encode())
    (anchor_dir() / audit_anchor.checkpoint_name(2)).unlink()
    (anchor_dir() / audit_anchor.checkpoint_name(count)).unlink()
    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="Still here.")

    out, error = run_verify()

    assert error is not None and error.returncode == 1
    assert "anchors: checkpoint 1: its signature does not match its content" in out
    assert "anchors: checkpoint 2 is missing from the anchor storage" in out
    assert "anchors: checkpoint 3: does not follow checkpoint 2" in out
    assert (
        f"anchors: checkpoint {count} is recorded in the database but missing from the "
        "anchor storage"
    ) in out
    assert "0 broken." in out  # the chains themselves are intact
    assert str(error) == "The audit checkpoints are broken."


def test_an_unreadable_anchor_storage_is_an_error_not_a_crash(
    demo: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "anchors"
    not_a_folder.write_text("a file where the folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_anchors": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(not_a_folder)},
        },
    }
    _, error = run_verify()
    assert error is not None and error.returncode == 1
    assert str(error).startswith("The anchor storage cannot be read: ")


def test_the_command_and_the_task(demo: dict[str, Any]) -> None:
    busy_dispute(demo)
    total = Dispute.objects.filter(audit_seq__gt=0).count()
    out = StringIO()
    call_command("anchor_audit", "--batch-size", "1000", stdout=out)
    assert out.getvalue().strip() == f"Anchored {total} heads in checkpoint 1."
    out = StringIO()
    call_command("anchor_audit", stdout=out)
    assert out.getvalue().strip() == "No audit head changed since the last checkpoint."
    with pytest.raises(CommandError, match="at least 1"):
        call_command("anchor_audit", "--batch-size", "0")
    Dispute.objects.filter(pk=Dispute.objects.first().pk).update(audit_anchored_seq=0)  # type: ignore[union-attr]
    assert anchor_audit_heads() == {"checkpoints": [2], "heads": 1}
    Dispute.objects.update(audit_anchored_seq=0)
    assert audit_anchor.anchor_heads(batch_size=1, max_batches=2).checkpoints == [3, 4]
    assert audit_anchor.anchor_heads(batch_size=1, max_seconds=0).checkpoints == []
    beat = django_settings.CELERY_BEAT_SCHEDULE["anchor-audit-heads"]
    assert beat["task"] == anchor_audit_heads.name == "mediation.anchor_audit_heads"


# --- S3 --------------------------------------------------------------------------------------


@pytest.fixture
def s3_anchors(settings: Any, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The anchor storage on the moto S3 server, configured as the settings read it."""
    from config.settings import audit_anchor_storage_config

    bucket = "anchors-test"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)
    for name, value in {
        "AUDIT_ANCHOR_BACKEND": "s3",
        "AUDIT_ANCHOR_BUCKET": bucket,
        "AUDIT_ANCHOR_PREFIX": f"run-{id(settings)}/anchors",
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    config = audit_anchor_storage_config()
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "audit_anchors": config}
    return bucket


def test_checkpoints_on_s3(demo: dict[str, Any], tamper: None, s3_anchors: str) -> None:
    dispute = busy_dispute(demo)
    assert audit_anchor.anchor_heads(batch_size=4).checkpoints
    prefix = django_settings.STORAGES["audit_anchors"]["OPTIONS"]["location"]
    storage = audit_anchor.storage()
    names = storage.listdir("")[1]
    assert names and all(n.startswith("checkpoint-") for n in names)
    assert storage.url(names[0]).split("?")[0].endswith(f"{s3_anchors}/{prefix}/{names[0]}")
    out, error = run_verify()
    assert error is None, out

    rewrite(dispute, at=2, payload={"amount": 1}, hasher=audit.compute_hash)
    out, error = run_verify()
    assert error is not None
    assert f"dispute {dispute.pk}: broken at entry 6: does not match the head anchored" in out


def test_the_anchor_storage_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import audit_anchor_storage_config

    monkeypatch.setenv("AUDIT_ANCHOR_DIR", "/srv/anchors")
    assert audit_anchor_storage_config()["OPTIONS"] == {"location": "/srv/anchors"}
    monkeypatch.setenv("AUDIT_ANCHOR_BACKEND", "s3")
    monkeypatch.delenv("AUDIT_ANCHOR_BUCKET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="AUDIT_ANCHOR_BUCKET"):
        audit_anchor_storage_config()
    monkeypatch.setenv("AUDIT_ANCHOR_BACKEND", "ftp")
    with pytest.raises(ImproperlyConfigured, match="AUDIT_ANCHOR_BACKEND"):
        audit_anchor_storage_config()


# --- PostgreSQL: worker processes ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_processes_check_the_anchors(demo: dict[str, Any]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (worker processes read committed data)")
    dispute = busy_dispute(demo)
    audit_anchor.anchor_heads(batch_size=2)
    sql = "ALTER TABLE mediation_auditentry {} TRIGGER mediation_auditentry_append_only"
    with connection.cursor() as cursor:
        cursor.execute(sql.format("DISABLE"))
    try:
        rewrite(dispute, at=2, payload={"amount": 1}, hasher=audit.compute_hash)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.format("ENABLE"))

    one = audit_scan.verify_everything(jobs=1, chunk_size=1)
    two = audit_scan.verify_everything(jobs=2, chunk_size=1)

    assert two.jobs == 2 and two.broken == one.broken
    assert [(r.dispute_id, r.broken_at, r.problem) for r in two.broken] == [
        (dispute.pk, 6, f"does not match the head anchored in checkpoint {two.checkpoints}")
    ]
    assert two.anchored == Dispute.objects.count()


# --- property: no rewrite of an anchored chain goes unnoticed --------------------------------

KEYRING = {"k1": b"first secret", "k2": b"second secret"}


def _chain(key_ids: list[str], payloads: list[int]) -> list[audit.EntryRow]:
    rows: list[audit.EntryRow] = []
    previous = ""
    for seq, (key_id, amount) in enumerate(zip(key_ids, payloads, strict=True), start=1):
        values = (
            7,
            seq,
            None,
            "system",
            "system",
            "message",
            "escalated",
            "escalated",
            {"amount": amount},
            "all",
            TIME,
            previous,
        )
        previous = audit.hash_content(key_id, audit.canonical_values(*values))
        rows.append((*values, previous, key_id))
    return rows


def _rehash(
    rows: list[audit.EntryRow], at: int, amount: int, keys: dict[str, bytes]
) -> list[audit.EntryRow]:
    """Entry ``at`` (0-based) with another amount, it and every later entry rehashed with
    ``keys`` (the attacker's: the real ones, guessed ones, or none: then every rehashed
    entry is passed off as legacy, plain SHA-256 with key id '')."""
    out = list(rows[:at])
    previous = out[-1][12] if out else ""
    with override_settings(AUDIT_HMAC_KEYS=keys):
        for row in rows[at:]:
            values = list(row[:12])
            values[11] = previous
            if row[1] == at + 1:
                values[8] = {"amount": amount}
            key_id = row[13] if row[13] in keys else ""
            previous = audit.hash_content(key_id, audit.canonical_values(*values))
            out.append((*values, previous, key_id))
    return out


TIME = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    legacy=st.integers(0, 3),
    keyed=st.lists(st.sampled_from(["k1", "k2"]), min_size=1, max_size=6).map(sorted),
    data=st.data(),
)
def test_no_rewrite_of_an_anchored_chain_verifies(
    legacy: int, keyed: list[str], data: st.DataObject
) -> None:
    key_ids = [""] * legacy + keyed  # legacy entries first, then k1 before k2 (rotation)
    payloads = data.draw(
        st.lists(st.integers(0, 10**6), min_size=len(key_ids), max_size=len(key_ids))
    )
    with override_settings(AUDIT_HMAC_KEYS=KEYRING):
        rows = _chain(key_ids, payloads)
        n = len(rows)
        anchor = audit.Anchor(n, rows[-1][12], 1)
        assert audit.find_break(7, n, rows[-1][12], rows, anchored=[anchor], unkeyed_upto=n) is None

        at = data.draw(st.integers(0, n - 1))
        amount = data.draw(st.integers(0, 10**6).filter(lambda a: a != payloads[at]))
        attacker = data.draw(
            st.sampled_from(
                [{}, {"k1": b"guess", "k2": b"guess"}, KEYRING]  # none, wrong, the real keys
            )
        )
        forged = _rehash(rows, at, amount, attacker)
        head = forged[-1][12]
        # The chain alone may be fooled (legacy entries, or the real keys) ...
        alone = audit.find_break(7, n, head, forged, unkeyed_upto=n)
        if attacker and attacker is not KEYRING and key_ids[at]:
            assert alone is not None  # a keyed entry rehashed under a guessed key
        if not attacker and key_ids[at]:
            # A keyed entry passed off as legacy (plain SHA-256): where the first checkpoint
            # allows only the legacy entries there were, it is caught.
            assert audit.find_break(7, n, head, forged, unkeyed_upto=legacy) is not None
        # ... the anchor never is.
        broken = audit.find_break(7, n, head, forged, anchored=[anchor], unkeyed_upto=n)
        assert broken is not None and broken.broken_at is not None
        assert broken.broken_at <= n
