"""Evidence files in storage that no evidence row refers to.

Uploads store the file, then commit the row; a refused or failed upload removes its file
in the same request. A process killed between the two (a worker timeout, an OOM kill, a
power cut) can still leave a file behind. This sweep finds such files and removes them
once they are older than a grace period, so an upload still in flight is never touched.
It also reports rows whose file has gone missing, which it cannot repair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from mediation.models import Evidence

ROOT = "evidence"


@dataclass
class SweepReport:
    scanned: int = 0
    orphaned: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    too_recent: int = 0
    missing: list[int] = field(default_factory=list)


def stored_names(storage: Any = None) -> list[str]:
    """Every file under ``evidence/``: ``evidence/<dispute>/<random name>``."""
    storage = storage or default_storage
    try:
        folders, loose = storage.listdir(ROOT)
    except (FileNotFoundError, NotADirectoryError):
        return []  # nothing uploaded yet
    names = [f"{ROOT}/{name}" for name in loose]
    for folder in folders:
        _, inside = storage.listdir(f"{ROOT}/{folder}")
        names.extend(f"{ROOT}/{folder}/{name}" for name in inside)
    return names


def sweep_evidence_files(
    *, grace: timedelta = timedelta(hours=1), dry_run: bool = False, storage: Any = None
) -> SweepReport:
    storage = storage or default_storage
    report = SweepReport()
    known = set(Evidence.objects.values_list("file", flat=True))
    cutoff = timezone.now() - grace
    names = stored_names(storage)
    report.scanned = len(names)
    for name in names:
        if name in known:
            continue
        try:
            modified = storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            modified = None
        if modified is not None and modified > cutoff:
            report.too_recent += 1
            continue
        report.orphaned.append(name)
        if not dry_run:
            storage.delete(name)
            report.removed.append(name)
    present = set(names)
    report.missing = [
        pk for pk, name in Evidence.objects.values_list("pk", "file") if name not in present
    ]
    return report
