"""Tiny real files of each accepted type, made in memory."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def gif() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


@cache
def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def jpeg() -> bytes:
    """A 2x2 baseline JPEG, as Pillow writes it."""
    return _jpeg()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def webp() -> bytes:
    """A 1x1 lossless WebP: RIFF container, WEBP form, one VP8L chunk (13 bytes, padded)."""
    vp8l = b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07"
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ispe(width: int, height: int) -> bytes:
    """An HEIF image spatial extents property (a full box: version and flags, then sizes)."""
    return _box(b"ispe", bytes(4) + struct.pack(">II", width, height))


def heic(
    major: bytes = b"heic",
    compatible: tuple[bytes, ...] = (b"mif1", b"heic"),
    sizes: tuple[tuple[int, int], ...] = ((4032, 3024), (512, 512)),
) -> bytes:
    """The header of an HEIF image as phones write it: an ``ftyp`` box (major brand
    ``heic``) and a ``meta`` box whose handler is ``pict``, with the ``ispe`` properties
    of its image items (the primary image and a tile). Enough to be typed and measured;
    no pixels."""
    ftyp = _box(b"ftyp", major + b"\x00\x00\x00\x00" + b"".join(compatible))
    hdlr = _box(b"hdlr", b"\x00" * 4 + b"\x00" * 4 + b"pict" + b"\x00" * 12 + b"\x00")
    pitm = _box(b"pitm", bytes(4) + struct.pack(">H", 1))
    ipco = _box(b"ipco", _box(b"hvcC", bytes(23)) + b"".join(ispe(w, h) for w, h in sizes))
    ipma = _box(b"ipma", bytes(4) + struct.pack(">IHB", 1, 1, 2) + b"\x81\x02")
    iprp = _box(b"iprp", ipco + ipma)
    meta = _box(b"meta", b"\x00" * 4 + hdlr + pitm + iprp)
    return ftyp + meta + _box(b"mdat", bytes(16))


def text() -> bytes:
    return b"Tracking: 1Z999AA10123456784\nDelivered to the neighbour.\n"


def upload(name: str, content: bytes, content_type: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content, content_type=content_type or "application/octet-stream"
    )
