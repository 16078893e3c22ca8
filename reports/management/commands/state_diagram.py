"""Draw the dispute state machine from its transition table, as SVG.

    .venv/bin/python manage.py state_diagram --out docs/state-machine.svg

The committed ``docs/state-machine.svg`` (shown by the README and the console) must equal
this command's output; a test fails while it is stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.diagram import render_svg


class Command(BaseCommand):
    help = "Write the dispute state machine diagram (SVG), generated from the transitions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="-", help="File to write; '-' for stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        svg = render_svg()
        if options["out"] == "-":
            self.stdout.write(svg, ending="")
            return
        path = Path(options["out"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        self.stderr.write(f"Wrote {path}")
