"""The tamper-evident audit chain (DESIGN §8): verify, the verify_audit command, and the
PostgreSQL append-only trigger.

Disputes are built through the real services; only the tampering itself writes to the
audit table directly, bypassing the model's save (``QuerySet.update``/``delete``).
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation import audit, audit_scan
from mediation.models import AuditEntry, Dispute, Order
from workflows import conversation
from workflows import transitions as t


@pytest.fixture
def postgres_only() -> None:
    """Skip unless the suite runs on PostgreSQL (CI's second run, DATABASE_URL=postgres://)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the append-only trigger exists only there)")


def busy_dispute(demo: dict[str, Any]) -> Dispute:
    """Alice's dispute on PP-1001 after six recorded actions, now under review."""
    alice, owner = demo["alice"], demo["petals_owner"]
    order = Order.objects.get(external_id="PP-1001")
    dispute = t.raise_dispute(
        actor=alice,
        order_id=order.pk,
        reason="damaged_or_defective",
        requested_outcome="full_refund",
        description="The bouquet arrived crushed.",
    ).dispute
    t.make_offer(dispute_id=dispute.pk, actor=owner, kind="partial_refund", amount=8000)
    t.counter(
        dispute_id=dispute.pk,
        actor=alice,
        requested_outcome="partial_refund",
        requested_amount=20000,
        note="It is unusable.",
    )
    conversation.post_message(dispute_id=dispute.pk, actor=owner, body="Could you send a photo?")
    t.escalate(dispute_id=dispute.pk, actor=owner, reason="seller_request")
    t.assign(dispute_id=dispute.pk, actor=demo["mia_agent"])
    dispute.refresh_from_db()
    assert dispute.audit_seq == 6
    return dispute


def entry(dispute: Dispute, seq: int) -> AuditEntry:
    return AuditEntry.objects.get(dispute=dispute, seq=seq)


def check(dispute: Dispute) -> audit.Verification:
    dispute.refresh_from_db()
    return audit.verify(dispute)


def run_verify(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


# --- verify --------------------------------------------------------------------------------


def test_an_untouched_chain_verifies(demo: dict[str, Any]) -> None:
    dispute = busy_dispute(demo)
    result = check(dispute)
    assert result == audit.Verification(dispute.pk, True, 6)
    assert [e.action for e in AuditEntry.objects.filter(dispute=dispute)] == [
        "raise",
        "offer",
        "counter",
        "message",
        "escalate",
        "assign",
    ]
    # Every demo dispute, made through the services, verifies as well.
    assert all(audit.verify(d).verified for d in Dispute.objects.all())


def test_edited_payload_is_detected_at_that_entry(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    payload = entry(dispute, 2).payload | {"amount": 24000}
    assert AuditEntry.objects.filter(dispute=dispute, seq=2).update(payload=payload) == 1
    result = check(dispute)
    assert (result.verified, result.broken_at) == (False, 2)
    assert result.problem == "content does not match its hash"
    assert result.entries == 6


def test_edited_actor_display_is_detected(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    AuditEntry.objects.filter(dispute=dispute, seq=4).update(actor_display="Someone Else")
    result = check(dispute)
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        4,
        "content does not match its hash",
    )


def test_deleted_middle_entry_is_named(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    assert AuditEntry.objects.filter(dispute=dispute, seq=3).delete()[0] == 1
    result = check(dispute)
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        3,
        "entry 3 is missing",
    )


def test_deleted_first_entry_is_named(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    AuditEntry.objects.filter(dispute=dispute, seq=1).delete()
    result = check(dispute)
    assert (result.verified, result.broken_at) == (False, 1)


def test_deleted_last_entry_is_caught_by_the_head_on_the_dispute(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    AuditEntry.objects.filter(dispute=dispute, seq=6).delete()
    # What is left is a perfectly linked chain of five entries ...
    remaining = list(AuditEntry.objects.filter(dispute=dispute).order_by("seq"))
    assert all(e.hash == audit.compute_hash(e) for e in remaining)
    # ... but the dispute row still says the chain ends at entry 6.
    result = check(dispute)
    assert (result.verified, result.broken_at) == (False, 6)
    assert result.problem == "the chain should end at entry 6"
    assert result.entries == 5


def test_swapped_entries_are_detected_where_the_order_breaks(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    second, third = entry(dispute, 2), entry(dispute, 3)
    # Through a free number, as the (dispute, seq) pair is unique.
    AuditEntry.objects.filter(pk=second.pk).update(seq=1000)
    AuditEntry.objects.filter(pk=third.pk).update(seq=2)
    AuditEntry.objects.filter(pk=second.pk).update(seq=3)
    result = check(dispute)
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        2,
        "does not follow the entry before it",
    )


def test_forged_entry_with_a_recomputed_hash_but_a_wrong_link(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    forged = entry(dispute, 3)
    forged.payload = forged.payload | {"requested_amount": 1}
    forged.prev_hash = "0" * 64
    forged.hash = audit.compute_hash(forged)  # internally consistent ...
    AuditEntry.objects.filter(pk=forged.pk).update(
        payload=forged.payload, prev_hash=forged.prev_hash, hash=forged.hash
    )
    assert entry(dispute, 3).hash == audit.compute_hash(entry(dispute, 3))
    result = check(dispute)  # ... but not linked to entry 2
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        3,
        "does not follow the entry before it",
    )


def test_rehashed_edit_breaks_the_link_of_the_next_entry(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    edited = entry(dispute, 2)
    edited.payload = edited.payload | {"amount": 1}
    edited.hash = audit.compute_hash(edited)
    AuditEntry.objects.filter(pk=edited.pk).update(payload=edited.payload, hash=edited.hash)
    result = check(dispute)
    # Entry 2 is self-consistent now; the chain breaks where entry 3 points at the old hash.
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        3,
        "does not follow the entry before it",
    )


def _forge_next(dispute: Dispute, *, prev_hash: str) -> AuditEntry:
    """Append a forged entry with a valid hash of its own (inserts are not refused)."""
    forged = AuditEntry(
        dispute_id=dispute.pk,
        seq=dispute.audit_seq + 1,
        actor=None,
        actor_display="system",
        actor_role="system",
        action="withdraw",
        from_state=dispute.state,
        to_state="closed",
        payload={"note": "forged"},
        visibility="all",
        created_at=timezone.now(),
        prev_hash=prev_hash,
        key_id=audit.current_key_id(),  # by someone who holds the key
    )
    forged.hash = audit.compute_hash(forged)
    forged.save(force_insert=True)
    return forged


def test_forged_appended_entry_with_a_broken_link_and_a_moved_head(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    forged = _forge_next(dispute, prev_hash="f" * 64)
    Dispute.objects.filter(pk=dispute.pk).update(audit_seq=forged.seq, audit_head=forged.hash)
    result = check(dispute)
    assert (result.verified, result.broken_at, result.problem) == (
        False,
        7,
        "does not follow the entry before it",
    )


def test_forged_appended_entry_behind_the_head_is_detected(
    demo: dict[str, Any], tamper: None
) -> None:
    dispute = busy_dispute(demo)
    _forge_next(dispute, prev_hash=dispute.audit_head)  # perfectly linked, head not moved
    result = check(dispute)
    assert result.verified is False
    assert result.problem == "the chain should end at entry 6"


def test_forged_appended_entry_behind_the_head_is_named(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    _forge_next(dispute, prev_hash=dispute.audit_head)
    assert check(dispute).broken_at == 7


def test_replaced_last_entry_is_named(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    last = entry(dispute, 6)
    last.payload = {"forged": True}
    last.hash = audit.compute_hash(last)
    AuditEntry.objects.filter(pk=last.pk).update(payload=last.payload, hash=last.hash)
    result = check(dispute)
    assert (result.verified, result.broken_at) == (False, 6)


def test_every_hashed_field_is_covered(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    edits: dict[str, Any] = {
        "actor_id": demo["lee_lead"].pk,
        "actor_role": "mediator",
        "action": "rule",
        "from_state": "closed",
        "to_state": "closed",
        "visibility": "mediators",
        "created_at": timezone.now(),
    }
    rows = AuditEntry.objects.filter(dispute=dispute, seq=5)
    original = rows.values(*edits).get()
    for name, value in edits.items():
        rows.update(**{name: value})
        assert check(dispute).broken_at == 5, name
        rows.update(**{name: original[name]})
        assert check(dispute).verified, name


# --- the verify_audit command ------------------------------------------------------------


def test_command_reports_every_chain_intact(demo: dict[str, Any]) -> None:
    busy_dispute(demo)
    total = Dispute.objects.count()
    entries = AuditEntry.objects.count()
    out, error = run_verify()
    assert error is None
    assert f"Verified {total} disputes ({entries} entries): {total} intact, 0 broken." in out
    assert " entries/s (1 job)." in out
    assert "broken at" not in out


def test_command_names_broken_chains_and_exits_non_zero(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    other = Dispute.objects.exclude(pk=dispute.pk).order_by("pk").first()
    assert other is not None
    AuditEntry.objects.filter(dispute=dispute, seq=4).update(payload={"body": "edited"})
    AuditEntry.objects.filter(dispute=other, seq=other.audit_seq).delete()
    total = Dispute.objects.count()

    out, error = run_verify("--chunk-size", "2")  # several chunks of disputes

    assert error is not None and error.returncode == 1
    assert str(error) == "2 audit chains are broken."
    assert f"dispute {dispute.pk}: broken at entry 4: content does not match its hash" in out
    assert (
        f"dispute {other.pk}: broken at entry {other.audit_seq}: "
        f"the chain should end at entry {other.audit_seq}"
    ) in out
    assert f"Verified {total} disputes" in out and f"{total - 2} intact, 2 broken." in out


def test_command_checks_one_dispute(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    other = Dispute.objects.exclude(pk=dispute.pk).first()
    assert other is not None
    AuditEntry.objects.filter(dispute=other, seq=1).update(actor_display="nobody")

    out, error = run_verify("--dispute", str(dispute.pk))
    assert error is None
    assert "Verified 1 dispute (6 entries): 1 intact, 0 broken." in out

    out, error = run_verify("--dispute", str(other.pk))
    assert error is not None and str(error) == "1 audit chain is broken."
    assert f"dispute {other.pk}: broken at entry 1: content does not match its hash" in out

    out, error = run_verify("--dispute", "999999")
    assert error is not None and str(error) == "No dispute 999999."


def test_command_progress_bar_goes_to_stderr_on_request(demo: dict[str, Any]) -> None:
    out, err = StringIO(), StringIO()
    call_command("verify_audit", "--progress", stdout=out, stderr=err)
    assert "Verifying audit chains" in err.getvalue() and "100%" in err.getvalue()
    assert "Verifying" not in out.getvalue()
    quiet = StringIO()
    call_command("verify_audit", stdout=StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""  # not a terminal


def test_an_append_during_the_run_is_not_reported_as_tampering(demo: dict[str, Any]) -> None:
    dispute = busy_dispute(demo)
    # The head as the scan read it, before an action lands and its entries are read.
    stale = list(Dispute.objects.filter(pk=dispute.pk).values_list("pk", "audit_seq", "audit_head"))
    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="Photo attached.")
    entries = (
        AuditEntry.objects.filter(dispute=dispute).order_by("seq").values_list(*audit.ENTRY_FIELDS)
    )
    assert audit.verify_rows(*stale[0], list(entries)).verified is False

    results = list(audit_scan.merge_chains(stale, entries))

    assert results == [audit.Verification(dispute.pk, True, 7)]


def test_verify_all_reads_two_streams_whatever_the_number_of_disputes(
    demo: dict[str, Any],
) -> None:
    busy_dispute(demo)
    ids = sorted(Dispute.objects.values_list("pk", flat=True))
    assert len(ids) >= 6
    seen = []
    for stop in (ids[1] + 1, None):  # two disputes, then all of them
        with CaptureQueriesContext(connection) as queries:
            results = list(audit_scan.verify_all(chunk_size=2, stop=stop))
        assert all(r.verified for r in results)
        seen.append((len(results), len(queries)))
    (few, few_queries), (many, many_queries) = seen
    assert (few, many) == (2, len(ids))
    assert few_queries == many_queries  # not one query per dispute, nor per chunk
    if connection.vendor == "sqlite":
        assert many_queries == 2  # the heads, the entries


# --- PostgreSQL: the append-only trigger -------------------------------------------------


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete(
    demo: dict[str, Any], postgres_only: None
) -> None:
    dispute = busy_dispute(demo)
    first = entry(dispute, 1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=first.pk).update(payload={"edited": True})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=first.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE mediation_auditentry SET actor_display = %s WHERE id = %s",
            ["nobody", first.pk],
        )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM mediation_auditentry WHERE dispute_id = %s", [dispute.pk])

    # Each refusal rolled back to its savepoint; the chain is whole and appends still work.
    assert entry(dispute, 1).payload == first.payload
    conversation.post_message(dispute_id=dispute.pk, actor=demo["alice"], body="Still here.")
    assert AuditEntry.objects.filter(dispute=dispute).count() == 7
    assert check(dispute) == audit.Verification(dispute.pk, True, 7)
