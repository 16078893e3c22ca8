"""The tamper-evident audit chain (DESIGN §8).

Each entry's hash is SHA-256 over the canonical JSON of its content plus the previous
entry's hash. The dispute row keeps the head (last sequence number and hash), so an
append is one INSERT under the dispute's row lock, and a deleted tail is detected too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from typing import Any

from django.utils import timezone

from mediation.actors import Roles, SystemActor, display_name
from mediation.models import AuditEntry, Dispute, Visibility

# The columns of an entry in the order the canonical form takes them, then its hash: a row
# of ``AuditEntry.objects.values_list(*ENTRY_FIELDS)`` is what :func:`verify_rows` checks.
ENTRY_FIELDS = (
    "dispute_id",
    "seq",
    "actor_id",
    "actor_display",
    "actor_role",
    "action",
    "from_state",
    "to_state",
    "payload",
    "visibility",
    "created_at",
    "prev_hash",
    "hash",
)
EntryRow = tuple[Any, ...]

# The JSON of the canonical form: sorted keys, no spaces, non-ASCII as it is. ``_string`` is
# the function this encoder writes every string with, and ``_json(value)`` is
# ``_JSON.encode(value)``: the same C encoder, made once here rather than on every call
# (without the check for cycles, which JSON data cannot have).
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_string = json.encoder.encode_basestring
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode = (
    None
    if _c_make_encoder is None  # pragma: no cover - CPython has it
    else _c_make_encoder(None, _JSON.default, _string, None, ":", ",", True, False, True)
)


def _json(value: Any) -> str:
    if _encode is None:  # pragma: no cover
        return _JSON.encode(value)
    return "".join(_encode(value, 0))


def canonical_values(
    dispute_id: int,
    seq: int,
    actor_id: int | None,
    actor_display: str,
    actor_role: str,
    action: str,
    from_state: str,
    to_state: str,
    payload: Any,
    visibility: str,
    created_at: datetime,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash is taken over: the one definition of the canonical form.

    They are ``json.dumps(content, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` of the object ``{"dispute": dispute_id, "seq": seq, "actor":
    actor_id, "actor_display": ..., "payload": payload, "created_at":
    created_at.isoformat(timespec="microseconds"), "prev_hash": prev_hash}``, UTF-8
    encoded. The object is written out here with its keys already in sorted order (and the
    payload through the same encoder), which is the same text at half the cost; the audit
    tests hold this against ``json.dumps`` of the object.
    """
    actor = "null" if actor_id is None else f"{actor_id:d}"
    return (
        f'{{"action":{_string(action)},"actor":{actor},'
        f'"actor_display":{_string(actor_display)},"actor_role":{_string(actor_role)},'
        f'"created_at":{_string(created_at.isoformat(timespec="microseconds"))},'
        f'"dispute":{dispute_id:d},"from_state":{_string(from_state)},'
        f'"payload":{_json(payload)},"prev_hash":{_string(prev_hash)},"seq":{seq:d},'
        f'"to_state":{_string(to_state)},"visibility":{_string(visibility)}}}'
    ).encode()


def entry_row(entry: AuditEntry) -> EntryRow:
    """The values of ``ENTRY_FIELDS`` of a model instance."""
    return (
        entry.dispute_id,
        entry.seq,
        entry.actor_id,
        entry.actor_display,
        entry.actor_role,
        entry.action,
        entry.from_state,
        entry.to_state,
        entry.payload,
        entry.visibility,
        entry.created_at,
        entry.prev_hash,
        entry.hash,
    )


def canonical(entry: AuditEntry) -> bytes:
    return canonical_values(*entry_row(entry)[:-1])


def compute_hash(entry: AuditEntry) -> str:
    return sha256(canonical(entry)).hexdigest()


def row_hash(row: EntryRow) -> str:
    """The hash an entry row should carry (its content, without its own hash)."""
    return sha256(canonical_values(*row[:-1])).hexdigest()


def record(
    dispute: Dispute,
    *,
    actor: Any,
    roles: Roles,
    action: str,
    from_state: str,
    payload: dict[str, Any] | None = None,
    visibility: str = Visibility.ALL,
    save: bool = True,
) -> AuditEntry:
    """Append an entry for ``action``. The caller holds the dispute's row lock and saves
    the dispute (its ``audit_seq``/``audit_head``) in the same transaction. With
    ``save=False`` the entry is chained but not written: the caller inserts it (a batch
    of the sweeper's writes many at once), before or with the dispute row."""
    entry = AuditEntry(
        dispute_id=dispute.pk,
        seq=dispute.audit_seq + 1,
        actor=None if isinstance(actor, SystemActor) else actor,
        actor_display=display_name(actor),
        actor_role=roles.label(),
        action=action,
        from_state=from_state,
        to_state=dispute.state,
        payload=_jsonable(payload or {}),
        visibility=visibility,
        created_at=timezone.now(),
        prev_hash=dispute.audit_head,
    )
    entry.hash = compute_hash(entry)
    if save:
        entry.save(force_insert=True)
    dispute.audit_seq = entry.seq
    dispute.audit_head = entry.hash
    return entry


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    # Round-trip so the hash is computed over exactly what the JSON column gives back.
    return json.loads(json.dumps(payload, default=str))


