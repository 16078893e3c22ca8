"""Evidence on S3-compatible storage (issue 4): django-storages' S3 backend, configured from the
environment, against a real S3 HTTP server on loopback (moto's standalone server, run as a
subprocess so that nothing in this process is patched: boto3 speaks HTTP to it as to AWS)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils.module_loading import import_string
from storages.backends.s3 import S3Storage

from config.settings import default_storage_config
from mediation.models import Evidence
from tests.evidence import files
from tests.scenarios import Scenario, as_user, dispute_in
from workflows import evidence as service

REGION = "us-east-1"
KEY_ID = "test-access-key"
SECRET = "test-secret-key"
STORAGE_VARS = (
    "STORAGE_BACKEND",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_S3_ADDRESSING_STYLE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_LOCATION",
    "AWS_S3_SSE",
    "AWS_S3_SSE_KMS_KEY_ID",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port for this module, stopped afterwards."""
    # Never route loopback through a proxy the machine may have configured.
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    for name in saved:
        os.environ[name] = ",".join(filter(None, [saved[name], "127.0.0.1", "localhost"]))
    process: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):  # the port may be taken between choosing and binding it
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if wait_until_serving(url, process):
                break
            process.kill()
            _, err = process.communicate(timeout=10)
            process = None
        else:
            pytest.fail(f"the moto S3 server did not start: {err.decode(errors='replace')}")
        yield url
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            if process.stderr is not None:
                process.stderr.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


