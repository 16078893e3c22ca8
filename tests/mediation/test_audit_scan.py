"""The streaming verification of every audit chain (mediation.audit_scan, verify_audit).

The canonical form built from a row tuple is held against ``json.dumps`` of the content
(the form's definition) and against the model path after a round trip through the
database; every kind of tampering is found through the stream, with small fetches (each
row on a fetch boundary) and over several id ranges, in worker processes on PostgreSQL.
Tampering writes to the audit table directly, as someone with database access could.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from mediation import audit, audit_scan
from mediation.models import AuditEntry, Dispute
from tests.mediation.test_audit_chain import busy_dispute

# --- the canonical form ----------------------------------------------------------------------


def reference(values: tuple[Any, ...]) -> bytes:
    """The canonical form as it is defined: json.dumps of the content, keys sorted."""
    (dispute, seq, actor, display, role, action, from_state, to_state, payload, visibility) = (
        values[:10]
    )
    content = {
        "dispute": dispute,
        "seq": seq,
        "actor": actor,
        "actor_display": display,
        "actor_role": role,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "payload": payload,
        "visibility": visibility,
        "created_at": values[10].isoformat(timespec="microseconds"),
        "prev_hash": values[11],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    ints=st.tuples(st.integers(1, 2**63 - 1), st.integers(1, 2**31)),
    actor=st.none() | st.integers(1, 2**63 - 1),
    texts=st.lists(st.text(), min_size=7, max_size=7),
    payload=json_values,
    created_at=st.datetimes(timezones=st.just(UTC)),
)
def test_canonical_values_are_json_dumps_of_the_content(
    ints: tuple[int, int], actor: int | None, texts: list[str], payload: Any, created_at: datetime
) -> None:
    display, role, action, from_state, to_state, visibility, prev_hash = texts
    values = (
        ints[0],
        ints[1],
        actor,
        display,
        role,
        action,
        from_state,
        to_state,
        payload,
        visibility,
        created_at,
        prev_hash,
    )
    assert audit.canonical_values(*values) == reference(values)


PAYLOADS: list[Any] = [
    {},
    {"amount": 24000, "kind": "partial_refund"},
    {"note": "Ça n'est pas arrivé — 壊れた 🌷", "ключ": "значение", "emoji🌷": True},
    {"quote": 'say "hi"\\ \n\t\u2028 \x01', "slash": "</script>"},
    {"nested": {"list": [1, 2.5, -3, None, False, {"z": [], "a": {}}], "deep": [[["x"]]]}},
    {"big": 2**62, "neg": -(2**40), "small": 0.1, "precise": 0.30000000000000004, "zero": 0},
    {"b": 1, "a": 2, "B": 3, "aa": 4, "": 5},
    [],
    "just a string",
    7,
]
TIMES = [
    datetime(2026, 3, 1, 12, 0, 0, 0, tzinfo=UTC),  # no microseconds
    datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2031, 7, 4, 6, 30, 15, 123456, tzinfo=UTC),
]


def append(dispute: Dispute, **fields: Any) -> AuditEntry:
    """Append a well-formed entry to ``dispute``'s chain and move its head, directly."""
    dispute.refresh_from_db()
    values: dict[str, Any] = {
        "actor_id": None,
        "actor_display": "system",
        "actor_role": "system",
        "action": "message",
        "from_state": dispute.state,
        "to_state": dispute.state,
        "payload": {},
        "visibility": "all",
        "created_at": timezone.now(),
    }
    values.update(fields)
    entry = AuditEntry(
        dispute_id=dispute.pk,
        seq=dispute.audit_seq + 1,
        prev_hash=dispute.audit_head,
        key_id=audit.current_key_id(),
        **values,
    )
    entry.hash = audit.compute_hash(entry)
    entry.save(force_insert=True)
    Dispute.objects.filter(pk=dispute.pk).update(audit_seq=entry.seq, audit_head=entry.hash)
    return entry


