"""Swagger UI and Redoc need nothing but the service: every file the pages load comes from
it, and none of those files loads anything from elsewhere (Redoc's footer logo, which its
bundle takes from Redocly's CDN, is served from static). And the Authorize dialog says what
to type."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from api.docs import LOCAL_LOGO, REDOCLY_LOGO

PAGES = ["/api/docs/", "/api/redoc/"]
# Anything an HTML page may load or link: src=, href=, and CSS's url() and @import.
HTML_URL = re.compile(r"""\b(?:src|href|action|srcset)\s*=\s*["']([^"']+)["']""", re.I)
ANY_ABSOLUTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.I)
# What a script or a style sheet would make the browser fetch: an image or script source
# (src:"...", src="..." in the bundles' templates), a CSS url() or @import, fetch() or
# XMLHttpRequest of a literal address, a preconnect.
LOADED = re.compile(
    r"""(?:\bsrc\s*[:=]\s*|url\(\s*|@import\s+|\bfetch\(\s*|\.open\(\s*["'][A-Z]+["']\s*,\s*)"""
    r"""["']?((?:https?:)?//[^"')\s]+)""",
    re.I,
)


def _get(client: Client, url: str) -> tuple[int, str, str]:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    response.close()
    return response.status_code, response.get("Content-Type", ""), body.decode("utf-8", "replace")


def _loaded(client: Client, page: str) -> dict[str, str]:
    """The page's HTML and every file it loads, by address."""
    status, kind, html = _get(client, page)
    assert status == 200 and kind.startswith("text/html"), (page, status, kind)
    files = {page: html}
    for url in HTML_URL.findall(html):
        assert url.startswith("/") and not url.startswith("//"), f"{page} names {url}"
        status, kind, text = _get(client, url)
        assert status == 200, (url, status)
        files[url] = text
    return files


@pytest.mark.django_db  # closing a file response fires request_finished, which checks the DB
@pytest.mark.parametrize("page", PAGES)
def test_the_docs_pages_name_no_other_site(client: Client, page: str) -> None:
    files = _loaded(client, page)
    assert ANY_ABSOLUTE.findall(files[page]) == []
    scripts = [url for url in files if url.split("?")[0].endswith(".js")]
    assert scripts, f"{page} loads no script"
    for url, text in files.items():
        assert LOADED.findall(text) == [], f"{url} loads from another site"


@pytest.mark.django_db
def test_redocs_footer_logo_comes_from_static(client: Client) -> None:
    files = _loaded(client, "/api/redoc/")
    (bundle,) = [text for url, text in files.items() if "redoc.standalone.js" in url]
    assert REDOCLY_LOGO not in bundle
    (logo,) = re.findall(r'src:"([^"]*docs-logo[^"]*)"', bundle)
    assert logo.endswith(LOCAL_LOGO)
    status, kind, svg = _get(client, logo)
    assert status == 200 and kind.startswith("image/svg+xml") and "<svg" in svg
    # The bundle's source map points at the sidecar's copy in static, which is there.
    (source_map,) = re.findall(r"^//# sourceMappingURL=(\S+)", bundle, re.M)
    assert _get(client, source_map)[0] == 200
    assert "Redoc.init" in files["/api/redoc/"]


@pytest.mark.django_db
def test_the_redoc_bundle_is_cached_and_revalidated(client: Client) -> None:
    first = client.get("/api/redoc/redoc.standalone.js")
    assert first.status_code == 200
    assert first["Content-Type"].startswith("text/javascript")
    assert "max-age" in first["Cache-Control"]
    again = client.get("/api/redoc/redoc.standalone.js", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


@pytest.mark.django_db
def test_swagger_keeps_the_authorization_and_asks_no_validator(client: Client) -> None:
    status, kind, script = _get(client, "/api/docs/?script=")
    assert status == 200 and "javascript" in kind
    assert '"persistAuthorization": true' in script
    assert '"validatorUrl": null' in script


def test_the_authorize_dialog_says_what_to_type(client: Client) -> None:
    schema: dict[str, Any] = client.get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    token, key = schemes["tokenAuth"], schemes["apiKeyAuth"]
    # An apiKey scheme sends the field as typed: the scheme word must be in it.
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert "type `Token ` and then the token" in token["description"]
    # The bearer scheme adds "Bearer " to a bare key or token.
    assert (key["type"], key["scheme"]) == ("http", "bearer")
    assert "paste the bare key or token" in key["description"]


@pytest.mark.django_db
def test_a_bare_personal_token_works_through_the_bearer_scheme(client: Client) -> None:
    # What the apiKeyAuth description promises: Swagger sends "Bearer <token>".
    from demo.seed import PASSWORD, seed

    seed()
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    assert client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert client.get("/api/v1/orders/", HTTP_AUTHORIZATION=token).status_code == 401
