"""``manage.py rebuild_rollups``: recompute the dashboard's rollups (mediation.rollups) from
the disputes, orders and fulfilments, after data was written around the services (a bulk
import, COPY, a restore) or to repair them; ``--check`` only compares."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mediation import rollups


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's rollups from the data (in one transaction). With "
        "--check, only compare them with the data and exit with status 1 if they differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Compare only; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["check"]:
            kept, expected = rollups.snapshot(), rollups.expected()
            differ = [table for table in expected if kept[table] != expected[table]]
            if differ:
                raise CommandError(
                    "The rollups differ from the data in: "
                    + ", ".join(differ)
                    + ". Run manage.py rebuild_rollups."
                )
            self.stdout.write(self.style.SUCCESS("The rollups match the data."))
            return
        written = rollups.rebuild()
        rows = ", ".join(f"{n:,} {name}" for name, n in written.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt the rollups in {time.perf_counter() - started:.1f} s: {rows}."
            )
        )
