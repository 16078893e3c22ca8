"""``python manage.py sweep_deadlines``: what the every-minute Celery beat task does, by hand.

Applies every due deadline transition (DESIGN §4), flags SLA breaches and sends due
reminders; ``--dry-run`` lists what is due and changes nothing. A backlog shows a progress
bar on a terminal. Safe next to a running beat task: the two share the work.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from workflows import sweeper


class ProgressBar:
    """A progress bar drawn on ``stream`` (a terminal), at most ten times a second."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.started = time.monotonic()
        self.drawn_at = 0.0

    def __call__(self, step: int) -> None:
        self.done += step
        now = time.monotonic()
        if now - self.drawn_at >= 0.1 or self.done >= self.total:
            self.drawn_at = now
            self.draw(now)

    def draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0)
        filled = int(share * self.WIDTH)
        rate = self.done / max(now - self.started, 1e-6)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{self.done}/{self.total} ({rate:,.0f}/s)"
        )
        self.stream.flush()

    def close(self) -> None:
        self.draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Apply every due deadline transition, flag SLA breaches of the platform's queue and "
        "send due reminders (what the periodic task does every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is due; change nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Disputes locked and handled per transaction (default SWEEP_BATCH_SIZE).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar, even on a terminal."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["dry_run"]:
            self._dry_run(now)
            return
        bar: ProgressBar | None = None
        stream = sys.stderr
        if not options["no_progress"] and stream.isatty():
            total = sweeper.count_due(now)
            if total:
                bar = ProgressBar(total, stream)
        try:
            report = sweeper.sweep(batch_size=options["batch_size"], progress=bar)
        finally:
            if bar is not None:
                bar.close()
        t, f, r = report.transitions, report.sla_flags, report.reminders
        fb = report.feedback_reminders
        passes = (t, f, r, fb)
        for pk in [pk for p in passes for pk in p.failed]:
            self.stderr.write(f"Dispute {pk}: failed, see the log; left for the next sweep.")
        rate = t.applied / report.seconds if report.seconds and t.applied else 0
        self.stdout.write(
            f"Applied {t.applied} deadline transitions, flagged {f.applied} overdue disputes, "
            f"sent {r.applied} reminders and {fb.applied} requests for feedback in "
            f"{report.seconds:.1f} s ({rate:,.0f} transitions/s); "
            f"{sum(p.skipped for p in passes)} already handled elsewhere, "
            f"{sum(len(p.failed) for p in passes)} failed."
        )

    def _dry_run(self, now: Any) -> None:
        due = sweeper.due(now)
        for d in due.transitions:
            self.stdout.write(
                f"Would apply the deadline of dispute {d.pk} "
                f"({d.state}, due {d.respond_by:%Y-%m-%d %H:%M})"
            )
        for d in due.sla_flags:
            self.stdout.write(
                f"Would flag dispute {d.pk} overdue ({d.state}, due {d.respond_by:%Y-%m-%d %H:%M})"
            )
        for d in due.reminders:
            self.stdout.write(
                f"Would remind the {sweeper.reminded_party(d)} of dispute {d.pk} "
                f"(due {d.respond_by:%Y-%m-%d %H:%M})"
            )
        for d in due.feedback_reminders:
            self.stdout.write(
                f"Would ask for feedback on dispute {d.pk} (closed {d.closed_at:%Y-%m-%d %H:%M})"
            )
        self.stdout.write(
            f"Due: {len(due.transitions)} deadline transitions, {len(due.sla_flags)} SLA "
            f"breaches, {len(due.reminders)} reminders, {len(due.feedback_reminders)} requests "
            "for feedback (dry run: nothing changed)."
        )
