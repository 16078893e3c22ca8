"""Pixel dimensions (issue 13): every accepted image type is measured from its header
before it is stored; beyond the limits it is 422 image_too_large, an unreadable header
415, and the console draws only images whose recorded dimensions are within the limits."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from mediation.errors import ImageTooLarge, UnsupportedFileType
from mediation.models import AuditEntry, Evidence
from tests.console.helpers import browser, case_page
from tests.evidence import files, hostile
from tests.scenarios import Scenario, as_user, dispute_in
from workflows import evidence as service
from workflows.images import check_dimensions

MP = 1_000_000


def real(fmt: str, size: tuple[int, int] = (37, 23), **options: Any) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 90)).save(buf, fmt, **options)
    return buf.getvalue()


def animated_webp(size: tuple[int, int]) -> bytes:
    frames = [Image.new("RGB", size, c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    return buf.getvalue()


def measure(content: bytes, content_type: str) -> tuple[int, int] | None:
    return check_dimensions(SimpleUploadedFile("x", content), content_type)


@pytest.mark.parametrize(
    ("content_type", "make"),
    [
        ("image/jpeg", lambda: real("JPEG")),
        ("image/jpeg", lambda: real("JPEG", progressive=True)),
        ("image/png", lambda: real("PNG")),
        ("image/gif", lambda: real("GIF")),
        ("image/webp", lambda: real("WEBP")),  # lossy: VP8
        ("image/webp", lambda: real("WEBP", lossless=True)),  # VP8L
        ("image/webp", lambda: animated_webp((37, 23))),  # VP8X
        ("image/heic", lambda: files.heic(sizes=((37, 23), (16, 16)))),
    ],
)
def test_every_image_type_is_measured_from_its_header(content_type: str, make: Any) -> None:
    assert measure(make(), content_type) == (37, 23)


def test_other_types_are_not_measured() -> None:
    assert measure(files.pdf(), "application/pdf") is None
    assert measure(files.text(), "text/plain") is None


@pytest.mark.parametrize(
    ("content_type", "make", "size"),
    [
        ("image/png", hostile.png_claiming, (30_000, 30_000)),  # beyond Pillow's ceiling too
        ("image/png", hostile.png_claiming, (10_000, 10_000)),  # Pillow only warns at 100 MP
        ("image/png", hostile.png_claiming, (20_001, 10)),
        ("image/jpeg", hostile.jpeg_claiming, (10, 20_001)),
        ("image/jpeg", hostile.jpeg_claiming, (8_000, 7_000)),
        ("image/gif", hostile.gif_claiming, (9_000, 9_000)),
        ("image/webp", hostile.webp_claiming, (16_384, 16_384)),
        ("image/heic", lambda w, h: files.heic(sizes=((512, 512), (w, h))), (30_000, 30_000)),
    ],
)
def test_an_image_beyond_the_limits_is_refused(
    content_type: str, make: Any, size: tuple[int, int]
) -> None:
    with pytest.raises(ImageTooLarge) as refused:
        measure(make(*size), content_type)
    assert refused.value.code == "image_too_large" and refused.value.status == 422
    assert refused.value.extra["max_pixels"] == 50 * MP
    assert refused.value.extra["max_side"] == 20_000
    if size[0] * size[1] < 2 * (Image.MAX_IMAGE_PIXELS or 0):
        assert (refused.value.extra["width"], refused.value.extra["height"]) == size


def test_pillows_own_warning_is_silenced_only_for_the_measurement(settings: Any) -> None:
    # 100 MP is past Pillow's warning threshold (89 MP): with the limits raised it is
    # accepted, no DecompressionBombWarning escapes (pytest makes it an error) and the
    # process's warning filters are as they were.
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 150 * MP
    before = list(warnings.filters)
    assert measure(hostile.png_claiming(10_000, 10_000), "image/png") == (10_000, 10_000)
    assert warnings.filters == before


def test_the_limits_are_settings(settings: Any) -> None:
    settings.EVIDENCE_MAX_IMAGE_SIDE = 36
    with pytest.raises(ImageTooLarge):
        measure(real("PNG"), "image/png")
    settings.EVIDENCE_MAX_IMAGE_SIDE = 37
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 37 * 23 - 1
    with pytest.raises(ImageTooLarge):
        measure(real("PNG"), "image/png")
    settings.EVIDENCE_MAX_IMAGE_PIXELS = 37 * 23
    assert measure(real("PNG"), "image/png") == (37, 23)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),
        ("image/gif", b"GIF89a\x01"),
        ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
        ("image/heic", files.heic(sizes=())),
        ("image/heic", files.heic()[:40]),  # cut inside the meta box
        ("image/png", hostile.png_claiming(0, 10)),
    ],
)
def test_an_unreadable_header_is_an_unsupported_file(content_type: str, content: bytes) -> None:
    with pytest.raises(UnsupportedFileType):
        measure(content, content_type)


REAL = {
    "image/jpeg": real("JPEG", (64, 48)),
    "image/png": real("PNG", (64, 48)),
    "image/gif": real("GIF", (64, 48)),
    "image/webp": animated_webp((64, 48)),
    "image/heic": files.heic(sizes=((64, 48),)),
}


@hsettings(max_examples=300, deadline=None)
@given(content_type=st.sampled_from(sorted(REAL)), data=st.data())
def test_property_a_cut_image_is_measured_or_refused_never_an_error(
    content_type: str, data: Any
) -> None:
    content = REAL[content_type]
    cut = data.draw(st.integers(min_value=1, max_value=len(content)))
    try:
        size = measure(content[:cut], content_type)
    except UnsupportedFileType:
        return
    assert size == (64, 48)


def test_the_file_stays_open_at_its_start(tmp_path: Path, settings: Any) -> None:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    upload = TemporaryUploadedFile("p.jpg", "image/jpeg", 0, None)
    upload.write(REAL["image/jpeg"])
    upload.seek(10)
    assert check_dimensions(upload, "image/jpeg") == (64, 48)
    assert not upload.closed and upload.tell() == 0
    assert upload.read() == REAL["image/jpeg"]
    upload.close()


# --- Through the service and the API -------------------------------------------------------------


@pytest.fixture
def sc(db: Any) -> Scenario:
    return dispute_in("under_review", mediator="mediator_agent")


def stored_files() -> list[Path]:
    return [p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_the_service_records_the_dimensions(sc: Scenario) -> None:
    item = service.upload_evidence(
        dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("p.png", real("PNG"))
    )
    assert (item.width, item.height) == (37, 23)
    item.refresh_from_db()
    assert (item.width, item.height) == (37, 23)
    text = service.upload_evidence(
        dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("t.txt", files.text())
    )
    assert (text.width, text.height) == (None, None)


def test_the_service_refuses_a_pixel_bomb_before_storing_anything(sc: Scenario) -> None:
    before = (Evidence.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ImageTooLarge):
        service.upload_evidence(
            dispute_id=sc.id,
            actor=sc["buyer"],
            uploaded_file=files.upload("huge.png", hostile.png_claiming(30_000, 30_000)),
        )
    assert (Evidence.objects.count(), AuditEntry.objects.count()) == before
    assert stored_files() == []


def test_the_api_says_what_the_limits_are(sc: Scenario) -> None:
    data = {"file": files.upload("strip.jpg", hostile.jpeg_claiming(30_000, 10), "image/jpeg")}
    r = as_user(sc["buyer"]).post(f"/api/v1/disputes/{sc.id}/evidence/", data, format="multipart")
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "image_too_large"
    assert (body["width"], body["height"]) == (30_000, 10)
    assert (body["max_pixels"], body["max_side"]) == (50 * MP, 20_000)
    assert stored_files() == []


# --- The console's thumbnails --------------------------------------------------------------------


def figure(body: str, item: Evidence) -> str:
    start = body.index(f'data-evidence="{item.pk}"')
    return body[start : body.index("</figure>", start)]


def test_the_console_draws_only_images_measured_within_the_limits(
    sc: Scenario, settings: Any
) -> None:
    measured = service.upload_evidence(
        dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("a.png", real("PNG"))
    )
    # Stored before dimensions were recorded (the migration leaves them unknown), and a
    # pixel bomb stored before images were measured at all.
    legacy = service.upload_evidence(
        dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("b.png", real("PNG"))
    )
    bomb = service.upload_evidence(
        dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("c.png", real("PNG"))
    )
    Evidence.objects.filter(pk=legacy.pk).update(width=None, height=None)
    Evidence.objects.filter(pk=bomb.pk).update(width=30_000, height=30_000)

    body = case_page(browser(sc["mediator_agent"]), sc.dispute)
    assert "<img " in figure(body, measured) and "37 &times; 23 px" in figure(body, measured)
    assert "<img " not in figure(body, legacy)
    assert "<img " not in figure(body, bomb) and "30000 &times; 30000 px" in figure(body, bomb)
    assert f'href="/api/v1/disputes/{sc.id}/evidence/{bomb.pk}/download/"' in figure(body, bomb)

    settings.EVIDENCE_MAX_IMAGE_SIDE = 36  # a limit lowered later hides what it excludes
    body = case_page(browser(sc["mediator_agent"]), sc.dispute)
    assert "<img " not in figure(body, measured)


def test_stored_images_are_measured_by_the_command(sc: Scenario) -> None:
    items = [
        service.upload_evidence(
            dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload(name, content)
        )
        for name, content in [
            ("a.png", real("PNG")),
            ("b.png", real("PNG")),
            ("t.txt", files.text()),
        ]
    ]
    Evidence.objects.update(width=None, height=None)
    # The second one is a pixel bomb stored before images were measured.
    Path(items[1].file.path).write_bytes(hostile.png_claiming(12_000, 6_000))
    out, err = io.StringIO(), io.StringIO()
    call_command("measure_evidence_images", stdout=out, stderr=err)
    sizes = dict(Evidence.objects.values_list("pk", "width"))
    assert sizes == {items[0].pk: 37, items[1].pk: 12_000, items[2].pk: None}
    assert f"Evidence {items[1].pk}: beyond the image limits" in out.getvalue()
    assert "Measured 2 images: 1 beyond the limits, 0 unreadable, 0 missing." in out.getvalue()
    body = case_page(browser(sc["mediator_agent"]), sc.dispute)
    assert "<img " in figure(body, items[0]) and "<img " not in figure(body, items[1])


PREFIXES = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/gif": b"GIF89a",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBP",
    "image/heic": files.heic()[:24],
}


@hsettings(max_examples=300, deadline=None)
@given(content_type=st.sampled_from(sorted(PREFIXES)), rest=st.binary(max_size=512))
def test_property_any_header_is_measured_or_refused_never_an_error(
    content_type: str, rest: bytes
) -> None:
    try:
        size = measure(PREFIXES[content_type] + rest, content_type)
    except (UnsupportedFileType, ImageTooLarge):
        return
    assert size is not None and size[0] > 0 and size[1] > 0
