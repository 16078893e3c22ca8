"""The tamper-evident audit chain (DESIGN §8).

Each entry's hash is SHA-256 over the canonical JSON of its content plus the previous
entry's hash. The dispute row keeps the head (last sequence number and hash), so an
append is one INSERT under the dispute's row lock, and a deleted tail is detected too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from mediation.actors import Roles, SystemActor, display_name
from mediation.models import AuditEntry, Dispute, Visibility


def canonical(entry: AuditEntry) -> bytes:
    content = {
        "dispute": entry.dispute_id,
        "seq": entry.seq,
        "actor": entry.actor_id,
        "actor_display": entry.actor_display,
        "actor_role": entry.actor_role,
        "action": entry.action,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "payload": entry.payload,
        "visibility": entry.visibility,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


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

    Detects an edited entry (its hash no longer matches), a deleted or reordered entry (a
    gap in the sequence, or a ``prev_hash`` that is not its predecessor's hash), and a
    deleted tail (the dispute's recorded head does not match the last entry).
    """
    previous_hash = ""
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return Verification(
                dispute.pk, False, len(entries), expected_seq, f"entry {expected_seq} is missing"
            )
        if entry.prev_hash != previous_hash:
            return Verification(
                dispute.pk, False, len(entries), entry.seq, "does not follow the entry before it"
            )
        if compute_hash(entry) != entry.hash:
            return Verification(
                dispute.pk, False, len(entries), entry.seq, "content does not match its hash"
            )
        previous_hash = entry.hash
        expected_seq += 1
    # The dispute row records the head: a deleted tail, or entries appended past the head
    # without going through the service, show up here.
    count, head = len(entries), dispute.audit_seq
    if head > count:
        return Verification(
            dispute.pk, False, count, count + 1, f"the chain should end at entry {head}"
        )
    if (entries[head - 1].hash if head else "") != dispute.audit_head:
        return Verification(
            dispute.pk, False, count, max(head, 1), "does not match the head on the dispute"
        )
    if head < count:
        return Verification(
            dispute.pk, False, count, head + 1, f"the chain should end at entry {head}"
        )
    return Verification(dispute.pk, True, count)


def verify(dispute: Dispute) -> Verification:
    entries = list(AuditEntry.objects.filter(dispute_id=dispute.pk).order_by("seq"))
    return verify_entries(dispute, entries)
