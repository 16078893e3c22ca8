"""The README's console pictures (``manage.py console_screenshots``): committed, small, and
re-deflated without touching a pixel."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from demo.management.commands.console_screenshots import PNG_SIGNATURE, recompress_png

ROOT = Path(__file__).resolve().parents[2]
PICTURES = ["queue.png", "case.png", "dashboard.png"]


def _size_and_pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = len(PNG_SIGNATURE), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return (width, height), zlib.decompress(idat)


@pytest.mark.parametrize("name", PICTURES)
def test_readme_shows_each_console_picture(name: str) -> None:
    path = ROOT / "docs" / "console" / name
    size, _ = _size_and_pixels(path.read_bytes())
    assert size == (1280, 800)
    assert path.stat().st_size < 200_000
    assert f"(docs/console/{name})" in (ROOT / "README.md").read_text()


def test_recompressing_keeps_every_pixel(tmp_path: Path) -> None:
    original = (ROOT / "docs" / "console" / "queue.png").read_bytes()
    # The same picture as the browser writes it: quickly deflated, in two IDAT chunks.
    header, pixels = original[:33], _size_and_pixels(original)[1]
    fast = zlib.compress(pixels, 1)
    half = len(fast) // 2

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    copy = tmp_path / "copy.png"
    copy.write_bytes(
        header + chunk(b"IDAT", fast[:half]) + chunk(b"IDAT", fast[half:]) + chunk(b"IEND", b"")
    )
    before = copy.stat().st_size
    recompress_png(copy)
    assert copy.stat().st_size < before
    assert _size_and_pixels(copy.read_bytes()) == ((1280, 800), pixels)
