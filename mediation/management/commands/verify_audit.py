"""``manage.py verify_audit [--dispute ID]``: recompute the audit hash chains (DESIGN §8).

Disputes are read in primary-key order in chunks, with the entries of a whole chunk in one
query, and checked with :func:`mediation.audit.verify_entries`. A chain that looks broken
is checked once more with :func:`mediation.audit.verify` under the dispute's row lock, the
lock every append takes, so an action recorded while the command runs is not reported as
tampering.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from mediation.audit import Verification, verify, verify_entries
from mediation.models import AuditEntry, Dispute

CHUNK_SIZE = 500


def _locked_verify(dispute_id: int) -> Verification | None:
    """Verify one chain while appends to it are blocked; None if the dispute is gone."""
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update()
            .only("id", "audit_seq", "audit_head")
            .filter(pk=dispute_id)
            .first()
        )
        return None if dispute is None else verify(dispute)


def _chunks(chunk_size: int) -> Iterator[list[Dispute]]:
    disputes = Dispute.objects.order_by("pk").only("id", "audit_seq", "audit_head")
    chunk: list[Dispute] = []
    for dispute in disputes.iterator(chunk_size=chunk_size):
        chunk.append(dispute)
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def verify_all(chunk_size: int = CHUNK_SIZE) -> Iterator[Verification]:
    """A verification per dispute, in primary-key order."""
    for chunk in _chunks(chunk_size):
        entries: dict[int, list[AuditEntry]] = defaultdict(list)
        rows = AuditEntry.objects.filter(dispute_id__in=[d.pk for d in chunk]).order_by(
            "dispute_id", "seq"
        )
        for entry in rows.iterator(chunk_size=2000):
            entries[entry.dispute_id].append(entry)
        for dispute in chunk:
            result = verify_entries(dispute, entries.get(dispute.pk, []))
            if not result.verified:
                # Confirm under the row lock: an append may have landed between the reads.
                confirmed = _locked_verify(dispute.pk)
                if confirmed is None:  # deleted meanwhile; nothing left to verify
                    continue
                result = confirmed
            yield result


class Command(BaseCommand):
    help = (
        "Recompute the tamper-evident audit chain of every dispute (or of one with "
        "--dispute) and name the first broken entry of each broken chain. Exits with "
        "status 1 when a chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dispute", type=int, metavar="ID", help="Verify this dispute only.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            help=f"Disputes read per query (default {CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show the progress bar even when stderr is not a terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if options["dispute"] is not None:
            result = _locked_verify(options["dispute"])
            if result is None:
                raise CommandError(f"No dispute {options['dispute']}.")
            results: Iterator[Verification] = iter([result])
            total = 1
        else:
            total = Dispute.objects.count()
            results = verify_all(options["chunk_size"])

        stream = getattr(self.stderr, "_out", sys.stderr)
        show = bool(options["progress"]) or stream.isatty()
        checked = entries = 0
        broken: list[Verification] = []
        with tqdm(
            total=total,
            unit="dispute",
            desc="Verifying audit chains",
            file=stream,
            disable=not show,
        ) as bar:
            for result in results:
                bar.update(1)
                checked += 1
                entries += result.entries
                if not result.verified:
                    broken.append(result)

        for result in broken:
            self.stdout.write(self.style.ERROR(self._describe(result)))
        summary = (
            f"Verified {checked} dispute{'s' if checked != 1 else ''} "
            f"({entries} entries): {checked - len(broken)} intact, {len(broken)} broken."
        )
        if broken:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(
                f"{len(broken)} audit chain{'s are' if len(broken) != 1 else ' is'} broken."
            )
        self.stdout.write(self.style.SUCCESS(summary))

    @staticmethod
    def _describe(result: Verification) -> str:
        return f"dispute {result.dispute_id}: broken at entry {result.broken_at}: {result.problem}"
