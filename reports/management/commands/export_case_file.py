"""``manage.py export_case_file ID [--out FILE.zip] [--as-user USERNAME]`` (DESIGN §7).

Writes the case file of one dispute: by default the full mediator view (as the platform);
with ``--as-user`` what that user may see through the API. The ZIP is produced by the same
generator as ``GET /api/v1/disputes/{id}/case-file/`` and written to a temporary file next
to ``--out``, renamed into place only once complete. Nothing is recorded in the audit log.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mediation.actors import SYSTEM
from mediation.errors import DomainError
from mediation.models import Dispute
from mediation.selectors import dispute_detail_queryset
from reports import case_file


class Command(BaseCommand):
    help = (
        "Export the case file of a dispute (summary.html, timeline.json, audit.json, the "
        "evidence files and manifest.json) as one ZIP. The full mediator view by default; "
        "--as-user exports what that user may see."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dispute", type=int, metavar="ID", help="The dispute's id.")
        parser.add_argument(
            "--out",
            metavar="FILE.zip",
            help="Where to write the ZIP (default: dispute-<ID>-case-file.zip here).",
        )
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help="Export what this user (a party or a mediator) may see.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dispute_id: int = options["dispute"]
        actor: Any = SYSTEM
        if options["as_user"]:
            User = get_user_model()
            try:
                actor = User.objects.select_related("mediator_profile", "integration_account").get(
                    **{User.USERNAME_FIELD: options["as_user"]}
                )
            except User.DoesNotExist:
                raise CommandError(f"No user {options['as_user']!r}.") from None
        try:
            dispute = dispute_detail_queryset(actor, by_id=True).get(pk=dispute_id)
        except Dispute.DoesNotExist:
            if actor is SYSTEM or not Dispute.objects.filter(pk=dispute_id).exists():
                raise CommandError(f"No dispute {dispute_id}.") from None
            raise CommandError(f"{options['as_user']} may not see dispute {dispute_id}.") from None
        try:
            viewer = case_file.viewer_for(dispute, actor)
        except DomainError as exc:
            raise CommandError(f"{options['as_user']}: {exc.message}") from None

        case = case_file.collect(dispute, viewer)
        out = Path(options["out"] or case.filename)
        if not out.parent.is_dir():
            raise CommandError(f"The directory {out.parent} does not exist.")
        size = _write_atomically(out, case_file.stream_zip(case))
        self.stdout.write(self._summary(out, case, size))

    @staticmethod
    def _summary(out: Path, case: case_file.CaseFile, size: int) -> str:
        manifest = case.manifest
        files = len(manifest["files"]) + 1  # the manifest itself
        evidence = sum(1 for f in manifest["files"] if "evidence" in f)
        chain = case.verification
        audit = (
            f"audit chain intact ({chain.entries} entries)"
            if chain.verified
            else f"audit chain BROKEN at entry {chain.broken_at} ({chain.problem})"
        )
        problems = ""
        if manifest["evidence_mismatches"]:
            mismatches = len(manifest["evidence_mismatches"])
            problems += f"; {mismatches} evidence file(s) differ from their upload SHA-256"
        if manifest["missing"]:
            problems += f"; {len(manifest['missing'])} evidence file(s) missing from storage"
        return (
            f"Wrote {out}: dispute {case.dispute_id} as seen by the {case.viewer.role}, "
            f"{files} files ({evidence} evidence), {size} bytes; {audit}{problems}."
        )


def _write_atomically(out: Path, chunks: Any) -> int:
    """Write ``chunks`` to a temporary file beside ``out`` and rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size
