"""Secrets in deployment: every setting may come from a file (``NAME_FILE``, a mounted
secret), and production settings (``DJANGO_DEBUG=0``) refuse the development key."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from tests.config.test_security import manage

SHOW = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'key': s.SECRET_KEY, 'debug': s.DEBUG, "
    "'audit': s.AUDIT_HMAC_KEYS[s.AUDIT_HMAC_KEY_ID].hex(), 'audit_id': s.AUDIT_HMAC_KEY_ID, "
    "'db': s.DATABASES['default']['NAME'], 'smtp': s.EMAIL_HOST_PASSWORD}))"
)


def _env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "AUDIT_HMAC", "EMAIL_HOST_PASSWORD"))
        and k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    return {**env, **values}


def _settings(env: dict[str, str]) -> dict[str, object]:
    done = manage(env, "shell", "-c", SHOW)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_settings_refuse_the_development_key() -> None:
    done = manage(_env(DJANGO_DEBUG="0"), "check")
    assert done.returncode != 0
    assert "DJANGO_DEBUG=0 and no DJANGO_SECRET_KEY" in done.stderr, done.stderr[-2000:]
    # gunicorn and Celery load the same settings: neither starts either.
    done = manage(_env(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=""), "check")
    assert done.returncode != 0 and "DJANGO_SECRET_KEY" in done.stderr


def test_a_laptop_runs_on_the_development_key() -> None:
    # make run and make test set no DJANGO_DEBUG: the embedded default needs no secret.
    assert _settings(_env())["key"] == "insecure-local-development-key-change-me"
    assert _settings(_env(DJANGO_DEBUG="1"))["debug"] is True


def test_production_starts_with_a_key_of_its_own() -> None:
    key = secrets.token_urlsafe(50)
    assert _settings(_env(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key))["key"] == key


def test_every_secret_may_come_from_a_file(tmp_path: Path) -> None:
    key, audit, password = secrets.token_urlsafe(50), secrets.token_hex(32), "p@ss word\t"
    files = {
        "DJANGO_SECRET_KEY": key + "\n",  # as `echo` or a Kubernetes Secret writes it
        "AUDIT_HMAC_KEY": audit,
        "EMAIL_HOST_PASSWORD": password + "\r\n",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'from-a-file.sqlite3'}\n",
    }
    env = _env(DJANGO_DEBUG="0", AUDIT_HMAC_KEY_ID="k7")
    for name, content in files.items():
        path = tmp_path / name.lower()
        path.write_text(content, encoding="utf-8")
        env[f"{name}_FILE"] = str(path)
    found = _settings(env)
    assert found["key"] == key
    assert found["audit_id"] == "k7"
    assert found["audit"] == _settings(_env(AUDIT_HMAC_KEY=audit, AUDIT_HMAC_KEY_ID="k7"))["audit"]
    assert found["smtp"] == password  # only the final line break is dropped
    assert found["db"] == str(tmp_path / "from-a-file.sqlite3")


def test_a_variable_and_its_file_at_once_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("from-the-file", encoding="utf-8")
    done = manage(_env(DJANGO_SECRET_KEY="inline", DJANGO_SECRET_KEY_FILE=str(path)), "check")
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY and DJANGO_SECRET_KEY_FILE are both set" in done.stderr


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"
    done = manage(_env(DJANGO_SECRET_KEY_FILE=str(missing)), "check")
    assert done.returncode != 0
    assert f"DJANGO_SECRET_KEY_FILE={missing}: cannot read the file" in done.stderr
