"""Evidence (DESIGN §7): typed by content, stored under a random name, audited with its SHA-256.

The API streams the upload to a temporary file (``api.uploads``) and hands it here; this
module decides whether the content is acceptable, checks the quotas under the dispute's
row lock, stores the file through Django's storage API and records the audit entry in the
same transaction. A refused or failed upload leaves nothing in storage.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
from typing import Any

import puremagic
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Count, Q, Sum

from mediation.actors import Actor, human
from mediation.errors import (
    Conflict,
    FileTooLarge,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RuleViolation,
    UnsupportedFileType,
)
from mediation.models import Evidence, EvidenceKind, State
from workflows.archives import MAX_CANDIDATES, TOO_MANY, find_archive
from workflows.base import locked_dispute
from workflows.images import check_dimensions

MAX_NAME = 120
MAX_DESCRIPTION = 5_000
SNIFF_BYTES = 8192
CHUNK = 64 * 1024

# Allowed content types, and the extensions and declared types each one may carry.
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "image/jpeg": ({"jpg", "jpeg", "jpe", "jfif"}, {"image/jpeg", "image/jpg", "image/pjpeg"}),
    "image/png": ({"png"}, {"image/png", "image/x-png"}),
    "image/gif": ({"gif"}, {"image/gif"}),
    "image/webp": ({"webp"}, {"image/webp"}),
    "image/heic": ({"heic", "heif"}, {"image/heic", "image/heif"}),
    "image/heif": ({"heic", "heif"}, {"image/heic", "image/heif"}),
    "application/pdf": ({"pdf"}, {"application/pdf", "application/x-pdf"}),
    "text/plain": ({"txt", "text", "log", "csv", "md"}, {"text/plain", "text/csv"}),
}
# ISO base media files (HEIF, AVIF, MP4...) by their ftyp brands: puremagic calls every
# HEIF image/heif and does not know HEIC files whose major brand is mif1.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1"}
# Declared types that say nothing about the content (curl's default, browsers' fallback).
NEUTRAL_DECLARED = {"", "application/octet-stream", "binary/octet-stream"}


def max_file_bytes() -> int:
    return int(settings.EVIDENCE_MAX_FILE_MB * 1024 * 1024)


def max_total_bytes() -> int:
    return int(settings.EVIDENCE_MAX_TOTAL_MB * 1024 * 1024)


def sanitize_name(name: Any) -> str:
    """The client's name as harmless metadata: NFKC-normalised (so a fullwidth solidus
    cannot become a path separator later), basename only, no control characters or
    NULs, at most 120 characters (keeping the extension), "upload" when nothing is left."""
    name = unicodedata.normalize("NFKC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029"
    )
    name = name.strip().strip(".").strip()
    if len(name) > MAX_NAME:
        stem, ext = os.path.splitext(name)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: MAX_NAME - len(ext)].rstrip() + ext
    return name or "upload"


def _chunks(uploaded_file: Any) -> Any:
    uploaded_file.seek(0)
    yield from uploaded_file.chunks(CHUNK)


def _is_plain_text(uploaded_file: Any) -> bool:
    """UTF-8 throughout, with no NULs or control characters other than whitespace."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in _chunks(uploaded_file):
            text = decoder.decode(chunk)
            if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _iso_media_type(head: bytes) -> str | None:
    """image/heic or image/heif for an HEIF image, "" for another ISO media file (AVIF,
    MP4, QuickTime...), None when the content does not start with an ftyp box."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    end = min(int.from_bytes(head[:4], "big"), len(head))
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in HEIC_BRANDS or (major in HEIF_BRANDS and brands & HEIC_BRANDS):
        return "image/heic"
    if major in HEIF_BRANDS and not brands & {b"avif", b"avis"}:
        return "image/heif"
    return ""


def detect_type(uploaded_file: Any, file_name: str, declared: str) -> str:
    """The content type of the upload, by its content; refuses anything not allowed or a
    file whose content contradicts its declared type or its name's extension."""
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    if not head:
        raise UnsupportedFileType("The file is empty.")
    iso = _iso_media_type(head)
    try:
        matches = [] if iso is not None else puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    detected = ""
    if iso is not None:
        if iso not in ALLOWED:
            raise UnsupportedFileType(
                "Of ISO media files only HEIC and HEIF images are accepted: send JPEG, PNG, "
                "GIF, WebP, HEIC, PDF or plain text."
            )
        detected = iso
    elif matches:
        best = max(m.confidence for m in matches)
        candidates = [m.mime_type for m in matches if m.confidence == best]
        allowed = [mime for mime in candidates if mime in ALLOWED]
        if not allowed:
            # Every ZIP-based format matches a ZIP equally; name the one thing that is sure.
            known = [mime for mime in candidates if mime]
            shown = "application/zip" if "application/zip" in known else (known or ["unknown"])[0]
            raise UnsupportedFileType(
                f"Files of this type ({shown}) are not accepted: send "
                "JPEG, PNG, GIF, WebP, HEIC, PDF or plain text."
            )
        detected = allowed[0]
    elif _is_plain_text(uploaded_file):
        detected = "text/plain"
    else:
        raise UnsupportedFileType(
            "The content is not an accepted type: send JPEG, PNG, GIF, WebP, HEIC, PDF or "
            "plain text (UTF-8)."
        )
    if detected == "text/plain" and not _is_plain_text(uploaded_file):
        raise UnsupportedFileType("Text must be UTF-8 without control characters.")
    archive = None if detected == "text/plain" else find_archive(uploaded_file)
    if archive == TOO_MANY:
        raise UnsupportedFileType(
            f"The file is {detected} holding more than {MAX_CANDIDATES} archive signatures."
        )
    if archive is not None:
        raise UnsupportedFileType(
            f"The file is {detected} with a {archive} archive inside; send the {detected} alone."
        )
    extensions, declared_types = ALLOWED[detected]
    ext = os.path.splitext(file_name)[1].lower().lstrip(".")
    if ext and ext not in extensions:
        raise UnsupportedFileType(f"The content is {detected}, but the file is named .{ext}.")
    declared = (declared or "").split(";")[0].strip().lower()
    if declared not in NEUTRAL_DECLARED and declared not in declared_types:
        raise UnsupportedFileType(f"The content is {detected}, but it was sent as {declared}.")
    uploaded_file.seek(0)
    return detected


