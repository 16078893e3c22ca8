"""``manage.py anchor_audit [--batch-size N]``: what beat's ``anchor-audit-heads`` does, by
hand (DESIGN §8)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mediation.audit_anchor import AnchorError, anchor_heads


class Command(BaseCommand):
    help = (
        "Write signed checkpoints of the audit heads that changed since the last checkpoint "
        "to the anchor storage (AUDIT_ANCHOR_BACKEND), outside the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=settings.AUDIT_ANCHOR_BATCH_SIZE,
            help="Heads per checkpoint (default AUDIT_ANCHOR_BATCH_SIZE, "
            f"{settings.AUDIT_ANCHOR_BATCH_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            report = anchor_heads(batch_size=options["batch_size"])
        except AnchorError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # a local folder that cannot be written
            raise CommandError(f"The anchor storage cannot be written: {exc}") from exc
        if not report.checkpoints:
            self.stdout.write("No audit head changed since the last checkpoint.")
            return
        first, last = report.checkpoints[0], report.checkpoints[-1]
        numbers = f"{first}" if first == last else f"{first} to {last}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Anchored {report.heads:,} head{'s' if report.heads != 1 else ''} "
                f"in checkpoint{'s' if first != last else ''} {numbers}."
            )
        )
