"""The case file (DESIGN §7): one ZIP per dispute for a payment processor or a court.

Two steps, both free of HTTP:

* :func:`collect` reads, in a fixed number of queries, everything the viewer may see
  (:func:`viewer_for` decides who that is) and renders the small documents: the readable
  ``summary.html``, ``timeline.json`` (what the timeline endpoint gives the same caller)
  and ``audit.json`` (what the audit endpoint gives them, hashes included);
* :func:`stream_zip` is a generator of bytes: it writes the documents, every visible
  evidence file and last ``manifest.json`` into :class:`zipfile.ZipFile` over a
  write-only sink, and yields each piece as soon as it is produced. Evidence files are
  read from storage in 64 KB chunks and hashed on the way, so memory does not grow with
  their size; the SHA-256 of each packed file is compared with the one stored at upload.

Nothing here writes to the database: exporting is a read and is not audited.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, cast

from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.fields import DateTimeField

from mediation import audit
from mediation.models import (
    AuditEntry,
    Dispute,
    Evidence,
    Fulfilment,
)
from mediation.money import format_money
from mediation.selectors import audit_entries, messages_for
from reports.timeline import timeline
from workflows import visibility
from workflows.evidence import sanitize_name, visible_evidence
from workflows.visibility import Viewer

CHUNK = 64 * 1024
SUMMARY = "summary.html"
TIMELINE = "timeline.json"
AUDIT = "audit.json"
MANIFEST = "manifest.json"
TEMPLATE = "reports/case_file_summary.html"
# Characters some systems refuse in file names, replaced in the paths inside the ZIP.
_UNSAFE_PATH_CHARS = re.compile(r'[<>:"|?*\\/]')


# --- Who is asking ---------------------------------------------------------------------------


def viewer_for(dispute: Dispute, user: Any) -> Viewer:
    """The parties and the mediators may have a case file; the system (the export
    command) gets the full mediator view. ``dispute`` must be one the user may see (the
    API's lookup answers 404 otherwise); anyone else who sees it is refused (403)."""
    return visibility.party_or_mediator(dispute, user, what="The case file")


# --- What goes in ---------------------------------------------------------------------------


@dataclass
class CaseFile:
    """Everything the ZIP holds for one viewer, read before the first byte is sent."""

    dispute_id: int
    viewer: Viewer
    generated_at: datetime
    verification: audit.Verification
    documents: list[tuple[str, bytes]]  # (path, content): summary, timeline, audit
    evidence: list[Evidence]
    # Filled in by stream_zip as it goes: the manifest it wrote last.
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"dispute-{self.dispute_id}-case-file.zip"


def evidence_path(item: Evidence) -> str:
    """``evidence/<id>-<name>``: the sanitized client name, safe to extract anywhere."""
    name = _UNSAFE_PATH_CHARS.sub("_", sanitize_name(item.file_name))
    return f"evidence/{item.pk}-{name}"


def iso(value: datetime | None) -> str | None:
    """A timestamp as the API renders it."""
    return None if value is None else DateTimeField().to_representation(value)


def _verified(dispute: Dispute) -> tuple[list[AuditEntry], audit.Verification]:
    entries = audit_entries(dispute)
    result = audit.verify_entries(dispute, entries)
    if not result.verified:
        # An action may have been recorded between reading the dispute and its entries:
        # read the head and the chain once more before calling it broken.
        head = Dispute.objects.only("id", "audit_seq", "audit_head").get(pk=dispute.pk)
        entries = audit_entries(head)
        result = audit.verify_entries(head, entries)
    return entries, result


def audit_rows(entries: list[AuditEntry], viewer: Viewer) -> list[dict[str, Any]]:
    """The entries as the audit endpoint shows them: every entry with its hashes, and for
    the parties the payload of a mediators-only entry redacted."""
    rows = []
    for entry in entries:
        rows.append(
            {
                "seq": entry.seq,
                "created_at": iso(entry.created_at),
                "actor": entry.actor_display,
                "actor_role": entry.actor_role,
                "action": entry.action,
                "from_state": entry.from_state,
                "to_state": entry.to_state,
                "payload": visibility.audit_payload(entry, staff=viewer.staff),
                "visibility": entry.visibility,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            }
        )
    return rows


def timeline_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as the timeline endpoint gives them to the same caller."""
    return [{**event, "at": iso(event["at"])} for event in events]


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def collect(dispute: Dispute, viewer: Viewer, *, now: datetime | None = None) -> CaseFile:
    """Read what ``viewer`` may see of ``dispute`` and render the documents.

    ``dispute`` comes from ``mediation.selectors.dispute_detail_queryset`` (order, shop,
    buyer, assignee and policy joined; offers and rulings prefetched). The number of
    queries does not depend on the number of messages, entries or evidence items.
    """
    now = now or timezone.now()
    entries, verification = _verified(dispute)
    evidence = list(
        visible_evidence(dispute, staff=viewer.staff, party=viewer.party).order_by("id")
    )
    # The timeline as the endpoint gives it to the same caller, from the entries read
    # above: a file the other party withdrew (referenced, not visible) is not named.
    shown = {e.pk for e in evidence}
    referenced = {e.payload.get("evidence") for e in entries if isinstance(e.payload, dict)} - {
        None
    }
    events = timeline(
        dispute,
        include_internal=viewer.staff,
        party=viewer.party,
        entries=entries,
        hidden_evidence={int(i) for i in referenced if isinstance(i, int)} - shown,
    )
    summary = render_summary(dispute, viewer, now, verification, evidence, events)
    audit_doc = {
        "entries": audit_rows(entries, viewer),
        "verified": verification.verified,
        "broken_at": verification.broken_at,
        "problem": verification.problem,
    }
    return CaseFile(
        dispute_id=dispute.pk,
        viewer=viewer,
        generated_at=now,
        verification=verification,
        documents=[
            (SUMMARY, summary.encode()),
            (TIMELINE, _json(timeline_rows(events))),
            (AUDIT, _json(audit_doc)),
        ],
        evidence=evidence,
    )


# --- The readable summary -----------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _name(user: Any) -> str:
    if user is None:
        return ""
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def render_summary(
    dispute: Dispute,
    viewer: Viewer,
    now: datetime,
    verification: audit.Verification,
    evidence: list[Evidence],
    events: list[dict[str, Any]],
) -> str:
    order = dispute.order
    currency = order.currency

    def money(amount: int) -> str:
        return format_money(amount, currency)

    disputed = set(dispute.items.values_list("id", flat=True))
    items = [
        {
            "sku": item.sku,
            "title": item.title,
            "quantity": item.quantity,
            "unit_price": money(item.unit_price),
            "line_total": money(item.unit_price * item.quantity),
            "disputed": item.pk in disputed,
        }
        for item in order.items.all()
    ]
    # As the API shows them.
    offers = visibility.visible_offers(
        dispute, to_buyer=viewer.party == "buyer" and not viewer.staff
    )
    rulings = visibility.visible_rulings(dispute, staff=viewer.staff)
    fulfilments = Fulfilment.objects.filter(dispute=dispute).select_related("recorded_by")
    messages = messages_for(dispute, include_internal=viewer.staff)
    policy = dispute.policy_version
    context = {
        "dispute": dispute,
        "viewer": viewer,
        "generated_at": _when(now),
        "state": dispute.get_state_display(),
        "outcome": dispute.get_outcome_display(),
        "reason": dispute.get_reason_display(),
        "requested_outcome": dispute.get_requested_outcome_display(),
        "requested_amount": money(dispute.requested_amount) if dispute.requested_amount else "",
        "escalation_reason": dispute.get_escalation_reason_display(),
        "opened_at": _when(dispute.created_at),
        "closed_at": _when(dispute.closed_at),
        "ruled_at": _when(dispute.ruled_at),
        "buyer": _name(dispute.buyer),
        "mediator": _name(dispute.assigned_to),
        "agreement": (
            {
                "kind": dispute.get_agreed_kind_display(),
                "amount": money(dispute.agreed_amount),
                "funded_by": dispute.get_funded_by_display(),
                "delivered": money(dispute.delivered_amount),
            }
            if dispute.agreed_kind
            else None
        ),
        "order": {
            "external_id": order.external_id,
            "placed_at": _when(order.placed_at),
            "shipped_at": _when(order.shipped_at),
            "delivered_at": _when(order.delivered_at),
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
            "total": money(order.total),
            "shipping": money(order.shipping),
            "grand_total": money(order.total + order.shipping),
            "refunded": money(order.refunded_total),
        },
        "shop": dispute.shop,
        "items": items,
        "whole_order": not disputed,
        "policy": (
            {
                "version": policy.version,
                "effective_from": _when(policy.effective_from),
                "text": policy.text,
                "sha256": policy.sha256,
            }
            if policy
            else None
        ),
        "offers": [
            {
                "at": _when(o.created_at),
                "side": o.get_side_display(),
                "author": _name(o.author),
                "kind": o.get_kind_display(),
                "amount": money(o.amount),
                "status": o.get_status_display(),
                "approved_by": _name(o.approved_by),
                "decided_at": _when(o.decided_at),
                "note": o.note,
            }
            for o in offers
        ],
        "rulings": [
            {
                "at": _when(r.created_at),
                "kind": r.get_kind_display(),
                "amount": money(r.amount),
                "funded_by": r.get_funded_by_display(),
                "status": r.get_status_display(),
                "proposer": _name(r.proposer),
                "approver": _name(r.approver),
                "decided_at": _when(r.decided_at),
                "decision_note": r.decision_note,
                "rationale": r.rationale,
            }
            for r in rulings
        ],
        "fulfilments": [
            {
                "at": _when(f.created_at),
                "kind": f.get_kind_display(),
                "amount": money(f.amount) if f.amount else "",
                "reference": f.reference,
                "carrier": f.carrier,
                "tracking_number": f.tracking_number,
                "recorded_by": _name(f.recorded_by),
            }
            for f in fulfilments
        ],
        "messages": [
            {
                "at": _when(m.created_at),
                "author": _name(m.author),
                "role": m.author_role.replace("_", " "),
                "body": m.body,
                "internal": m.internal,
                "reported": m.reported,
            }
            for m in messages
        ],
        "evidence": [
            {
                "id": e.pk,
                "path": evidence_path(e),
                "file_name": e.file_name,
                "kind": e.get_kind_display(),
                "description": e.description,
                "uploaded_by": e.uploader_role.replace("_", " "),
                "at": _when(e.created_at),
                "content_type": e.content_type,
                "size": _size(e.size),
                "sha256": e.sha256,
                "internal": e.internal,
                "withdrawn": e.withdrawn,
                "withdrawn_at": _when(e.withdrawn_at),
            }
            for e in evidence
        ],
        "timeline": [
            {"at": _when(e["at"]), "actor": e["actor"], "summary": e["summary"], "note": e["note"]}
            for e in events
        ],
        "verification": verification,
    }
    return render_to_string(TEMPLATE, context)


# --- The ZIP, as a stream ------------------------------------------------------------------------


class _Sink:
    """A write-only, non-seekable file for ``zipfile``: it keeps what was written until
    the generator hands it on. Without ``tell``/``seek``, ``zipfile`` writes each entry's
    sizes and CRC in a data descriptor after its data instead of seeking back."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes) -> int:
        if data:
            self._pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self._pieces:
            chunk = b"".join(self._pieces)
            self._pieces.clear()
            yield chunk


def _info(path: str, when: datetime, compress_type: int, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=when.astimezone(UTC).timetuple()[:6])
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16
    info.file_size = size  # a hint (ZIP64 or not); the real size is written after the data
    return info


def stream_zip(case: CaseFile, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """The case file as bytes, produced piece by piece.

    Documents (HTML, JSON) are deflated; evidence files, mostly compressed images and
    PDFs already, are stored as they are. Each evidence file is read in ``chunk_size``
    pieces and its SHA-256 computed while it streams; the manifest, written last, lists
    every other file with its size and SHA-256 and flags an evidence file whose hash
    differs from the one recorded at upload, or that is missing from storage.
    """
    when = case.generated_at
    sink = _Sink()
    files: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    with zipfile.ZipFile(cast(IO[bytes], sink), mode="w", allowZip64=True) as zf:
        for path, content in case.documents:
            zf.writestr(_info(path, when, zipfile.ZIP_DEFLATED, len(content)), content)
            files.append(
                {"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            )
            yield from sink.drain()
        for item in case.evidence:
            described = {
                "evidence": item.pk,
                "file_name": item.file_name,
                "content_type": item.content_type,
                "uploaded_by": item.uploader_role,
                "internal": item.internal,
                "withdrawn": item.withdrawn,
                "stored_sha256": item.sha256,
                "stored_size": item.size,
            }
            # Open and read the first chunk before the entry starts, so that a file the
            # storage cannot give (a local file or an S3 object gone) is left out and named.
            handle = None
            try:
                handle = item.file.open("rb")
                pieces = handle.chunks(chunk_size)
                first = next(pieces, b"")
            except Exception as exc:
                if handle is not None:
                    handle.close()
                problem = (
                    "the file is missing from storage"
                    if isinstance(exc, FileNotFoundError)
                    else f"the file could not be read from storage ({type(exc).__name__})"
                )
                missing.append({**described, "problem": problem})
                continue
            path = evidence_path(item)
            digest = hashlib.sha256()
            size = 0
            with handle, zf.open(_info(path, when, zipfile.ZIP_STORED, item.size), "w") as dest:
                for chunk in itertools.chain([first], pieces):
                    digest.update(chunk)
                    size += len(chunk)
                    dest.write(chunk)
                    yield from sink.drain()
            sha256 = digest.hexdigest()
            files.append(
                {
                    "path": path,
                    "size": size,
                    "sha256": sha256,
                    **described,
                    "sha256_matches": sha256 == item.sha256,
                }
            )
            yield from sink.drain()
        case.manifest = {
            "dispute": case.dispute_id,
            "generated_at": iso(when),
            "generated_for": case.viewer.role,
            "audit_chain": case.verification.as_dict(),
            "files": files,
            "missing": missing,
            "evidence_mismatches": [f["path"] for f in files if f.get("sha256_matches") is False],
            "note": (
                "Sizes and SHA-256 sums are of the files as packed in this ZIP; "
                "stored_sha256 is the sum recorded when the evidence was uploaded. "
                "The manifest does not list itself."
            ),
        }
        manifest = _json(case.manifest)
        zf.writestr(_info(MANIFEST, when, zipfile.ZIP_DEFLATED, len(manifest)), manifest)
        yield from sink.drain()
    yield from sink.drain()  # the central directory
