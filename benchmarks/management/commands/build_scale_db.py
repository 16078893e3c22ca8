"""``manage.py build_scale_db --size 1m``: the scale dataset of ``make bench-scale`` in
``mediation_scale_<size>`` on the PostgreSQL server of ``--server`` (see
:mod:`benchmarks.scale`), reused when already built at that size with the current
migrations::

    .venv/bin/python manage.py build_scale_db --size 10k
    .venv/bin/python manage.py build_scale_db --size 1m --force
    .venv/bin/python manage.py build_scale_db --disputes 5000   # mediation_scale_5000

Prints the time of each phase (migrate, generating and copying, keys and indexes,
sequences, VACUUM ANALYZE) and the row counts.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks import scale

DEFAULT_SERVER = os.environ.get("BENCH_SCALE_SERVER", "postgres://postgres@127.0.0.1:5432")


class Command(BaseCommand):
    help = "Build (or reuse) the PostgreSQL database mediation_scale_<size> by COPY."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", default="10k", help="10k, 100k or 1m (default 10k).")
        parser.add_argument("--disputes", type=int, help="Any number of disputes instead.")
        parser.add_argument("--server", default=DEFAULT_SERVER, help="postgres://user@host:port")
        parser.add_argument("--force", action="store_true", help="Rebuild even if up to date.")

    def handle(self, *args: Any, **options: Any) -> None:
        size = str(options["disputes"]) if options["disputes"] else options["size"].lower()
        if size not in scale.SIZES and not size.isdigit():
            raise CommandError("--size must be 10k, 100k or 1m (or give --disputes N).")
        meta, phases = scale.build_database(
            size, options["server"], force=options["force"], log=self.stderr.write
        )
        out = self.stdout.write
        name = scale.database_name(size)
        if phases:
            out(f"Built {name}:")
            for phase, seconds in phases:
                out(f"  {phase:<55} {seconds:>8.1f} s")
        else:
            out(f"{name} is up to date (schema {meta['schema']['fingerprint']}); reused.")
        for table, count in sorted(meta["dataset"]["counts"].items()):
            out(f"  {table:<32} {count:>12,}")
