"""The tamper-evident audit chain (DESIGN §8).

Each entry's hash is an HMAC-SHA256, under a secret held outside the database
(``AUDIT_HMAC_KEY``), of the canonical JSON of its content plus the previous entry's hash;
the entry records the key's id (``key_id``), so keys can be rotated and entries written under
an earlier key still verify while that key is configured (``AUDIT_HMAC_OLD_KEYS``). Entries
written before the chain was keyed have ``key_id`` '' and a plain SHA-256; they verify as
they are, but only as the first entries of a chain (none may follow a keyed one) and only
where the anchors allow them (see :mod:`mediation.audit_anchor`). Someone who can write to
the database but does not hold the key can no longer recompute a rewritten chain.

The dispute row keeps the head (last sequence number and hash), so an append is one INSERT
under the dispute's row lock, and a deleted tail is detected too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from hashlib import sha256
from typing import Any, NamedTuple

from django.conf import settings
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
    "key_id",
)
EntryRow = tuple[Any, ...]
# Where a row of ENTRY_FIELDS keeps what the check reads.
_PREV, _HASH, _KEY = 11, 12, 13
# The largest sequence number: "unkeyed entries allowed anywhere" for the check.
ANY_SEQ = 2**63

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
        entry.key_id,
    )


def canonical(entry: AuditEntry) -> bytes:
    return canonical_values(*entry_row(entry)[:_HASH])


class UnknownKey(LookupError):
    """An entry's ``key_id`` names a key that is not configured."""

    def __init__(self, key_id: str) -> None:
        super().__init__(key_id)
        self.key_id = key_id


class _Mac(NamedTuple):
    """HMAC-SHA256 (RFC 2104) under one key, as the two SHA-256 states after the padded
    key: ``hmac.new(key, msg, sha256).hexdigest()`` at a third of its cost per call, which
    verifying millions of entries notices (the audit tests hold the two equal)."""

    inner: Any
    outer: Any

    @classmethod
    def of(cls, key: bytes) -> _Mac:
        if len(key) > 64:
            key = sha256(key).digest()
        key = key.ljust(64, b"\0")
        return cls(sha256(bytes(b ^ 0x36 for b in key)), sha256(bytes(b ^ 0x5C for b in key)))

    def hexdigest(self, message: bytes) -> str:
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@cache
def _macs(keys: tuple[tuple[str, bytes], ...]) -> dict[str, _Mac]:
    return {key_id: _Mac.of(key) for key_id, key in keys}


# The AUDIT_HMAC_KEYS dict last seen and its MACs: the scan asks once per dispute, and a
# changed setting (a test's override) is a new dict.
_seen: tuple[object, dict[str, _Mac]] = (None, {})


def macs() -> dict[str, _Mac]:
    """The configured keys (AUDIT_HMAC_KEYS), ready to hash with, by id."""
    global _seen
    keys = settings.AUDIT_HMAC_KEYS
    if _seen[0] is not keys:
        _seen = (keys, _macs(tuple(sorted(keys.items()))))
    return _seen[1]


def current_key_id() -> str:
    return str(settings.AUDIT_HMAC_KEY_ID)


def mac_hex(key_id: str, message: bytes) -> str:
    """HMAC-SHA256 of ``message`` under the key ``key_id`` (:class:`UnknownKey` if it is not
    configured); used for the entries and for the anchors' signatures."""
    mac = macs().get(key_id)
    if mac is None:
        raise UnknownKey(key_id)
    return mac.hexdigest(message)


def hash_content(key_id: str, content: bytes) -> str:
    """The hash of an entry's canonical ``content`` under ``key_id`` ('' : plain SHA-256)."""
    return mac_hex(key_id, content) if key_id else sha256(content).hexdigest()


def compute_hash(entry: AuditEntry) -> str:
    return hash_content(entry.key_id, canonical(entry))


def row_hash(row: EntryRow) -> str:
    """The hash an entry row should carry (its content, without its own hash)."""
    return hash_content(row[_KEY], canonical_values(*row[:_HASH]))


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
        key_id=current_key_id(),
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


class Anchor(NamedTuple):
    """A dispute's head as the latest signed checkpoint outside the database holds it."""

    seq: int
    head: str
    checkpoint: int


def verify_entries(
    dispute: Dispute,
    entries: list[AuditEntry],
    *,
    anchored: Sequence[Anchor] = (),
    unkeyed_upto: int = ANY_SEQ,
) -> Verification:
    """Recompute the chain over ``entries`` (in ``seq`` order) and name the first broken one.

    The check of :func:`verify_rows`, over model instances.
    """
    return verify_rows(
        dispute.pk,
        dispute.audit_seq,
        dispute.audit_head,
        [entry_row(e) for e in entries],
        anchored=anchored,
        unkeyed_upto=unkeyed_upto,
    )


