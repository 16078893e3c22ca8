"""Archives hidden inside an accepted file (issue 13): a JPEG+ZIP, a PDF+RAR, a PNG with
a 7z in the middle.

Archive tools do not need an archive to start the file: ZIP readers look for the end
record near the end (and some ignore bytes after it), stream readers and carvers look for
local headers anywhere, WinRAR and 7-Zip look past a prefix for their signature. So the
whole file is searched, in chunks, for the records of the formats such polyglots use.

A signature alone would misfire: four bytes like ``PK\\x03\\x04`` turn up by chance in
about one 10 MB photo in four hundred. Each hit counts only when the record around it is
structurally what an archive tool needs (a ZIP header's version, method and lengths, an
end record pointing back at a central directory, a tar header's checksum, the CRC of an
xz stream header, a gzip member that inflates...), so a real photo or PDF is accepted
while any archive a tool would open is found.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Callable
from typing import Any

WINDOW = 1024 * 1024  # bytes searched at a time; the file is never read whole
# Signatures checked in one file before the search gives up and calls the file suspect: a
# real 10 MB photo holds a handful by chance, a file built of thousands of near-records
# (each costing a read, a gzip one an inflate) would otherwise take minutes to search.
MAX_CANDIDATES = 1000
TOO_MANY = "suspect"  # what find_archive names such a file

# ZIP (APPNOTE.TXT 4.3): compression methods a reader may know, by number.
ZIP_METHODS = frozenset(
    {0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 16, 18, 19, 20, 93, 94, 95, 96, 97, 98, 99}
)
ZIP_LOCAL = b"PK\x03\x04"
ZIP_CENTRAL = b"PK\x01\x02"
ZIP_END = b"PK\x05\x06"
ZIP64_END_LOCATOR = b"PK\x06\x07"
ZIP_NEXT_AFTER_CENTRAL = (ZIP_CENTRAL, ZIP_END, b"PK\x06\x06", b"PK\x05\x05")
# How far past a gzip header we inflate before calling it a gzip member.
GZIP_PROBE_OUT = 64 * 1024
GZIP_PROBE_IN = 256 * 1024


class _Source:
    """The file being searched, and the window of it in memory: a record inside the window
    is read from it, one beyond it (a central directory far back) by seeking."""

    def __init__(self, f: Any, size: int) -> None:
        self.f, self.size = f, size
        self.start, self.window = 0, b""

    def load(self, start: int, n: int) -> bytes:
        self.start, self.window = start, b""
        self.window = self.read(start, n)
        return self.window

    def read(self, pos: int, n: int) -> bytes:
        if pos < 0:
            return b""
        at = pos - self.start
        if at >= 0 and at + n <= len(self.window):
            return self.window[at : at + n]
        self.f.seek(pos)
        data: bytes = self.f.read(n)
        return data


# --- Validators: each gets the file and the offset of a signature ----------------------


def _zip_fields_sane(version: int, method: int) -> bool:
    # The low byte of "version needed" is the spec version (at most 6.3); the high byte is
    # ignored by readers, so it proves nothing either way.
    return (version & 0xFF) <= 63 and method in ZIP_METHODS


def _zip_local(src: _Source, pos: int) -> bool:
    """A local file header whose version, method and lengths a ZIP reader would accept."""
    h = src.read(pos, 30)
    if len(h) < 30:
        return False
    version, flags, method, _t, _d, _crc, csize, _usize, name_len, extra_len = struct.unpack(
        "<4xHHHHHIIIHH", h
    )
    if not _zip_fields_sane(version, method):
        return False
    end = pos + 30 + name_len + extra_len
    if flags & 0x08 == 0:  # sizes in the header, not in a trailing data descriptor
        end += csize if csize != 0xFFFFFFFF else 0
    return end <= src.size


def _zip_central(src: _Source, pos: int) -> bool:
    """A central directory header with sane fields, followed by the next central record."""
    h = src.read(pos, 46)
    if len(h) < 46:
        return False
    _made, version, _flags, method = struct.unpack("<4xHHHH", h[:12])
    name_len, extra_len, comment_len = struct.unpack("<HHH", h[28:34])
    if not _zip_fields_sane(version, method):
        return False
    nxt = pos + 46 + name_len + extra_len + comment_len
    return src.read(nxt, 4) in ZIP_NEXT_AFTER_CENTRAL


def _zip_end(src: _Source, pos: int) -> bool:
    """An end-of-central-directory record that fits the file and points back at a central
    directory (or is ZIP64's, or the end of an empty archive): what ZIP readers start from."""
    h = src.read(pos, 22)
    if len(h) < 22:
        return False
    disk, cd_disk, here, total, cd_size, _cd_offset, comment_len = struct.unpack("<4xHHHHIIH", h)
    if pos + 22 + comment_len > src.size or here > total:
        return False
    if src.read(pos - 20, 4) == ZIP64_END_LOCATOR:
        return True
    if total == 0:
        return (disk, cd_disk, cd_size) == (0, 0, 0)
    if disk != cd_disk or cd_size < 46 * total or cd_size > pos:
        return False
    return src.read(pos - cd_size, 4) == ZIP_CENTRAL


def _rar4(src: _Source, pos: int) -> bool:
    """RAR 1.5-4.x: the marker block, then the archive header (type 0x73)."""
    return src.read(pos + 9, 1) == b"\x73"


def _rar5(src: _Source, pos: int) -> bool:
    """RAR 5: the signature, a header CRC, a size (vint) and header type 1 (main archive)."""
    h = src.read(pos + 12, 4)
    for i, byte in enumerate(h[:3]):  # the header size is a vint of 1-3 bytes here
        if not byte & 0x80:
            return h[i + 1 : i + 2] == b"\x01"
    return False


def _seven_zip(src: _Source, pos: int) -> bool:
    """7z: the signature, then format version 0.x (0.4 today)."""
    return src.read(pos + 6, 1) == b"\x00"


def _xz(src: _Source, pos: int) -> bool:
    """xz: the stream flags (a check type) and their CRC32, which xz itself verifies."""
    h = src.read(pos + 6, 6)
    return (
        len(h) == 6
        and h[0] == 0
        and h[1] < 16
        and struct.unpack("<I", h[2:6])[0] == zlib.crc32(h[:2])
    )


def _cab(src: _Source, pos: int) -> bool:
    """Microsoft Cabinet: reserved fields zero, format version 1.3."""
    h = src.read(pos, 36)
    return len(h) == 36 and h[4:8] == h[12:16] == h[20:24] == bytes(4) and h[24:26] == b"\x03\x01"


def _tar_checksum_ok(block: bytes) -> bool:
    field = block[148:156]
    digits = field.replace(b"\x00", b" ").strip()
    if not digits or not set(digits) <= set(b"01234567"):
        return False
    rest = block[:148] + block[156:]  # the checksum field counts as eight spaces
    unsigned = sum(rest) + 8 * 0x20
    signed = unsigned - 256 * sum(1 for b in rest if b >= 0x80)  # old tars summed int8
    return int(digits, 8) in (unsigned, signed)


def _tar(src: _Source, pos: int) -> bool:
    """A ustar header (magic at offset 257) whose checksum matches its 512 bytes."""
    block = src.read(pos - 257, 512)
    return len(block) == 512 and _tar_checksum_ok(block)


def _gzip(src: _Source, pos: int) -> bool:
    """A gzip member header (deflate, no reserved flags) whose data inflates: to its end,
    with the CRC32 and size its trailer records, or for 64 KB without an error."""
    h = src.read(pos, 10)
    if len(h) < 10 or h[3] & 0xE0 or h[8] not in (0, 2, 4) or not (h[9] <= 13 or h[9] == 255):
        return False
    flags, at = h[3], pos + 10
    if flags & 0x04:  # FEXTRA
        xlen = src.read(at, 2)
        if len(xlen) < 2:
            return False
        at += 2 + struct.unpack("<H", xlen)[0]
    for bit in (0x08, 0x10):  # FNAME, FCOMMENT: NUL-terminated
        if flags & bit:
            chunk = src.read(at, 1024)
            end = chunk.find(b"\x00")
            if end < 0:
                return False
            at += end + 1
    if flags & 0x02:  # FHCRC
        at += 2
    data = src.read(at, GZIP_PROBE_IN)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, GZIP_PROBE_OUT)
    except zlib.error:
        return False
    if not inflater.eof:
        return len(out) >= GZIP_PROBE_OUT
    trailer = inflater.unused_data[:8]
    if len(trailer) < 8:
        return False
    crc, isize = struct.unpack("<II", trailer)
    return crc == zlib.crc32(out) and isize == len(out) & 0xFFFFFFFF


