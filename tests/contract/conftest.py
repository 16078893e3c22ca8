"""The contract run's report: a line as each role starts and ends, and the summary table at
the end of pytest's output, whatever its capture settings (-s or not)."""

from __future__ import annotations

from typing import Any

import pytest

SUMMARIES: list[str] = []
_CONFIG: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG[:] = [config]


def progress(line: str) -> None:
    """Write ``line`` to the terminal now, past pytest's capture of the test's output."""
    if not _CONFIG:
        print(line)
        return
    capture: Any = _CONFIG[0].pluginmanager.getplugin("capturemanager")
    reporter: Any = _CONFIG[0].pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for summary in SUMMARIES:
        terminalreporter.section("contract", sep="-")
        terminalreporter.write_line(summary)
