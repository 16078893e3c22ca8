"""Anchoring the audit heads outside the database (DESIGN §8).

The keyed chain (:mod:`mediation.audit`) stops someone who can write to the database but
does not hold the key; the anchors stop someone who holds both. Now and then (beat's
``anchor-audit-heads``, or ``manage.py anchor_audit``) the heads of the disputes whose
chain grew since the last run, ``[dispute id, seq, hash]``, are written as a signed
checkpoint to the ``audit_anchors`` storage (a local folder or an S3 bucket, apart from the
database and from the evidence), the way a certificate-transparency log publishes signed
tree heads:

- each checkpoint is a JSON document, ``checkpoint-<number>.json``, with its ``number``,
  ``previous`` (the SHA-256 of the previous checkpoint's bytes, '' for the first),
  ``created_at``, ``legacy_until`` (the highest dispute id whose chain may start with
  unkeyed entries, fixed by the first checkpoint), the ``heads``, and an HMAC-SHA256
  ``signature`` under the audit key ``key_id`` over the rest;
- a head is ``[dispute id, seq, hash, anchored seq, hash at it]``: the last two are the seq
  the previous checkpoint of that dispute anchored and the hash the database held at it
  when this one was written, so a later checkpoint shows whether the chain it anchors still
  ran through the earlier head (a consistency proof, in CT's terms). Where it did not, or
  the link is unknown, the earlier head stays one that the chain must reproduce;
- a run is incremental: the disputes whose ``audit_seq`` is past their
  ``audit_anchored_seq`` are read through a partial index of just those rows, in batches of
  ``AUDIT_ANCHOR_BATCH_SIZE`` (a checkpoint and a transaction each), and a run that finds
  none writes nothing;
- runs are serialized by a lock, and a checkpoint stored by a run that then failed to
  commit is taken up by the next one (its heads are anchored again, which is harmless).

``verify_audit`` reads every checkpoint (:func:`load_anchors`), checks the signatures and
the chaining, and checks each dispute's chain against its latest anchored head (and any
earlier one a later checkpoint did not link to): the entries up to the anchored ``seq`` must
reproduce the anchored hash.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from mediation.audit import ANY_SEQ, Anchor, UnknownKey, current_key_id, mac_hex
from mediation.models import AuditCheckpoint, AuditEntry, Dispute

FORMAT = "mediation-audit-checkpoint/1"
STORAGE = "audit_anchors"
_NAME = re.compile(r"^checkpoint-(\d{12})\.json$")
# pg_advisory_xact_lock's key for anchoring runs ("audit anchor" in ASCII).
_LOCK_KEY = 0x61756469_74616E63


class AnchorError(RuntimeError):
    """The anchor storage holds something the next checkpoint cannot follow."""


def storage() -> Storage:
    return storages[STORAGE]


def checkpoint_name(number: int) -> str:
    return f"checkpoint-{number:012d}.json"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(document: dict[str, Any]) -> str:
    """The HMAC of ``document`` without its ``signature``, under its ``key_id``."""
    body = {k: v for k, v in document.items() if k != "signature"}
    return mac_hex(str(document["key_id"]), _canonical(body))


def serialize(body: dict[str, Any]) -> bytes:
    """The stored bytes of a checkpoint: ``body`` signed with the current key."""
    document = {**body, "format": FORMAT, "key_id": current_key_id()}
    document["signature"] = signature(document)
    return _canonical(document) + b"\n"


def digest(data: bytes) -> str:
    return sha256(data).hexdigest()


# --- writing ---------------------------------------------------------------------------------


@dataclass
class AnchorReport:
    """What a run wrote: the checkpoint numbers and how many heads they anchored."""

    checkpoints: list[int] = field(default_factory=list)
    heads: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"checkpoints": self.checkpoints, "heads": self.heads}


def anchor_heads(
    *,
    batch_size: int | None = None,
    max_batches: int | None = None,
    max_seconds: float | None = None,
) -> AnchorReport:
    """Write a signed checkpoint of every head that changed since the last one, in batches
    of ``batch_size`` heads (AUDIT_ANCHOR_BATCH_SIZE), each in its own transaction; stop
    between batches after ``max_batches`` or ``max_seconds`` (the next run goes on)."""
    size = max(1, batch_size or settings.AUDIT_ANCHOR_BATCH_SIZE)
    report = AnchorReport()
    begin = time.monotonic()
    while (max_batches is None or len(report.checkpoints) < max_batches) and (
        max_seconds is None or time.monotonic() - begin < max_seconds
    ):
        with transaction.atomic():
            written = _anchor_batch(size)
        if written is None:
            break
        report.checkpoints.append(written[0])
        report.heads += written[1]
    return report


def _anchor_batch(size: int) -> tuple[int, int] | None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    # (SQLite's transactions here are IMMEDIATE: they already run one at a time.)
    latest = _catch_up(AuditCheckpoint.objects.order_by("-number").first())
    # With the hash at the seq anchored last, through the (dispute, seq) unique index.
    anchored_hash = AuditEntry.objects.filter(
        dispute_id=OuterRef("pk"), seq=OuterRef("audit_anchored_seq")
    ).values("hash")[:1]
    rows = list(
        Dispute.objects.filter(audit_seq__gt=F("audit_anchored_seq"))
        .order_by("pk")
        .annotate(anchored_hash=Subquery(anchored_hash))
        .values_list("pk", "audit_seq", "audit_head", "audit_anchored_seq", "anchored_hash")[:size]
    )
    if not rows:
        return None
    number = latest.number + 1 if latest else 1
    if latest is not None:
        legacy_until = latest.legacy_until
    else:
        # Every dispute there is now gets anchored by this run; a chain created later is
        # keyed from its first entry.
        legacy_until = Dispute.objects.aggregate(last=Max("pk"))["last"] or 0
    now = timezone.now()
    data = serialize(
        {
            "number": number,
            "previous": latest.digest if latest else "",
            "created_at": now.isoformat(timespec="microseconds"),
            "legacy_until": legacy_until,
            "heads": [
                [pk, seq, head, then, then_hash or ""] for pk, seq, head, then, then_hash in rows
            ],
        }
    )
    name = checkpoint_name(number)
    stored = storage().save(name, ContentFile(data, name=name))
    if stored != name:  # another writer got there first, past the lock: keep nothing of ours
        storage().delete(stored)
        raise AnchorError(f"{name} appeared in the anchor storage while it was being written.")
    AuditCheckpoint.objects.create(
        number=number,
        name=name,
        digest=digest(data),
        heads=len(rows),
        legacy_until=legacy_until,
        created_at=now,
    )
    _mark_anchored([(pk, seq) for pk, seq, *_ in rows])
    return number, len(rows)


def _mark_anchored(rows: list[tuple[int, int]]) -> None:
    """Set ``audit_anchored_seq`` of each ``(dispute id, seq)``: on PostgreSQL in one
    ``UPDATE ... FROM (VALUES ...)`` (``bulk_update``'s CASE of a branch per row costs the
    database a comparison per row and branch, seconds for a batch), one statement per row on
    SQLite, in process."""
    table = connection.ops.quote_name(Dispute._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::bigint, %s::integer)"] * len(rows))
            cursor.execute(
                f"UPDATE {table} SET audit_anchored_seq = v.seq FROM (VALUES {values}) "
                f"AS v(id, seq) WHERE {table}.id = v.id",
                [value for row in rows for value in row],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET audit_anchored_seq = %s WHERE id = %s",
                [(seq, pk) for pk, seq in rows],
            )


def _catch_up(latest: AuditCheckpoint | None) -> AuditCheckpoint | None:
    """The latest checkpoint, counting those stored by a run that failed before its
    commit: each is checked (signature, chaining) and recorded."""
    while True:
        number = latest.number + 1 if latest else 1
        name = checkpoint_name(number)
        if not storage().exists(name):
            return latest
        data = _read(name)
        try:
            document = json.loads(data)
            valid = hmac.compare_digest(str(document.get("signature", "")), signature(document))
        except (ValueError, KeyError, TypeError, UnknownKey):
            valid = False
        if not valid or document.get("previous") != (latest.digest if latest else ""):
            raise AnchorError(
                f"{name} in the anchor storage is not a checkpoint that follows "
                f"checkpoint {number - 1} in the database; run verify_audit."
            )
        latest = AuditCheckpoint.objects.create(
            number=number,
            name=name,
            digest=digest(data),
            heads=len(document["heads"]),
            legacy_until=document["legacy_until"],
            created_at=timezone.now(),
        )


def _read(name: str) -> bytes:
    with storage().open(name, "rb") as f:
        data = f.read()
    return data if isinstance(data, bytes) else data.encode()


# --- reading, for verify_audit ---------------------------------------------------------------


@dataclass
class Anchors:
    """Every checkpoint's heads folded together (the latest per dispute), and what is wrong
    with the checkpoints themselves."""

    heads: dict[int, Anchor] = field(default_factory=dict)
    # Earlier heads of a dispute that no later checkpoint showed its chain still ran through.
    earlier: dict[int, list[Anchor]] = field(default_factory=dict)
    checkpoints: int = 0
    # None while there is no checkpoint: unkeyed entries may then begin any chain.
    legacy_until: int | None = None
    problems: list[str] = field(default_factory=list)

    def of(self, dispute_id: int) -> tuple[Anchor, ...]:
        """The heads the dispute's chain must reproduce."""
        latest = self.heads.get(dispute_id)
        if latest is None:
            return ()
        return (latest, *self.earlier.get(dispute_id, ()))

    def unkeyed_upto(self, dispute_id: int) -> int:
        """The last ``seq`` of the dispute's chain that may be unkeyed: all its entries the
        first checkpoint found, none for a dispute created after it."""
        if self.legacy_until is None:
            return ANY_SEQ
        latest = self.heads.get(dispute_id)
        if latest is not None:
            return latest.seq
        return ANY_SEQ if dispute_id <= self.legacy_until else 0

    def add(self, dispute_id: int, anchor: Anchor, then: int, then_hash: str) -> None:
        """Fold in a head of a later checkpoint, written when the database held
        ``then_hash`` at the ``then`` seq anchored before."""
        before = self.heads.get(dispute_id)
        self.heads[dispute_id] = anchor
        if before is None or (before.seq, before.head) == (then, then_hash):
            return  # the first, or it ran through the head before: that one is implied
        if before.seq != anchor.seq or before.head != anchor.head:
            self.earlier.setdefault(dispute_id, []).append(before)


