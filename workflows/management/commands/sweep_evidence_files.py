"""``python manage.py sweep_evidence_files``: remove stored evidence files no row refers to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workflows.storage_sweep import sweep_evidence_files


class Command(BaseCommand):
    help = (
        "Remove evidence files left in storage by uploads that never committed (older than "
        "the grace period), and report evidence rows whose file is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=60,
            help="Leave files younger than this alone: their upload may still be running.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = sweep_evidence_files(
            grace=timedelta(minutes=options["grace_minutes"]), dry_run=options["dry_run"]
        )
        verb = "Would remove" if options["dry_run"] else "Removed"
        for name in report.orphaned:
            self.stdout.write(f"{verb} {name}")
        for pk in report.missing:
            self.stderr.write(f"Evidence {pk}: its file is missing from storage.")
        self.stdout.write(
            f"Scanned {report.scanned} files: {len(report.orphaned)} orphaned "
            f"({verb.lower()}), {report.too_recent} too recent to judge, "
            f"{len(report.missing)} evidence rows without their file."
        )
