"""Without Chromium the browser tests skip with the reason, except where they are required
(``BROWSER_TESTS_REQUIRED=1``, set by ``.ci/run`` after it installs Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demo import tour
from tests.browser.conftest import _require_browser

CI_RUN = Path(__file__).resolve().parents[2] / ".ci" / "run"


def test_missing_chromium_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tour, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("BROWSER_TESTS_REQUIRED", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match="Chromium is not installed at /nonexistent/chromium"
    ):
        _require_browser()


def test_missing_chromium_fails_where_browser_tests_are_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tour, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("BROWSER_TESTS_REQUIRED", "1")
    with pytest.raises(
        pytest.fail.Exception, match="BROWSER_TESTS_REQUIRED=1 but Chromium is not installed"
    ):
        _require_browser()


def test_ci_installs_chromium_and_requires_the_browser_tests() -> None:
    script = CI_RUN.read_text()
    assert "CHROMIUM=/usr/bin/chromium" in script
    assert "apt-get install -y -qq chromium chromium-driver" in script
    assert "playwright install" not in script
    # Chromium is ensured, and the requirement exported, before the first test run.
    first_run = script.index('run_pytest "make test"')
    assert re.search(r"^\s*ensure_chromium$", script[:first_run], re.MULTILINE)
    assert re.search(r"^\s*export BROWSER_TESTS_REQUIRED=1$", script[:first_run], re.MULTILINE)