def checkpoint_names() -> list[str]:
    """The checkpoints in the anchor storage, in order."""
    try:
        return sorted(name for name in storage().listdir("")[1] if _NAME.match(name))
    except FileNotFoundError:  # the local folder is made by the first checkpoint
        return []


def load_anchors() -> Anchors:
    """Read and check every checkpoint in the anchor storage, in order."""
    anchors = Anchors()
    names = checkpoint_names()
    previous = ""
    expected = 1
    for name in names:
        match = _NAME.match(name)
        assert match is not None
        number = int(match.group(1))
        if number != expected:
            missing = f"{expected}" if number == expected + 1 else f"{expected} to {number - 1}"
            anchors.problems.append(f"checkpoint {missing} is missing from the anchor storage")
        expected = number + 1
        data = _read(name)
        problem = _check(anchors, number, data, previous)
        previous = digest(data)
        if problem:
            anchors.problems.append(f"checkpoint {number}: {problem}")
    anchors.checkpoints = len(names)
    recorded = AuditCheckpoint.objects.aggregate(last=Max("number"))["last"] or 0
    if recorded >= expected:
        anchors.problems.append(
            f"checkpoint {expected if recorded == expected else f'{expected} to {recorded}'} "
            "is recorded in the database but missing from the anchor storage"
        )
    return anchors