def test_the_tuple_path_hashes_as_the_model_path(demo: dict[str, Any]) -> None:
    dispute = busy_dispute(demo)
    buyer = demo["alice"]
    for n, payload in enumerate(PAYLOADS):
        append(
            dispute,
            payload=payload,
            created_at=TIMES[n % len(TIMES)],
            actor_id=buyer.pk if n % 2 else None,
            actor_display="Ålice Ünïcode 名前" if n % 2 else "system",
        )
    entries = list(AuditEntry.objects.filter(dispute=dispute).order_by("seq"))
    rows = list(
        audit_scan.stream_rows(
            AuditEntry.objects.filter(dispute=dispute)
            .order_by("seq")
            .values_list(*audit.ENTRY_FIELDS),
            3,
            json_at=audit_scan.PAYLOAD,
        )
    )
    assert len(rows) == len(entries) == 6 + len(PAYLOADS)
    for row, entry in zip(rows, entries, strict=True):
        assert row == audit.entry_row(entry)
        assert json.dumps(row[audit_scan.PAYLOAD]) == json.dumps(entry.payload)  # types too
        assert audit.canonical_values(*row[:12]) == audit.canonical(entry) == reference(row)
        assert audit.row_hash(row) == audit.compute_hash(entry) == entry.hash
    assert [r for r in audit_scan.verify_all(chunk_size=2) if r.dispute_id == dispute.pk] == [
        audit.Verification(dispute.pk, True, 6 + len(PAYLOADS))
    ]


# --- every kind of tampering, through the stream ---------------------------------------------


def blank_dispute(like: Dispute, *, audit_seq: int = 0) -> Dispute:
    """A dispute row without entries (a copy of ``like``, closed)."""
    fields: dict[str, Any] = dict(Dispute.objects.filter(pk=like.pk).values().get())
    del fields["id"]
    fields.update(state="closed", audit_seq=audit_seq, audit_head="a" * 64 if audit_seq else "")
    (copy,) = Dispute.objects.bulk_create([Dispute(**fields)])
    return copy


def _edit_payload(d: Dispute) -> tuple[int, int, str]:
    AuditEntry.objects.filter(dispute=d, seq=2).update(payload={"amount": 1})
    return d.pk, 2, "content does not match its hash"


def _delete_middle(d: Dispute) -> tuple[int, int, str]:
    AuditEntry.objects.filter(dispute=d, seq=3).delete()
    return d.pk, 3, "entry 3 is missing"


def _swap(d: Dispute) -> tuple[int, int, str]:
    second, third = (AuditEntry.objects.get(dispute=d, seq=s).pk for s in (2, 3))
    AuditEntry.objects.filter(pk=second).update(seq=1000)
    AuditEntry.objects.filter(pk=third).update(seq=2)
    AuditEntry.objects.filter(pk=second).update(seq=3)
    return d.pk, 2, "does not follow the entry before it"


def _forge(d: Dispute) -> tuple[int, int, str]:
    forged = AuditEntry.objects.get(dispute=d, seq=4)
    forged.payload, forged.prev_hash = {"body": "forged"}, "0" * 64
    forged.hash = audit.compute_hash(forged)
    AuditEntry.objects.filter(pk=forged.pk).update(
        payload=forged.payload, prev_hash=forged.prev_hash, hash=forged.hash
    )
    return d.pk, 4, "does not follow the entry before it"


def _truncate_tail(d: Dispute) -> tuple[int, int, str]:
    AuditEntry.objects.filter(dispute=d, seq=6).delete()
    return d.pk, 6, "the chain should end at entry 6"


def _past_the_head(d: Dispute) -> tuple[int, int, str]:
    d.refresh_from_db()
    seq, head = d.audit_seq, d.audit_head
    append(d)  # well linked, but the head on the dispute is put back
    Dispute.objects.filter(pk=d.pk).update(audit_seq=seq, audit_head=head)
    return d.pk, seq + 1, f"the chain should end at entry {seq}"


def _moved_head(d: Dispute) -> tuple[int, int, str]:
    Dispute.objects.filter(pk=d.pk).update(audit_head="0" * 64)
    return d.pk, 6, "does not match the head on the dispute"


def _no_entries(d: Dispute) -> tuple[int, int, str]:
    blank = blank_dispute(d, audit_seq=2)
    return blank.pk, 1, "the chain should end at entry 2"


def _orphan(d: Dispute) -> tuple[int, int, str]:
    # Past every dispute id (the last range is open above): the foreign key is checked at
    # the end of the transaction, and the test removes the entry before then.
    missing = Dispute.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    entry = AuditEntry(
        dispute_id=missing,
        seq=1,
        actor_display="system",
        actor_role="system",
        action="raise",
        payload={},
        created_at=timezone.now(),
        key_id=audit.current_key_id(),
    )
    entry.hash = audit.compute_hash(entry)
    entry.save(force_insert=True)
    return missing, 1, "its dispute does not exist"


