"""The README's curl walkthrough, run as written against a live server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from demo.seed import seed

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough_script() -> str:
    text = README.read_text()
    section = text.split("## API walkthrough", 1)[1].split("### Reference", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 5, "the walkthrough's shell blocks are missing"
    return "\n".join(blocks)


def expected_outputs(script: str) -> list[str]:
    """The one-word results the README promises in its trailing comments."""
    return re.findall(r"#\s+([a-z_]+|True)\s*$", script, flags=re.M)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_walkthrough_runs_as_written(transactional_db: Any, live_server: Any) -> None:
    seed()
    script = walkthrough_script()
    expected = expected_outputs(script)
    assert "ruled_for_buyer" in expected and "four_eyes" in expected
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={"API": f"{live_server.url}/api/v1", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    lines = [line.strip() for line in result.stdout.splitlines()]
    position = 0
    for word in expected:
        assert word in lines[position:], f"expected {word!r} after line {position}: {lines}"
        position = lines.index(word, position) + 1
    assert any("ruled" in line for line in lines), lines