def digest(uploaded_file: Any) -> tuple[str, int]:
    """SHA-256 and size; the API's upload handler computed them while streaming."""
    sha = getattr(uploaded_file, "sha256", None)
    size = getattr(uploaded_file, "streamed_size", None)
    if sha is not None and size is not None:
        return sha, size
    h = hashlib.sha256()
    size = 0
    for chunk in _chunks(uploaded_file):
        h.update(chunk)
        size += len(chunk)
    uploaded_file.seek(0)
    return h.hexdigest(), size


def upload_evidence(
    *,
    dispute_id: int,
    actor: Actor,
    uploaded_file: Any,
    description: str = "",
    kind: str = EvidenceKind.OTHER,
    internal: bool = False,
) -> Evidence:
    """A party (while the dispute is open) or a mediator adds a file to the dispute."""
    if uploaded_file is None:
        raise InvalidInput("Attach the file as the multipart field `file`.", field="file")
    if kind not in EvidenceKind.values:
        raise InvalidInput(f"Unknown kind {kind!r}.", field="kind")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"Keep the description under {MAX_DESCRIPTION} characters.", field="description"
        )
    file_name = sanitize_name(getattr(uploaded_file, "name", ""))
    sha256, size = digest(uploaded_file)
    if size > max_file_bytes():
        raise FileTooLarge(
            f"A file may be at most {settings.EVIDENCE_MAX_FILE_MB} MB.", limit=max_file_bytes()
        )
    content_type = detect_type(
        uploaded_file, file_name, getattr(uploaded_file, "content_type", "") or ""
    )
    width, height = check_dimensions(uploaded_file, content_type) or (None, None)
    stored: str | None = None
    try:
        with locked_dispute(dispute_id, actor) as ctx:
            roles = ctx.roles
            staff = roles.mediator is not None
            party = roles.party
            if internal and not staff:
                raise Forbidden("Only mediators add internal evidence.")
            if not (staff or party):
                raise Forbidden("Only the parties and mediators add evidence.")
            if ctx.dispute.state == State.CLOSED and not staff:
                raise InvalidTransition("The dispute is closed; evidence can no longer be added.")
            if party and not staff:
                _check_quota(ctx.dispute, party, size)
            path = f"evidence/{ctx.dispute.pk}/{uuid.uuid4().hex}"
            stored = default_storage.save(path, uploaded_file)
            evidence = Evidence.objects.create(
                dispute=ctx.dispute,
                uploaded_by=human(actor),
                uploader_role=roles.label(),
                party="" if staff else (party or ""),
                kind=kind,
                description=description,
                file=stored,
                file_name=file_name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                width=width,
                height=height,
                internal=internal,
            )
            ctx.record(
                "evidence_internal" if internal else "evidence",
                {
                    "evidence": evidence.pk,
                    "kind": kind,
                    "file_name": file_name,
                    "content_type": content_type,
                    "size": size,
                    "sha256": sha256,
                    "internal": internal,
                },
                internal=internal,
            )
    except BaseException:
        if stored is not None:
            default_storage.delete(stored)
        raise
    return evidence