TAMPERING: dict[str, Callable[[Dispute], tuple[int, int, str]]] = {
    "edited entry": _edit_payload,
    "deleted entry": _delete_middle,
    "reordered entries": _swap,
    "forged entry": _forge,
    "truncated tail": _truncate_tail,
    "entry past the head": _past_the_head,
    "moved head": _moved_head,
    "no entries for the head": _no_entries,
    "entries without a dispute": _orphan,
}


def scan_chunks_of_one() -> list[audit.Verification]:
    return [r for r in audit_scan.verify_all(chunk_size=1) if not r.verified]


def scan_chunks_of_three() -> list[audit.Verification]:
    return [r for r in audit_scan.verify_all(chunk_size=3) if not r.verified]


def scan_in_ranges() -> list[audit.Verification]:
    return audit_scan.verify_everything(jobs=2, chunk_size=2).broken


def scan_by_command() -> list[audit.Verification]:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", "--jobs", "2", "--chunk-size", "1", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if ": broken at entry " in line]
    found = []
    for line in lines:
        head, rest = line.split(": broken at entry ", 1)
        at, problem = rest.split(": ", 1)
        found.append(audit.Verification(int(head.split()[1]), False, 0, int(at), problem))
    return found


SCANS = {
    "fetches of one row": scan_chunks_of_one,
    "fetches of three rows": scan_chunks_of_three,
    "id ranges": scan_in_ranges,
    "verify_audit --jobs 2": scan_by_command,
}


@pytest.fixture
def removed_orphans() -> Iterator[None]:
    yield
    ids = Dispute.objects.values_list("pk", flat=True)
    AuditEntry.objects.exclude(dispute_id__in=ids).delete()


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_is_found_through_the_stream(
    demo: dict[str, Any], tamper: None, removed_orphans: None, kind: str, scan: str
) -> None:
    dispute = busy_dispute(demo)
    untouched = blank_dispute(dispute)  # no entries, no head: intact
    expected = TAMPERING[kind](dispute)

    broken = SCANS[scan]()

    assert [(r.dispute_id, r.broken_at, r.problem) for r in broken] == [expected]
    if scan != "verify_audit --jobs 2":
        clean = [r for r in audit_scan.verify_all() if r.verified]
        assert untouched.pk in {r.dispute_id for r in clean}


