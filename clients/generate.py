"""Generate the Python client in clients/python/ from openapi.yaml (``make openapi``).

openapi-python-client writes the whole project (``mediation_client``, its ``setup.py`` and
``README.md``) into a temporary folder, formatted by the locked ruff; the result replaces
clients/python/ but for the modules written by hand (:data:`HAND_WRITTEN`). With
``--check`` nothing is written: it exits 1 and prints the differences when the committed
client is not what openapi.yaml generates (tests/api/test_openapi.py does the same with
:func:`generate`, :func:`files` and :func:`differences`). Offline: the generator reads the
file, and runs from this virtualenv.

    python clients/generate.py [--check]
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "openapi.yaml"
CONFIG = ROOT / "clients" / "openapi-python-client.yaml"
TARGET = ROOT / "clients" / "python"
# Kept across regenerations: the generator knows nothing of them.
HAND_WRITTEN = ("mediation_client/problems.py", "mediation_client/webhooks.py")
# What tools leave in the folder (caches, an editable install's metadata): never compared.
JUNK = ("__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", "build", "dist")


def _is_junk(relative: Path) -> bool:
    return any(part in JUNK or part.endswith(".egg-info") for part in relative.parts)


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the junk, by its path relative to it."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not _is_junk(relative):
            found[relative.as_posix()] = path.read_bytes()
    return found


def generate(output: Path) -> None:
    """openapi-python-client on openapi.yaml into ``output`` (which must not exist)."""
    bin_dir = Path(sys.executable).parent
    # The post hooks run `ruff` by name: this virtualenv's, whoever runs the script.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            *("--path", str(SCHEMA), "--config", str(CONFIG), "--meta", "setup"),
            *("--output-path", str(output), "--fail-on-warning"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}")


def differences(generated: dict[str, bytes], committed: dict[str, bytes]) -> list[str]:
    """A unified diff per file that differs, is missing or is left over (hand-written
    modules aside)."""
    committed = {k: v for k, v in committed.items() if k not in HAND_WRITTEN}
    found = []
    for name in sorted(generated.keys() | committed.keys()):
        new, old = generated.get(name), committed.get(name)
        if new == old:
            continue
        diff = difflib.unified_diff(
            (old or b"").decode().splitlines(keepends=True),
            (new or b"").decode().splitlines(keepends=True),
            f"clients/python/{name} (committed)" if old is not None else "/dev/null",
            f"clients/python/{name} (generated)" if new is not None else "/dev/null",
        )
        found.append("".join(diff) or f"{name}: differs\n")
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    with tempfile.TemporaryDirectory(prefix="mediation-client-") as tmp:
        output = Path(tmp) / "python"
        generate(output)
        generated = files(output)
        if check:
            found = differences(generated, files(TARGET) if TARGET.exists() else {})
            if found:
                sys.stdout.write("".join(found))
                print("clients/python is stale: run `make openapi` and commit the result")
                return 1
            return 0
        committed = files(TARGET) if TARGET.exists() else {}
        # Only what changed is written: an unchanged setup.py keeps its time, so that make
        # does not reinstall the virtualenv after every `make openapi`.
        changed = [name for name, content in generated.items() if committed.get(name) != content]
        gone = [name for name in committed if name not in generated and name not in HAND_WRITTEN]
        for name in gone:
            (TARGET / name).unlink()
        for name in changed:
            (TARGET / name).parent.mkdir(parents=True, exist_ok=True)
            (TARGET / name).write_bytes(generated[name])
        for folder in sorted(TARGET.rglob("*"), reverse=True):  # left empty by a removal
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    print(f"clients/python: {len(changed)} files written, {len(gone)} removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