@dataclass(frozen=True)
class Verification:
    dispute_id: int
    verified: bool
    entries: int
    broken_at: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "dispute": self.dispute_id,
            "verified": self.verified,
            "entries": self.entries,
            "broken_at": self.broken_at,
            "problem": self.problem,
        }


def verify_entries(dispute: Dispute, entries: list[AuditEntry]) -> Verification:
    """Recompute the chain over ``entries`` (in ``seq`` order) and name the first broken one.

    The check of :func:`verify_rows`, over model instances.
    """
    return verify_rows(
        dispute.pk, dispute.audit_seq, dispute.audit_head, [entry_row(e) for e in entries]
    )


def verify_rows(
    dispute_id: int, audit_seq: int, audit_head: str, rows: Sequence[EntryRow]
) -> Verification:
    """Recompute the chain of a dispute whose row records the head ``audit_seq`` and
    ``audit_head``, over its entry rows (``ENTRY_FIELDS``, in ``seq`` order).

    Detects an edited entry (its hash no longer matches), a deleted or reordered entry (a
    gap in the sequence, or a ``prev_hash`` that is not its predecessor's hash), and a
    deleted tail (the dispute's recorded head does not match the last entry).
    """
    return find_break(dispute_id, audit_seq, audit_head, rows) or Verification(
        dispute_id, True, len(rows)
    )


def find_break(
    dispute_id: int, audit_seq: int, audit_head: str, rows: Sequence[EntryRow]
) -> Verification | None:
    """The check of :func:`verify_rows`: None for an intact chain (made for scanning many,
    where an intact chain needs no result of its own), else where it breaks."""
    count = len(rows)
    broken = _break_in_run(dispute_id, rows, 1, "")
    if broken is not None:
        return broken
    # The dispute row records the head: a deleted tail, or entries appended past the head
    # without going through the service, show up here.
    head = audit_seq
    if head > count:
        return Verification(
            dispute_id, False, count, count + 1, f"the chain should end at entry {head}"
        )
    if (rows[head - 1][12] if head else "") != audit_head:
        return Verification(
            dispute_id, False, count, max(head, 1), "does not match the head on the dispute"
        )
    if head < count:
        return Verification(
            dispute_id, False, count, head + 1, f"the chain should end at entry {head}"
        )
    return None


def _break_in_run(
    dispute_id: int, rows: Sequence[EntryRow], first_seq: int, previous_hash: str
) -> Verification | None:
    """Where consecutive entry rows, the first of which should be ``first_seq`` and follow
    an entry whose hash is ``previous_hash``, stop chaining: a missing entry, a link to
    another predecessor, or content that does not match its hash."""
    count = len(rows)
    expected_seq = first_seq
    for row in rows:
        if row[1] != expected_seq:
            return Verification(
                dispute_id, False, count, expected_seq, f"entry {expected_seq} is missing"
            )
        if row[11] != previous_hash:
            return Verification(
                dispute_id, False, count, expected_seq, "does not follow the entry before it"
            )
        previous_hash = row[12]
        if sha256(canonical_values(*row[:12])).hexdigest() != previous_hash:
            return Verification(
                dispute_id, False, count, expected_seq, "content does not match its hash"
            )
        expected_seq += 1
    return None


def verify_page(
    dispute: Dispute, entries: Sequence[AuditEntry], *, first: bool, last: bool
) -> Verification:
    """Check one page of the chain: consecutive ``entries`` in ``seq`` order, the chain's
    beginning when ``first`` and its end when ``last``.

    Each entry's hash is recomputed and each links to the one before it; the page's first
    entry links to the entry before the page (entry 1 to nothing), whose hash is read here
    (one indexed row), and the last page ends at the head the dispute records. A client
    that follows the pages from the first to the last has checked the whole chain, each
    page at a bounded cost; ``verify`` checks it in one go."""
    rows = [entry_row(e) for e in entries]
    count = len(rows)
    if not rows:
        if first and dispute.audit_seq:
            return Verification(
                dispute.pk, False, 0, 1, f"the chain should end at entry {dispute.audit_seq}"
            )
        return Verification(dispute.pk, True, 0)
    start = 1 if first else rows[0][1]
    previous_hash = ""
    if start > 1:
        found = (
            AuditEntry.objects.filter(dispute_id=dispute.pk, seq=start - 1)
            .values_list("hash", flat=True)
            .first()
        )
        if found is None:
            missing = start - 1
            return Verification(dispute.pk, False, count, missing, f"entry {missing} is missing")
        previous_hash = found
    broken = _break_in_run(dispute.pk, rows, start, previous_hash)
    if broken is not None:
        return broken
    if last:
        end, head = rows[-1][1], dispute.audit_seq
        if end != head:
            where = min(end, head) + 1
            return Verification(
                dispute.pk, False, count, where, f"the chain should end at entry {head}"
            )
        if rows[-1][12] != dispute.audit_head:
            return Verification(
                dispute.pk, False, count, max(head, 1), "does not match the head on the dispute"
            )
    return Verification(dispute.pk, True, count)


def verify(dispute: Dispute) -> Verification:
    entries = list(AuditEntry.objects.filter(dispute_id=dispute.pk).order_by("seq"))
    return verify_entries(dispute, entries)
