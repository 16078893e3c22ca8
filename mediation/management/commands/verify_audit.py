"""``manage.py verify_audit [--dispute ID] [--jobs N]``: recompute the audit hash chains
(DESIGN §8) and check them against the signed checkpoints outside the database.

The checkpoints are read first (:func:`mediation.audit_anchor.load_anchors`): their
signatures and chaining are checked, and each dispute's latest anchored head is held
against its chain.

The scan is :func:`mediation.audit_scan.verify_everything`: the dispute heads and the audit
entries are each read through one cursor in id order and merged, in ``--jobs`` worker
processes over disjoint id ranges. A chain that looks broken is checked once more under the
dispute's row lock, the lock every append takes, so an action recorded while the command
runs is not reported as tampering.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from mediation.audit import Verification
from mediation.audit_anchor import load_anchors
from mediation.audit_scan import (
    CHUNK_SIZE,
    Summary,
    estimate,
    locked_verify,
    verify_everything,
)


class Command(BaseCommand):
    help = (
        "Recompute the tamper-evident audit chain of every dispute (or of one with "
        "--dispute), check it against the signed checkpoints in the anchor storage, and "
        "name the first broken entry of each broken chain. Exits with status 1 when a "
        "chain or a checkpoint is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dispute", type=int, metavar="ID", help="Verify this dispute only.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            help=f"Rows fetched from the database at a time (default {CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            metavar="N",
            help="Worker processes, each verifying its own range of disputes (default: one "
            "per CPU; one for a small log, or inside a transaction, where the ranges are "
            "verified in this process).",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show the progress bar even when stderr is not a terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        jobs = options["jobs"]
        if jobs is not None and jobs < 1:
            raise CommandError("--jobs must be at least 1.")
        stream = getattr(self.stderr, "_out", sys.stderr)
        show = bool(options["progress"]) or stream.isatty()

        try:
            anchors = load_anchors()
        except Exception as exc:  # the storage's own errors: OSError, botocore's ...
            raise CommandError(f"The anchor storage cannot be read: {exc}") from exc
        if options["dispute"] is not None:
            result = locked_verify(options["dispute"], anchors)
            if result is None:
                raise CommandError(f"No dispute {options['dispute']}.")
            summary = Summary()
            summary.anchored_by(anchors)
            summary.add(result)
        else:
            size = estimate()
            with tqdm(
                total=size.entries,
                unit=" entries",
                unit_scale=True,
                desc="Verifying audit chains",
                file=stream,
                disable=not show,
            ) as bar:
                disputes = 0

                def progress(checked: int, entries: int) -> None:
                    nonlocal disputes
                    disputes += checked
                    bar.set_postfix_str(f"{disputes:,} disputes", refresh=False)
                    bar.update(entries)

                summary = verify_everything(
                    jobs=jobs,
                    chunk_size=options["chunk_size"],
                    progress=progress,
                    size=size,
                    anchors=anchors,
                )
                # The total was an estimate from the dispute rows; the bar ends at the count.
                bar.total = bar.n
                bar.refresh()

        for problem in summary.anchor_problems:
            self.stdout.write(self.style.ERROR(f"anchors: {problem}"))
        for broken in summary.broken:
            self.stdout.write(self.style.ERROR(self._describe(broken)))
        checked = summary.disputes
        line = (
            f"Verified {checked:,} dispute{'s' if checked != 1 else ''} "
            f"({summary.entries:,} entries): {summary.intact:,} intact, "
            f"{len(summary.broken):,} broken."
        )
        if options["dispute"] is None:
            line += (
                f" {summary.seconds:.1f} s, {summary.entries_per_second:,.0f} entries/s"
                f" ({summary.jobs} job{'s' if summary.jobs != 1 else ''})."
            )
        anchored = (
            f"Checked {summary.checkpoints:,} checkpoint{'s' if summary.checkpoints != 1 else ''}"
            f" ({summary.anchored:,} anchored heads): "
            f"{len(summary.anchor_problems):,} problem"
            f"{'s' if len(summary.anchor_problems) != 1 else ''}."
        )
        if summary.broken or summary.anchor_problems:
            self.stdout.write(self.style.ERROR(line))
            self.stdout.write(self.style.ERROR(anchored))
            count = len(summary.broken)
            if not count:
                raise CommandError("The audit checkpoints are broken.")
            raise CommandError(f"{count} audit chain{'s are' if count != 1 else ' is'} broken.")
        self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write(self.style.SUCCESS(anchored))

    @staticmethod
    def _describe(result: Verification) -> str:
        return f"dispute {result.dispute_id}: broken at entry {result.broken_at}: {result.problem}"