def verify_rows(
    dispute_id: int,
    audit_seq: int,
    audit_head: str,
    rows: Sequence[EntryRow],
    *,
    anchored: Sequence[Anchor] = (),
    unkeyed_upto: int = ANY_SEQ,
) -> Verification:
    """Recompute the chain of a dispute whose row records the head ``audit_seq`` and
    ``audit_head``, over its entry rows (``ENTRY_FIELDS``, in ``seq`` order).

    Detects an edited entry (its hash no longer matches under its key), a deleted or
    reordered entry (a gap in the sequence, or a ``prev_hash`` that is not its predecessor's
    hash), and a deleted tail (the dispute's recorded head does not match the last entry).
    An entry under a key that is not configured is reported, as is an unkeyed (legacy)
    entry after a keyed one or past ``unkeyed_upto``. Against the dispute's heads in the
    checkpoints outside the database (``anchored``), a chain shorter than an anchored entry,
    or another hash at it, is a rewrite even when every hash is consistent.
    """
    return find_break(
        dispute_id, audit_seq, audit_head, rows, anchored=anchored, unkeyed_upto=unkeyed_upto
    ) or Verification(dispute_id, True, len(rows))


def find_break(
    dispute_id: int,
    audit_seq: int,
    audit_head: str,
    rows: Sequence[EntryRow],
    *,
    anchored: Sequence[Anchor] = (),
    unkeyed_upto: int = ANY_SEQ,
) -> Verification | None:
    """The check of :func:`verify_rows`: None for an intact chain (made for scanning many,
    where an intact chain needs no result of its own), else where it breaks."""
    count = len(rows)
    broken = _break_in_run(dispute_id, rows, 1, "", unkeyed_upto=unkeyed_upto)
    if broken is not None:
        return broken
    # The heads outside the database: a chain rewritten by someone holding the key (or one
    # cut short) is consistent in itself, but no longer reaches them.
    for anchor in sorted(anchored):
        if count < anchor.seq:
            return Verification(
                dispute_id,
                False,
                count,
                count + 1,
                f"the chain ends before entry {anchor.seq}, "
                f"anchored in checkpoint {anchor.checkpoint}",
            )
        if rows[anchor.seq - 1][_HASH] != anchor.head:
            return Verification(
                dispute_id,
                False,
                count,
                anchor.seq,
                f"does not match the head anchored in checkpoint {anchor.checkpoint}",
            )
    # The dispute row records the head: a deleted tail, or entries appended past the head
    # without going through the service, show up here.
    head = audit_seq
    if head > count:
        return Verification(
            dispute_id, False, count, count + 1, f"the chain should end at entry {head}"
        )
    if (rows[head - 1][_HASH] if head else "") != audit_head:
        return Verification(
            dispute_id, False, count, max(head, 1), "does not match the head on the dispute"
        )
    if head < count:
        return Verification(
            dispute_id, False, count, head + 1, f"the chain should end at entry {head}"
        )
    return None


def _break_in_run(
    dispute_id: int,
    rows: Sequence[EntryRow],
    first_seq: int,
    previous_hash: str,
    *,
    keyed: bool = False,
    unkeyed_upto: int = ANY_SEQ,
) -> Verification | None:
    """Where consecutive entry rows, the first of which should be ``first_seq`` and follow
    an entry whose hash is ``previous_hash`` (keyed, when ``keyed``), stop chaining: a
    missing entry, a link to another predecessor, content that does not match its hash
    (an HMAC under the entry's key id, or plain SHA-256 for the legacy entries before the
    first keyed one, up to ``unkeyed_upto``), or a key that is not configured."""
    count = len(rows)
    expected_seq = first_seq
    keys = macs()
    # (Literal indices in this loop: _PREV, _HASH, _KEY, looked up once per entry else.)
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
        key_id = row[13]
        if key_id:
            mac = keys.get(key_id)
            if mac is None:
                return Verification(
                    dispute_id,
                    False,
                    count,
                    expected_seq,
                    f"is keyed with {key_id!r}, a key that is not configured",
                )
            digest = mac.hexdigest(canonical_values(*row[:12]))
            keyed = True
        elif keyed or expected_seq > unkeyed_upto:
            return Verification(
                dispute_id, False, count, expected_seq, "is not keyed where the chain must be"
            )
        else:
            digest = sha256(canonical_values(*row[:12])).hexdigest()
        if digest != previous_hash:
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
    previous_hash, keyed = "", False
    if start > 1:
        found = (
            AuditEntry.objects.filter(dispute_id=dispute.pk, seq=start - 1)
            .values_list("hash", "key_id")
            .first()
        )
        if found is None:
            missing = start - 1
            return Verification(dispute.pk, False, count, missing, f"entry {missing} is missing")
        previous_hash, keyed = found[0], bool(found[1])
    # (The anchors are verify_audit's: a page is checked against the database alone.)
    broken = _break_in_run(dispute.pk, rows, start, previous_hash, keyed=keyed)
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


def verify(
    dispute: Dispute, *, anchored: Sequence[Anchor] = (), unkeyed_upto: int = ANY_SEQ
) -> Verification:
    entries = list(AuditEntry.objects.filter(dispute_id=dispute.pk).order_by("seq"))
    return verify_entries(dispute, entries, anchored=anchored, unkeyed_upto=unkeyed_upto)