def _check_quota(dispute: Any, party: str, size: int) -> None:
    used = Evidence.objects.filter(dispute=dispute, party=party).aggregate(
        files=Count("id"), total=Sum("size")
    )
    files, total = used["files"] or 0, used["total"] or 0
    if files + 1 > settings.EVIDENCE_MAX_FILES:
        raise RuleViolation(
            f"The {party} has already added {files} files to this dispute "
            f"(at most {settings.EVIDENCE_MAX_FILES}).",
            code="evidence_quota_exceeded",
        )
    if total + size > max_total_bytes():
        raise RuleViolation(
            f"The {party}'s evidence on this dispute would exceed "
            f"{settings.EVIDENCE_MAX_TOTAL_MB} MB.",
            code="evidence_quota_exceeded",
        )


def visible_evidence(dispute: Any, *, staff: bool, party: str | None) -> Any:
    """What the caller may see: mediators everything; parties no internal items and no
    withdrawn items of the other party."""
    qs = Evidence.objects.filter(dispute=dispute).select_related("uploaded_by")
    if staff:
        return qs
    return qs.filter(internal=False).filter(Q(withdrawn=False) | Q(party=party or "-"))


def withdraw_evidence(*, dispute_id: int, evidence_id: int, actor: Actor) -> Evidence:
    """The uploader withdraws their own item, once; it stays in the audit log."""
    with locked_dispute(dispute_id, actor) as ctx:
        staff = ctx.roles.mediator is not None
        try:
            evidence = visible_evidence(ctx.dispute, staff=staff, party=ctx.roles.party).get(
                pk=int(evidence_id)
            )
        except (Evidence.DoesNotExist, TypeError, ValueError):
            raise NotFound("No such evidence on this dispute.") from None
        if evidence.uploaded_by_id != actor.pk:
            raise Forbidden("You may withdraw only your own evidence.")
        if evidence.withdrawn:
            raise Conflict("This evidence has been withdrawn already.", code="already_withdrawn")
        evidence.withdrawn = True
        evidence.withdrawn_at = ctx.now
        evidence.save(update_fields=["withdrawn", "withdrawn_at"])
        ctx.record(
            "evidence_withdrawn",
            {"evidence": evidence.pk, "file_name": evidence.file_name, "sha256": evidence.sha256},
            internal=evidence.internal,
        )
    return evidence
