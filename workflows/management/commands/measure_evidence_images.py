"""``python manage.py measure_evidence_images``: record the pixel dimensions of image
evidence stored before they were recorded at upload, so the console may show it inline."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from workflows.images import measure_stored_images


class Command(BaseCommand):
    help = (
        "Read the header of each image evidence file without recorded dimensions and record "
        "them; images beyond EVIDENCE_MAX_IMAGE_PIXELS / _SIDE stay links in the console."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = measure_stored_images()
        for pk in report.beyond_limits:
            self.stdout.write(f"Evidence {pk}: beyond the image limits, shown as a link only.")
        for pk in report.unreadable:
            self.stderr.write(f"Evidence {pk}: its image header cannot be read.")
        for pk in report.missing:
            self.stderr.write(f"Evidence {pk}: its file is missing from storage.")
        self.stdout.write(
            f"Measured {report.measured} images: {len(report.beyond_limits)} beyond the "
            f"limits, {len(report.unreadable)} unreadable, {len(report.missing)} missing."
        )
