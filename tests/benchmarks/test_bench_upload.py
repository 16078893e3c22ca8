"""The upload benchmark runs end to end (a small body, so the suite stays fast)."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import call_command


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_bench_upload_streams_and_reports() -> None:
    out = io.StringIO()
    call_command("bench_upload", "--mb", "12", stdout=out)
    text = out.getvalue()
    assert "201 (stored, SHA-256 matches)" in text
    assert "growth / body" in text
    assert "declared 2 GB body   413 file_too_large" in text
    assert "PASS" in text
