"""Browser tests: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright against
pytest-django's live server.

Without Chromium they are skipped with the reason; with ``BROWSER_TESTS_REQUIRED=1`` (set by
``.ci/run``, which installs Chromium) a missing browser fails them instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from demo.tour import chromium_missing, launch

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _require_browser() -> None:
    missing = chromium_missing()
    if missing is None:
        return
    if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
        pytest.fail(f"BROWSER_TESTS_REQUIRED=1 but {missing}", pytrace=False)
    pytest.skip(f"browser tests skipped: {missing}")


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless Chromium for one test. Playwright's sync API keeps an event loop in this
    thread, which Django's ORM takes for an async context; the test's own ORM calls are
    synchronous, so they are allowed while the browser runs (and only then). The database
    connections they open belong to that context: they are closed before it ends, or
    PostgreSQL could not drop the test database at the end of the run."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            connections.close_all()
            browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """``test-artifacts/browser/<test name>/``, emptied first; screenshots of each step."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder
