"""Pixel dimensions of evidence images, read from their headers without decoding (issue 13).

A 30000 x 30000 PNG is a few kilobytes on disk and 3.6 GB in a browser's memory: images
beyond the limits (``EVIDENCE_MAX_IMAGE_PIXELS``, ``EVIDENCE_MAX_IMAGE_SIDE``) are refused
before they are stored, and the console draws a thumbnail only of an image whose recorded
dimensions are within them. An image whose header cannot be read is refused too: what
cannot be measured is not shown to anyone.

JPEG, PNG and GIF headers are read by Pillow (``Image.open`` is lazy: it parses the header
and decodes nothing). WebP and HEIC headers are read here: Pillow's WebP plugin creates
libwebp's decoder, which allocates the whole canvas, as soon as the file is opened, and
Pillow cannot read HEIC at all without a plugin. For HEIC/HEIF the ``ispe`` property of
every image item (the primary image, its tiles, thumbnails) must be within the limits.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from PIL import Image

from mediation.errors import ImageTooLarge, UnsupportedFileType
from mediation.models import Evidence

PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF"}
HEIF_TYPES = {"image/heic", "image/heif"}
IMAGE_TYPES = {*PILLOW_FORMATS, "image/webp", *HEIF_TYPES}
MAX_BOXES = 4096  # boxes read in one HEIF container before giving up on the file


class Unreadable(Exception):
    """The header does not say how large the image is."""


def max_pixels() -> int:
    return int(settings.EVIDENCE_MAX_IMAGE_PIXELS)


def max_side() -> int:
    return int(settings.EVIDENCE_MAX_IMAGE_SIDE)


def within_limits(width: int | None, height: int | None) -> bool:
    """Whether an image of these dimensions may be drawn (unknown dimensions may not)."""
    if not width or not height:
        return False
    return max(width, height) <= max_side() and width * height <= max_pixels()


def check_dimensions(uploaded_file: Any, content_type: str) -> tuple[int, int] | None:
    """The (width, height) of an image upload, None for another type; refuses an image
    beyond the limits (422 image_too_large) or one whose header cannot be read (415)."""
    if content_type not in IMAGE_TYPES:
        return None
    try:
        sizes = _sizes(uploaded_file, content_type)
    except Unreadable:
        raise UnsupportedFileType(
            f"The {content_type} header cannot be read (a truncated or damaged image)."
        ) from None
    finally:
        uploaded_file.seek(0)
    for width, height in sizes:
        if not within_limits(width, height):
            raise too_large(f"The image is {width} x {height} pixels", width=width, height=height)
    return max(sizes, key=lambda wh: wh[0] * wh[1])


def too_large(what: str, width: int | None = None, height: int | None = None) -> ImageTooLarge:
    """The refusal, with the limits (and the image's size when known) for the client."""
    return ImageTooLarge(
        f"{what}: images may have at most {max_pixels():,} pixels and {max_side():,} "
        "pixels a side.",
        width=width,
        height=height,
        max_pixels=max_pixels(),
        max_side=max_side(),
    )


def _sizes(f: Any, content_type: str) -> list[tuple[int, int]]:
    f.seek(0)
    if content_type in HEIF_TYPES:
        sizes = _heif_sizes(f)
    elif content_type == "image/webp":
        sizes = [_webp_size(f.read(30))]
    else:
        sizes = [_pillow_size(f, PILLOW_FORMATS[content_type])]
    if not sizes or any(w <= 0 or h <= 0 for w, h in sizes):
        raise Unreadable
    return sizes


def _pillow_size(f: Any, fmt: str) -> tuple[int, int]:
    # Pillow warns (DecompressionBombWarning, a RuntimeWarning) above Image.MAX_IMAGE_PIXELS
    # and raises above twice that (~179 MP). The limits are ours: silence the warning for
    # this call only, and take the error as "too large" (it does not say the size).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(f, formats=[fmt])  # the detected format only: no other parser
        except Image.DecompressionBombError:
            raise too_large(
                f"The image has more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error):
            raise Unreadable from None
    width, height = im.size
    return int(width), int(height)


def _webp_size(head: bytes) -> tuple[int, int]:
    """The canvas of a WebP file from its first chunk (RIFF, WEBP, then VP8, VP8L or VP8X)."""
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise Unreadable
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # a lossy key frame
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: 14 bits each, minus one
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended (animation, alpha): a 24-bit canvas, minus one
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    raise Unreadable


def _boxes(f: Any, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The ISO BMFF boxes between two offsets: (type, payload start, box end)."""
    boxes: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        if len(boxes) >= MAX_BOXES:
            raise Unreadable
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            raise Unreadable
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:  # a 64-bit size follows
            if len(head) < 16:
                raise Unreadable
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:  # to the end of the enclosing box
            size = end - pos
        if size < header or pos + size > end:
            raise Unreadable
        boxes.append((kind, pos + header, pos + size))
        pos += size
    return boxes


def _child(f: Any, start: int, end: int, kind: bytes) -> tuple[int, int]:
    for found, payload, box_end in _boxes(f, start, end):
        if found == kind:
            return payload, box_end
    raise Unreadable


def _heif_sizes(f: Any) -> list[tuple[int, int]]:
    """Every ``ispe`` (image spatial extents) in meta/iprp/ipco: HEIF requires one for each
    image item, so a file without any is not an image we can measure."""
    f.seek(0, 2)
    size = f.tell()
    meta, meta_end = _child(f, 0, size, b"meta")
    iprp, iprp_end = _child(f, meta + 4, meta_end, b"iprp")  # meta is a full box
    ipco, ipco_end = _child(f, iprp, iprp_end, b"ipco")
    sizes = []
    for kind, payload, box_end in _boxes(f, ipco, ipco_end):
        if kind == b"ispe":
            f.seek(payload + 4)  # a full box: version and flags
            data = f.read(8)
            if len(data) < 8 or box_end - payload < 12:
                raise Unreadable
            width, height = struct.unpack(">II", data)
            sizes.append((int(width), int(height)))
    return sizes


@dataclass
class MeasureReport:
    measured: int = 0
    beyond_limits: list[int] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


def measure_stored_images() -> MeasureReport:
    """Record the dimensions of image evidence stored before they were recorded at upload
    (``python manage.py measure_evidence_images``), reading each file's header only. An
    image beyond the limits gets its dimensions too (the console then shows it as a link);
    one whose header cannot be read stays unmeasured, a link as well."""
    report = MeasureReport()
    pending = Evidence.objects.filter(content_type__in=IMAGE_TYPES, width__isnull=True)
    for item in pending.only("pk", "file", "content_type").iterator(chunk_size=200):
        try:
            handle = item.file.open("rb")
        except FileNotFoundError:
            report.missing.append(item.pk)
            continue
        with handle:
            try:
                width, height = check_dimensions(handle, item.content_type) or (0, 0)
            except ImageTooLarge as exc:
                width, height = exc.extra.get("width") or 0, exc.extra.get("height") or 0
                report.beyond_limits.append(item.pk)
            except UnsupportedFileType:
                width = height = 0
        if not (width and height):
            if item.pk not in report.beyond_limits:
                report.unreadable.append(item.pk)
            continue
        Evidence.objects.filter(pk=item.pk).update(width=width, height=height)
        report.measured += 1
    return report