def test_several_broken_chains_come_back_in_id_order(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    others = list(Dispute.objects.exclude(pk=dispute.pk).order_by("pk"))
    _moved_head(others[-1])
    _edit_payload(dispute)
    AuditEntry.objects.filter(dispute=others[0], seq=1).update(actor_display="nobody")
    expected = sorted([others[0].pk, others[-1].pk, dispute.pk])

    summary = audit_scan.verify_everything(jobs=3, chunk_size=1)

    assert [r.dispute_id for r in summary.broken] == expected
    assert summary.disputes == Dispute.objects.count()
    assert summary.entries == AuditEntry.objects.count()
    assert summary.intact == summary.disputes - 3


def test_id_ranges_cover_every_id_once() -> None:
    size = audit_scan.Estimate(disputes=10, entries=40, first_id=5, last_id=14)
    ranges = audit_scan.id_ranges(size, 4)
    assert ranges[0][0] is None and ranges[-1][1] is None
    assert all(stop == start for (_, stop), (start, _) in pairwise(ranges))
    covered = [
        i
        for i in range(-5, 30)
        for a, b in ranges
        if (a is None or a <= i) and (b is None or i < b)
    ]
    assert covered == list(range(-5, 30))
    assert audit_scan.id_ranges(size, 100) == audit_scan.id_ranges(size, 10)  # one id each
    empty = audit_scan.Estimate(disputes=0, entries=0, first_id=None, last_id=None)
    assert audit_scan.id_ranges(empty, 4) == [(None, None)]


def test_progress_counts_disputes_and_entries(demo: dict[str, Any]) -> None:
    busy_dispute(demo)
    seen: list[tuple[int, int]] = []
    summary = audit_scan.verify_everything(
        jobs=1, progress=lambda disputes, entries: seen.append((disputes, entries))
    )
    assert sum(d for d, _ in seen) == summary.disputes == Dispute.objects.count()
    assert sum(e for _, e in seen) == summary.entries == AuditEntry.objects.count()
    assert summary.seconds > 0 and summary.entries_per_second > 0


def test_command_progress_bar_counts_entries(demo: dict[str, Any]) -> None:
    busy_dispute(demo)
    out, err = StringIO(), StringIO()
    call_command("verify_audit", "--progress", stdout=out, stderr=err)
    assert "Verifying audit chains" in err.getvalue() and "100%" in err.getvalue()
    assert f"{Dispute.objects.count():,} disputes" in err.getvalue()
    assert " entries/s " in out.getvalue()


# --- PostgreSQL: worker processes ------------------------------------------------------------


@pytest.fixture
def committed_tampering() -> Iterator[None]:
    """The append-only trigger off for a test whose writes are committed (the workers read
    through connections of their own), and on again after it."""
    sql = "ALTER TABLE mediation_auditentry {} TRIGGER mediation_auditentry_append_only"
    with connection.cursor() as cursor:
        cursor.execute(sql.format("DISABLE"))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.format("ENABLE"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_processes_find_what_one_process_finds(
    demo: dict[str, Any], postgres_only: None, committed_tampering: None
) -> None:
    dispute = busy_dispute(demo)
    others = list(Dispute.objects.exclude(pk=dispute.pk).order_by("pk"))
    _edit_payload(dispute)
    _moved_head(others[0])
    _past_the_head(others[-1])
    blank_dispute(dispute)
    for n, payload in enumerate(PAYLOADS):
        append(others[1], payload=payload, created_at=TIMES[n % len(TIMES)])

    one = audit_scan.verify_everything(jobs=1, chunk_size=1)
    two = audit_scan.verify_everything(jobs=2, chunk_size=1)

    assert (one.jobs, two.jobs) == (1, 2)
    assert two.broken == one.broken and len(one.broken) == 3
    assert [r.dispute_id for r in two.broken] == sorted([dispute.pk, others[0].pk, others[-1].pk])
    assert (two.disputes, two.entries) == (one.disputes, one.entries)
    assert two.entries == AuditEntry.objects.count()

    out = StringIO()
    with pytest.raises(CommandError, match="3 audit chains are broken"):
        call_command("verify_audit", "--jobs", "2", stdout=out)
    assert (
        f"dispute {dispute.pk}: broken at entry 2: content does not match its hash"
        in out.getvalue()
    )
    assert "(2 jobs)." in out.getvalue()


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (worker processes read committed data)")


def test_the_timestamps_are_read_in_utc(demo: dict[str, Any], tamper: None) -> None:
    dispute = busy_dispute(demo)
    elsewhere = datetime(
        2026, 3, 1, 23, 0, 0, 250, tzinfo=dt_timezone(timedelta(hours=5, minutes=30))
    )
    append(dispute, created_at=elsewhere)
    (row,) = audit_scan.stream_rows(
        AuditEntry.objects.filter(dispute=dispute, seq=7).values_list(*audit.ENTRY_FIELDS),
        10,
        json_at=audit_scan.PAYLOAD,
    )
    assert row[10] == elsewhere and row[10].utcoffset() == timedelta(0)
    assert row[10].isoformat(timespec="microseconds") == "2026-03-01T17:30:00.000250+00:00"
    assert row[10] == AuditEntry.objects.get(dispute=dispute, seq=7).created_at


def _lock_elsewhere(dispute_id: int) -> None:
    """Take the dispute's row lock on a connection of its own, without waiting for it."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM mediation_dispute WHERE id = %s FOR UPDATE NOWAIT", [dispute_id]
            )
            assert cursor.fetchall() == [(dispute_id,)]
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_locked_check_lets_go_of_the_lock_within_the_scan(
    demo: dict[str, Any], postgres_only: None
) -> None:
    dispute = busy_dispute(demo)
    with transaction.atomic():  # as the scan's own transaction
        assert audit_scan.locked_verify(dispute.pk) == audit.Verification(dispute.pk, True, 6)
        _lock_elsewhere(dispute.pk)  # an append would not wait for the end of the scan
        # Whereas a lock taken in the transaction itself is held until its end.
        Dispute.objects.select_for_update().get(pk=dispute.pk)
        with pytest.raises(DatabaseError, match="could not obtain lock"):
            _lock_elsewhere(dispute.pk)
