"""Archives hidden in accepted files (issue 13): found wherever they sit, by a structurally
valid record, while real images, PDFs and random data are not mistaken for one."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import struct
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediation.errors import UnsupportedFileType
from tests.evidence import files, hostile
from workflows.archives import MAX_CANDIDATES, OVERLAP, TOO_MANY, WINDOW, find_archive
from workflows.evidence import detect_type

ARCHIVES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "zip": ("ZIP", hostile.zip_payload),
    "zip_stored": ("ZIP", lambda: _zip_stored()),
    "zip64": ("ZIP", lambda: _zip64()),
    "empty_zip": ("ZIP", lambda: _empty_zip()),
    "rar5": ("RAR", hostile.rar5),
    "rar4": ("RAR", hostile.rar4),
    "7z": ("7z", hostile.seven_zip),
    "gzip": ("gzip", lambda: gzip.compress(hostile.SHEBANG)),
    "gzip_named": ("gzip", lambda: _gzip_with_name()),
    "xz": ("xz", lambda: lzma.compress(hostile.SHEBANG)),
    "bzip2": ("bzip2", lambda: bz2.compress(hostile.PE)),
    "bzip2_empty": ("bzip2", lambda: bz2.compress(b"")),
    "tar": ("tar", hostile.tar),
    "cab": ("CAB", hostile.cab),
}


def _zip_stored() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.txt", b"x" * 100)
    return buf.getvalue()


def _zip64() -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("a", "w", force_zip64=True) as m,
    ):
        m.write(b"payload")
    return buf.getvalue()


def _empty_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w"):
        pass
    return buf.getvalue()


def _gzip_with_name() -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile("payload.sh", "wb", fileobj=buf, mtime=0) as g:
        g.write(hostile.SHEBANG)
    return buf.getvalue()


def found(data: bytes) -> str | None:
    return find_archive(io.BytesIO(data))


class CountingFile(io.BytesIO):
    """A file that remembers the largest read: the search never reads the file whole."""

    largest = 0

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        self.largest = max(self.largest, len(data))
        return data


@pytest.mark.parametrize("name", ARCHIVES)
@pytest.mark.parametrize(
    "place",
    ["alone", "after_a_jpeg", "after_a_jpeg_and_one_byte", "in_the_middle", "before_a_pdf"],
)
def test_an_archive_is_found_wherever_it_sits(name: str, place: str) -> None:
    kind, make = ARCHIVES[name]
    archive = make()
    data = {
        "alone": archive,
        "after_a_jpeg": files.jpeg() + archive,
        "after_a_jpeg_and_one_byte": files.jpeg() + archive + b"\x00",
        "in_the_middle": hostile.jpeg_with_segment(archive),
        "before_a_pdf": archive + files.pdf(),
    }[place]
    assert found(data) == kind


@pytest.mark.parametrize("name", ["zip", "rar5", "7z", "xz", "tar", "gzip"])
@pytest.mark.parametrize("cut", [1, 3, 5, 17])
def test_an_archive_across_the_edge_of_a_window_is_found(name: str, cut: int) -> None:
    kind, make = ARCHIVES[name]
    archive = make()
    # The archive's signature (a tar's sits 257 bytes into it) starts `cut` bytes before
    # the first window ends, so it straddles the edge between two reads.
    at = 257 if name == "tar" else 0
    data = random.Random(cut).randbytes(WINDOW - cut - at) + archive + bytes(100)
    assert found(data) == kind


def test_an_archive_far_past_the_first_window_is_found_without_reading_the_file_whole() -> None:
    data = random.Random(1).randbytes(5 * WINDOW + 12_345) + hostile.zip_payload() + b"x"
    f = CountingFile(data)
    assert find_archive(f) == "ZIP"
    assert f.largest <= WINDOW + OVERLAP
    assert f.tell() == 0


@pytest.mark.parametrize("seed", range(8))
def test_random_data_is_not_an_archive(seed: int) -> None:
    # 8 x 4 MB of random bytes hold a few dozen of the short signatures by chance
    # (PK\x03\x04, \x1f\x8b\x08, ustar...); none is a record an archive tool would open.
    assert found(random.Random(seed).randbytes(4 * 1024 * 1024)) is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "PDF", "TIFF"])
@pytest.mark.parametrize("seed", range(3))
def test_real_images_and_pdfs_are_not_archives(fmt: str, seed: int) -> None:
    assert found(hostile.photo(fmt, (640, 480), seed)) is None


@pytest.mark.parametrize("signature", hostile.CHANCE_SIGNATURES)
def test_a_signature_without_its_record_is_not_an_archive(signature: bytes) -> None:
    assert found(hostile.jpeg_with_segment(signature)) is None
    assert found(hostile.pdf_with(signature)) is None
    assert found(files.png() + signature) is None


def test_a_zip_end_record_without_its_central_directory_is_not_an_archive() -> None:
    archive = hostile.zip_payload()
    end = archive[archive.index(b"PK\x05\x06") :]
    assert found(files.jpeg() + end) is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.binary(max_size=2048),
    suffix=st.binary(max_size=2048),
    name=st.sampled_from(sorted(ARCHIVES)),
)
def test_property_any_archive_between_any_bytes_is_found(
    prefix: bytes, suffix: bytes, name: str
) -> None:
    kind, make = ARCHIVES[name]
    result = found(prefix + make() + suffix)
    assert result is not None
    if not any(sig in prefix + suffix for sig in (b"PK", b"BZh", b"ustar")):
        assert result == kind


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=4096))
def test_property_the_search_never_fails_on_any_bytes(data: bytes) -> None:
    f = io.BytesIO(data)
    assert find_archive(f) in {None, "ZIP", "RAR", "7z", "xz", "CAB", "tar", "gzip", "bzip2"}
    assert f.tell() == 0


@pytest.mark.parametrize(
    ("make", "declared"),
    [
        (lambda: files.jpeg() + hostile.zip_payload() + b"\n", "image/jpeg"),
        (lambda: files.pdf() + hostile.rar5() + bytes(3), "application/pdf"),
        (lambda: files.png() + hostile.seven_zip(), "image/png"),
    ],
)
def test_detect_type_refuses_a_polyglot_and_names_the_archive(make: Any, declared: str) -> None:
    upload = files.upload("x", make(), declared)
    with pytest.raises(UnsupportedFileType, match="archive inside"):
        detect_type(upload, "x", declared)


def test_text_is_not_searched_for_archives() -> None:
    # Printable text can spell a bzip2 magic; it is text, not an archive.
    upload = files.upload("notes.txt", b"The magic is BZh91AY&SY, see the spec.\n")
    assert detect_type(upload, "notes.txt", "text/plain") == "text/plain"


def near_zip_records(n: int) -> bytes:
    # Local headers with a sane version and method whose data would run past the file.
    record = b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, 0, 0x7FFFFFFF, 0, 0, 0)
    return record * n


def test_a_file_packed_with_near_records_is_suspect_without_a_long_search() -> None:
    # Thousands of records that each fail only their last check, or gzip headers each
    # inflating a stored block: checked one by one they would take seconds to minutes.
    gzip_stored = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x00\x60\xea\x9f\x15"
    for body in (near_zip_records(MAX_CANDIDATES + 1), gzip_stored * (MAX_CANDIDATES + 1)):
        assert found(files.png() + body) == TOO_MANY
    assert found(files.png() + near_zip_records(MAX_CANDIDATES // 2)) is None
    upload = files.upload("x.png", files.png() + near_zip_records(MAX_CANDIDATES + 1))
    with pytest.raises(UnsupportedFileType, match="archive signatures"):
        detect_type(upload, "x.png", "image/png")


def test_words_that_contain_ustar_are_not_signatures() -> None:
    text = b"Me gusta mustard; a ellos les gustaria. " * 2000
    assert found(hostile.pdf_with(text)) is None
