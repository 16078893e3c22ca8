"""Liveness and readiness probes, and the API docs pages served without any CDN."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

PROBLEM = "application/problem+json"
ASSET = re.compile(r"<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.I)
EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)
DOCS_PAGES = ["/api/docs/", "/api/redoc/"]


def database_down() -> mock._patch[mock.MagicMock]:
    return mock.patch(
        "django.db.connection.cursor", side_effect=OperationalError("connection refused")
    )


# --- /healthz and /readyz ---------------------------------------------------------------------


def test_healthz_answers_without_auth_or_database(client: Client) -> None:
    # No django_db mark: pytest-django would fail the test if the probe touched the database.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


def test_healthz_stays_up_when_the_database_is_down(client: Client) -> None:
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_readyz_reports_each_dependency_ok(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "storage": "ok",
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_names_an_unreachable_broker(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celery import current_app

    # Celery reads CELERY_BROKER_URL from the environment before its settings.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setitem(current_app.conf, "broker_url", "redis://127.0.0.1:1/8")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["code"], body["unavailable"]) == (
        503,
        "broker_unavailable",
        ["broker"],
    )
    assert body["type"] == "urn:mediation:problem:broker_unavailable" and body["title"]
    assert (body["database"], body["cache"], body["broker"], body["storage"]) == (
        "ok",
        "ok",
        "unavailable",
        "ok",
    )
    assert "refused" not in response.content.decode().lower()  # reasons go to the log


@pytest.mark.django_db
def test_readyz_names_a_storage_that_cannot_be_written(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("where the media folder should be")
    settings.MEDIA_ROOT = str(blocker / "media")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "storage_unavailable" and body["unavailable"] == ["storage"]
    assert body["storage"] == "unavailable" and body["database"] == "ok"


# An unreachable database (503 database_unavailable from /readyz, the API and the console):
# tests/test_database_outage.py, against a real server.


@pytest.mark.django_db
def test_readyz_needs_no_auth_even_with_a_bad_token(client: Client) -> None:
    response = client.get("/readyz", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 200


# --- API docs -------------------------------------------------------------------------------


def docs_assets(client: Client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    imports = re.findall(r"@import\s+(?:url\()?[\"']?([^\"')\s;]+)", html)
    return [*ASSET.findall(html), *imports]


@pytest.mark.django_db  # closing a file response fires request_finished, which checks the DB
@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_page_assets_are_served_locally(client: Client, path: str) -> None:
    local = [a for a in docs_assets(client, path) if a.startswith("/")]
    scripts = [a for a in local if a.split("?")[0].endswith(".js")]
    assert scripts, f"{path} loads no local JavaScript: {local}"
    for asset in local:
        response = client.get(asset)
        assert response.status_code == 200, asset
        streaming = response.streaming
        content = b"".join(response.streaming_content) if streaming else response.content  # type: ignore[attr-defined]
        response.close()
        assert len(content) > 100, asset
        if asset.split("?")[0].endswith(".js"):
            assert "javascript" in response["Content-Type"], asset
        elif asset.endswith(".css"):
            assert response["Content-Type"].startswith("text/css"), asset


@pytest.mark.parametrize(
    "path",
    [
        "/api/docs/",
        "/api/redoc/",
    ],
)
def test_docs_page_references_no_cdn(client: Client, path: str) -> None:
    external = [a for a in docs_assets(client, path) if EXTERNAL.match(a)]
    assert external == []


def test_the_favicon_is_the_consoles_static_icon(client: Client) -> None:
    from django.contrib.staticfiles import finders

    r = client.get("/favicon.ico")
    assert r.status_code == 301
    assert r["Location"].endswith("/mediation/favicon.svg")
    assert finders.find("mediation/favicon.svg")