def _check(anchors: Anchors, number: int, data: bytes, previous: str) -> str:
    """Fold one checkpoint into ``anchors``; what is wrong with it, or ''."""
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return "is not a checkpoint document"
        key_id = str(document.get("key_id", ""))
        try:
            signed = signature(document)
        except UnknownKey:
            return f"is signed with key {key_id!r}, a key that is not configured"
        if not hmac.compare_digest(str(document.get("signature", "")), signed):
            return "its signature does not match its content"
        if document.get("number") != number:
            return f"its content says it is checkpoint {document.get('number')}"
        legacy_until = int(document["legacy_until"])
        heads = [
            (int(pk), Anchor(int(seq), str(head), number), int(then), str(then_hash))
            for pk, seq, head, then, then_hash in document["heads"]
        ]
    except (ValueError, KeyError, TypeError):
        return "is not a checkpoint document"
    if anchors.legacy_until is None:
        anchors.legacy_until = legacy_until
    problem = ""
    if document.get("previous") != previous:
        problem = f"does not follow checkpoint {number - 1}"
    elif legacy_until != anchors.legacy_until:
        problem = "its legacy_until differs from the first checkpoint's"
    # A signed document's heads count even where the chaining is broken: they are ours.
    for pk, anchor, then, then_hash in heads:
        if anchor.seq >= 1:
            anchors.add(pk, anchor, then, then_hash)
    return problem