@pytest.fixture
def bucket(s3_client: Any) -> str:
    """A fresh, empty bucket for each test."""
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_storage(
    s3_endpoint: str, bucket: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Evidence stored in ``bucket``, configured exactly as a deployment would be: from the
    environment through the settings' helper. Changing STORAGES resets ``default_storage``
    (Django's setting_changed handler), here and again when the test ends."""
    for name in STORAGE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", bucket)
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_S3_REGION_NAME", REGION)
    monkeypatch.setenv("AWS_S3_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_S3_SSE", "AES256")
    settings.STORAGES = {**settings.STORAGES, "default": default_storage_config()}
    assert isinstance(default_storage, S3Storage)
    return bucket


@pytest.fixture
def sc(db: Any) -> Scenario:
    return dispute_in("under_review", mediator="mediator_agent")


def url(sc: Scenario, suffix: str = "") -> str:
    return f"/api/v1/disputes/{sc.id}/evidence/{suffix}"


def upload(sc: Scenario, who: str, name: str, content: bytes, content_type: str = "") -> Any:
    data = {"file": files.upload(name, content, content_type)}
    return as_user(sc[who]).post(url(sc), data, format="multipart")


def keys(s3_client: Any, bucket: str) -> list[str]:
    listed = s3_client.list_objects_v2(Bucket=bucket)
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def body(s3_client: Any, bucket: str, key: str) -> bytes:
    return bytes(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())


def local_files() -> list[Path]:
    return [p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- Through the API, against the server ----------------------------------------------------------


def test_upload_stores_the_exact_bytes_under_a_random_key(
    sc: Scenario, s3_storage: str, s3_client: Any
) -> None:
    content = files.png()
    r = upload(sc, "buyer", "broken vase.png", content, "image/png")
    assert r.status_code == 201, r.json()
    item = r.json()
    assert item["sha256"] == sha256(content) and item["file_name"] == "broken vase.png"

    [key] = keys(s3_client, s3_storage)
    prefix, dispute, name = key.rsplit("/", 2)
    assert prefix == "media/evidence" and dispute == str(sc.id)
    assert len(name) == 32 and int(name, 16) >= 0  # uuid4 hex
    assert "vase" not in key and ".png" not in key
    assert Evidence.objects.get(pk=item["id"]).file.name == key.removeprefix("media/")

    stored = s3_client.get_object(Bucket=s3_storage, Key=key)
    assert sha256(stored["Body"].read()) == item["sha256"]
    # Private, opaque, encrypted: not the client's type, no public grant.
    assert stored["ContentType"] == "application/octet-stream"
    assert stored["ContentDisposition"] == "attachment"
    assert stored["ServerSideEncryption"] == "AES256"
    grants = s3_client.get_object_acl(Bucket=s3_storage, Key=key)["Grants"]
    assert not [g for g in grants if "AllUsers" in g["Grantee"].get("URI", "")]
    assert local_files() == []


def test_download_streams_the_same_bytes_with_attachment_headers(
    sc: Scenario, s3_storage: str, s3_client: Any
) -> None:
    # Beyond the in-memory buffers on both sides (64 KiB upload, 1 MiB download).
    content = b"".join(b"line %07d of the courier's tracking log\n" % i for i in range(40_000))
    assert len(content) > 1024 * 1024
    r = upload(sc, "owner", "tracking.txt", content, "text/plain")
    assert r.status_code == 201, r.json()
    item = r.json()
    [key] = keys(s3_client, s3_storage)
    assert body(s3_client, s3_storage, key) == content

    for who in ("owner", "buyer", "mediator_agent"):
        r = as_user(sc[who]).get(url(sc, f"{item['id']}/download/"))
        assert r.status_code == 200
        assert r.streaming
        assert r.getvalue() == content
        assert r["Content-Length"] == str(len(content))
        assert r["Content-Type"] == "text/plain"
        assert r["Content-Disposition"].startswith("attachment;")
        assert "tracking.txt" in r["Content-Disposition"]
        assert r["X-Content-Type-Options"] == "nosniff"
        assert r["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert r["Cache-Control"] == "private, no-store"
        # No explicit r.close(): getvalue() consumed the stream through the test client's
        # wrapper, and a second close() would fire request_finished, whose connection
        # cleanup closes the test transaction's connection on PostgreSQL.


def test_a_file_near_the_limit_goes_up_in_parts(
    sc: Scenario, s3_storage: str, s3_client: Any
) -> None:
    # boto3 switches to a multipart upload from 8 MiB; the default limit is 10 MB.
    content = b"".join(b"entry %08d: parcel scanned at the depot\n" % i for i in range(220_000))
    assert 8 * 1024 * 1024 < len(content) < django_settings.EVIDENCE_MAX_FILE_MB * 1024 * 1024
    r = upload(sc, "buyer", "log.txt", content, "text/plain")
    assert r.status_code == 201, r.json()
    [key] = keys(s3_client, s3_storage)
    head = s3_client.head_object(Bucket=s3_storage, Key=key)
    assert head["ContentLength"] == len(content)
    assert "-" in head["ETag"]  # the ETag of a multipart object: md5-of-parts-N
    assert sha256(body(s3_client, s3_storage, key)) == r.json()["sha256"] == sha256(content)
    download = as_user(sc["buyer"]).get(url(sc, f"{r.json()['id']}/download/"))
    assert sha256(download.getvalue()) == sha256(content)
    download.close()


def test_refused_uploads_leave_no_object(sc: Scenario, s3_storage: str, s3_client: Any) -> None:
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    r = upload(sc, "buyer", "photo.jpg", html, "image/jpeg")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_file_type"
    assert keys(s3_client, s3_storage) == []

    with override_settings(EVIDENCE_MAX_FILES=1):
        assert upload(sc, "buyer", "a.txt", b"first\n").status_code == 201
        r = upload(sc, "buyer", "b.txt", b"second\n")
    assert r.status_code == 422 and r.json()["code"] == "evidence_quota_exceeded"
    [key] = keys(s3_client, s3_storage)
    assert body(s3_client, s3_storage, key) == b"first\n"
    assert Evidence.objects.count() == 1


def test_a_failure_after_storing_deletes_the_object(
    sc: Scenario, s3_storage: str, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit down")

    monkeypatch.setattr("workflows.base.Context.record", broken)
    with pytest.raises(RuntimeError):
        service.upload_evidence(
            dispute_id=sc.id, actor=sc["buyer"], uploaded_file=files.upload("a.png", files.png())
        )
    assert keys(s3_client, s3_storage) == [] and Evidence.objects.count() == 0


def test_withdrawal_leaves_the_object(sc: Scenario, s3_storage: str, s3_client: Any) -> None:
    content = files.pdf()
    item = upload(sc, "buyer", "receipt.pdf", content).json()
    r = as_user(sc["buyer"]).post(url(sc, f"{item['id']}/withdraw/"))
    assert r.status_code == 200 and r.json()["withdrawn"] is True
    [key] = keys(s3_client, s3_storage)
    assert body(s3_client, s3_storage, key) == content
    assert as_user(sc["owner"]).get(url(sc, f"{item['id']}/download/")).status_code == 404
    r = as_user(sc["mediator_agent"]).get(url(sc, f"{item['id']}/download/"))
    assert r.status_code == 200 and r.getvalue() == content
    r.close()


def test_an_object_missing_from_the_bucket_is_404(
    sc: Scenario, s3_storage: str, s3_client: Any
) -> None:
    item = upload(sc, "buyer", "a.txt", b"soon gone\n").json()
    [key] = keys(s3_client, s3_storage)
    s3_client.delete_object(Bucket=s3_storage, Key=key)
    r = as_user(sc["buyer"]).get(url(sc, f"{item['id']}/download/"))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_storage_signs_every_url_it_makes(s3_storage: str, s3_client: Any) -> None:
    # The service never hands out storage URLs; should anything ask, they are signed and short.
    s3_client.put_object(Bucket=s3_storage, Key="media/evidence/1/abc", Body=b"x")
    signed = default_storage.url("evidence/1/abc")
    assert signed.startswith(f"{s3_client.meta.endpoint_url}/{s3_storage}/media/evidence/1/abc?")
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    with urllib.request.urlopen(signed, timeout=5) as response:
        assert response.read() == b"x"


def test_each_test_gets_a_fresh_bucket_and_the_configured_storage_back(
    s3_client: Any, bucket: str
) -> None:
    # Outside the s3_storage fixture, default_storage is what the settings say again.
    assert keys(s3_client, bucket) == []
    assert isinstance(
        default_storage, import_string(django_settings.STORAGES["default"]["BACKEND"])
    )
    assert django_settings.STORAGES["default"].get("OPTIONS", {}).get("bucket_name") != bucket


# --- Settings from the environment ----------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in STORAGE_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_local_files_by_default(clean_env: pytest.MonkeyPatch) -> None:
    assert default_storage_config() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    clean_env.setenv("STORAGE_BACKEND", "local")
    clean_env.setenv("AWS_STORAGE_BUCKET_NAME", "ignored-without-s3")
    assert default_storage_config() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_s3_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "STORAGE_BACKEND": "S3",
        "AWS_STORAGE_BUCKET_NAME": "disputes-evidence",
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_S3_REGION_NAME": "eu-central-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "example-secret",
        "AWS_LOCATION": "/tenant-a/media/",
        "AWS_S3_SSE": "aws:kms",
        "AWS_S3_SSE_KMS_KEY_ID": "alias/evidence",
    }.items():
        clean_env.setenv(name, value)
    config = default_storage_config()
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert config["OPTIONS"] == {
        "bucket_name": "disputes-evidence",
        "location": "tenant-a/media",
        "region_name": "eu-central-1",
        "endpoint_url": "http://minio:9000",
        "addressing_style": "path",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "signature_version": "s3v4",
        "file_overwrite": False,
        "object_parameters": {
            "ContentType": "application/octet-stream",
            "ContentDisposition": "attachment",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "alias/evidence",
        },
        "max_memory_size": 1024 * 1024,
        "access_key": "AKIAEXAMPLE",
        "secret_key": "example-secret",
    }


def test_s3_with_only_a_bucket_uses_the_sdk_credential_chain(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("STORAGE_BACKEND", "s3")
    clean_env.setenv("AWS_STORAGE_BUCKET_NAME", "disputes-evidence")
    options = default_storage_config()["OPTIONS"]
    assert "access_key" not in options and "secret_key" not in options
    assert options["location"] == "media"
    assert options["region_name"] is None and options["endpoint_url"] is None
    assert "ServerSideEncryption" not in options["object_parameters"]
    # django-storages accepts every option (it refuses unknown ones) and keeps the safe ones.
    storage = S3Storage(**options)
    assert storage.default_acl is None
    assert storage.querystring_auth is True
    assert storage.file_overwrite is False
    assert storage.location == "media"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"STORAGE_BACKEND": "s3"}, "AWS_STORAGE_BUCKET_NAME"),
        ({"STORAGE_BACKEND": "s3", "AWS_STORAGE_BUCKET_NAME": "  "}, "AWS_STORAGE_BUCKET_NAME"),
        ({"STORAGE_BACKEND": "gcs", "AWS_STORAGE_BUCKET_NAME": "b"}, "STORAGE_BACKEND"),
    ],
)
def test_incomplete_or_unknown_storage_is_refused(
    clean_env: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        clean_env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        default_storage_config()
