"""Production security settings: with the documented production environment (the web
service of docker-compose.yml, behind a TLS-terminating proxy) `manage.py check --deploy`
is clean, and the console, the API docs and the API send every security header.

Settings are read at import, so the production environment is loaded in a fresh process;
the values it yields are then applied here (over the suite's plain-http settings, see
tests/conftest.py) to request the pages themselves.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from demo.management.commands.serve import child_environment
from demo.seed import PASSWORD
from tests.test_deploy import environment, services

ROOT = Path(__file__).resolve().parents[2]
PROXY = {"DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}
HTTPS_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
)


def production_environment(**extra: str) -> dict[str, str]:
    """What the README documents for production: docker-compose.yml's web environment with
    the operator's values, behind a proxy that sets X-Forwarded-Proto."""
    operator = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "disputes.example",
        **PROXY,
    }
    env = {**os.environ, **environment(services()["web"], operator), **operator, **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_in(env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(HTTPS_SETTINGS)!r}}}))"
    )
    done = manage(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr[-2000:]
    values = json.loads(done.stdout.strip().splitlines()[-1])
    if values["SECURE_PROXY_SSL_HEADER"] is not None:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    return settings_in(production_environment())


def test_check_deploy_passes_with_the_documented_production_environment() -> None:
    done = manage(production_environment(), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout, done.stdout + done.stderr
    assert "WARNINGS" not in done.stdout + done.stderr


def test_check_deploy_names_what_a_plain_http_deployment_lacks() -> None:
    done = manage(production_environment(DJANGO_HTTPS="0"), "check", "--deploy")
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr, done.stderr


def test_production_turns_https_on(production: dict[str, Any]) -> None:
    assert production == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    }


def test_debug_off_means_https_unless_said_otherwise() -> None:
    bare = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    assert settings_in(bare)["SECURE_SSL_REDIRECT"] is True
    assert settings_in({**bare, "DJANGO_DEBUG": "1"})["SESSION_COOKIE_SECURE"] is False
    local = settings_in(child_environment(bare, port=8000))  # what `make run` serves with
    assert (local["SECURE_SSL_REDIRECT"], local["SESSION_COOKIE_SECURE"]) == (False, False)
    assert local["SECURE_HSTS_SECONDS"] == 0
    assert child_environment({"DJANGO_HTTPS": "1"}, port=8000)["DJANGO_HTTPS"] == "1"
    done = manage({**bare, "DJANGO_SECURE_PROXY_SSL_HEADER": "https"}, "check")
    assert done.returncode != 0 and "X-Forwarded-Proto: https" in done.stderr


@pytest.fixture
def https(production: dict[str, Any]) -> Any:
    with override_settings(**production, ALLOWED_HOSTS=["disputes.example"]):
        yield Client(HTTP_HOST="disputes.example", HTTP_X_FORWARDED_PROTO="https")


def _csp(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_security_headers(response: Any) -> None:
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "geolocation", "microphone", "payment", "usb"):
        assert f"{feature}=()" in policy
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert not [s for d in csp.values() for s in d if s.startswith("http")], "no CDN"


@pytest.mark.django_db
def test_the_console_sends_the_headers_and_logs_in_with_secure_cookies(
    https: Client, demo: Any
) -> None:
    page = https.get("/admin/login/")
    assert page.status_code == 200
    assert_security_headers(page)
    assert page.cookies["csrftoken"]["secure"]
    token = page.cookies["csrftoken"].value
    answer = https.post(
        "/admin/login/?next=/admin/",
        {"username": "mia_agent", "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_REFERER="https://disputes.example/admin/login/",
    )
    assert answer.status_code == 302, answer.content[:500]
    session = answer.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    queue = https.get(answer["Location"], follow=True)
    assert queue.status_code == 200
    assert_security_headers(queue)


@pytest.mark.django_db
def test_the_api_and_its_docs_send_the_headers(https: Client) -> None:
    for path in ("/api/v1/disputes/", "/api/schema/", "/api/docs/", "/api/docs/?script="):
        response = https.get(path)
        assert response.status_code in (200, 401), (path, response.status_code)
        assert_security_headers(response)
    docs = https.get("/api/docs/").content.decode()
    # Swagger UI without inline script: its start-up is a script file of the service.
    assert not re.search(r"<script>(?!\s*</script>)", docs)
    assert 'src="/api/docs/?script="' in docs
    assert https.get("/api/docs/?script=")["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db
def test_redoc_runs_its_one_inline_script_with_the_requests_nonce(https: Client) -> None:
    response = https.get("/api/redoc/")
    assert response.status_code == 200
    assert_security_headers(response)
    (nonce,) = [s for s in _csp(response)["script-src"] if s.startswith("'nonce-")]
    page = response.content.decode()
    inline = re.findall(r"<script( nonce=\"[^\"]*\")?>", page)
    assert inline == [f' nonce="{nonce[7:-1]}"'], inline
    assert "Redoc.init" in page and "googleapis" not in page


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_but_the_health_probes_answer(
    production: dict[str, Any],
) -> None:
    with override_settings(**production, ALLOWED_HOSTS=["disputes.example", "127.0.0.1"]):
        client = Client(HTTP_HOST="disputes.example")
        r = client.get("/admin/login/")
        assert (r.status_code, r["Location"]) == (301, "https://disputes.example/admin/login/")
        r = client.get("/api/v1/disputes/")
        assert (r.status_code, r["Location"]) == (301, "https://disputes.example/api/v1/disputes/")
        # docker-compose's healthcheck calls http://127.0.0.1:8000/readyz directly.
        probe = Client(HTTP_HOST="127.0.0.1")
        assert probe.get("/healthz").status_code == 200
        assert probe.get("/readyz").status_code == 200
        # A secure request (as the proxy says) gets HSTS; plain http never does.
        assert "Strict-Transport-Security" not in probe.get("/healthz")