# The signatures searched for, the archive each one names, and what must hold around it.
SIGNATURES: list[tuple[bytes, str, Callable[[_Source, int], bool]]] = [
    (ZIP_LOCAL, "ZIP", _zip_local),
    (ZIP_CENTRAL, "ZIP", _zip_central),
    (ZIP_END, "ZIP", _zip_end),
    (b"Rar!\x1a\x07\x00", "RAR", _rar4),
    (b"Rar!\x1a\x07\x01\x00", "RAR", _rar5),
    (b"7z\xbc\xaf\x27\x1c", "7z", _seven_zip),
    (b"\xfd7zXZ\x00", "xz", _xz),
    (b"MSCF\x00\x00\x00\x00", "CAB", _cab),
    (b"ustar\x0000", "tar", _tar),  # POSIX
    (b"ustar  \x00", "tar", _tar),  # GNU
    (b"\x1f\x8b\x08", "gzip", _gzip),
]
# bzip2: "BZh", a block size, then a block's (or the empty stream's end) 48-bit magic; 80
# bits that do not occur by chance, so the pattern is its own check.
BZIP2 = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
OVERLAP = max(len(sig) for sig, _name, _check in SIGNATURES) + 10


def find_archive(f: Any) -> str | None:
    """The name of the first archive format found anywhere in the file ("ZIP", "RAR",
    "7z", "xz", "CAB", "tar", "gzip", "bzip2"), :data:`TOO_MANY` for a file holding more
    than :data:`MAX_CANDIDATES` signatures, or None. Reads the file in windows of 1 MB,
    seeking around a hit to check it; leaves the file at offset 0."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    src = _Source(f, size)
    candidates = 0
    try:
        start = 0
        while start < size:
            window = src.load(start, WINDOW + OVERLAP)
            limit = min(WINDOW, len(window))  # hits starting past it belong to the next window
            for sig, name, check in SIGNATURES:
                at = window.find(sig)
                while 0 <= at < limit:
                    candidates += 1
                    if candidates > MAX_CANDIDATES:
                        return TOO_MANY
                    if check(src, start + at):
                        return name
                    at = window.find(sig, at + 1)
            for match in BZIP2.finditer(window):
                if match.start() < limit:
                    return "bzip2"
            start += WINDOW
        return None
    finally:
        f.seek(0)
