"""The deployment files agree with the code they deploy (DESIGN §10).

docker-compose.yml, the Dockerfile and .ci/run cannot be run here (no Docker engine; the CI
script needs root and real services), so these tests check what can go stale without anyone
noticing: programs and import targets, the environment variables settings actually read, the
URLs between services, and the CI script's failure handling.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SETTINGS = ROOT / "config" / "settings.py"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
VENV_BIN = Path(sys.executable).parent

WORKERS = ("worker", "worker-webhooks", "worker-emails")
APP_SERVICES = ("migrate", "web", *WORKERS, "beat")
# The long-running ones, which start once the migration job has finished.
SERVING = ("web", *WORKERS, "beat")
EXPECTED_SERVICES = {*APP_SERVICES, "db", "redis", "mailcatcher", "minio", "createbuckets"}
ENV_READERS = {"env", "env_bool", "env_int", "env_list"}
ENV_CALLS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop"}
# What an operator must pass for `docker compose up` (${NAME:?...} in the compose file).
OPERATOR_ENV = {
    "DJANGO_SECRET_KEY": "operator-provided-secret",
    "AUDIT_HMAC_KEY": "operator-provided-audit-key",
}


# --- Helpers ------------------------------------------------------------------------------


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def settings_env_vars() -> set[str]:
    """Every variable config/settings.py reads: env("X"...), env_int("X"...), os.environ..."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text(), str(SETTINGS))):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            if (isinstance(func, ast.Name) and func.id in ENV_READERS) or _dotted(
                func
            ) in ENV_CALLS:
                names.add(first.value)
        elif isinstance(node, ast.Subscript) and _dotted(node.value) == "os.environ":
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: Any, environ: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, against ``environ``."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        if environ.get(name):
            return environ[name]
        if op and op.endswith("?"):
            raise LookupError(f"compose requires {name}: {arg}")
        return arg if op else ""

    return _INTERPOLATION.sub(substitute, str(value))


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, Any]:
    return compose()["services"]


def environment(service: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    env = OPERATOR_ENV if environ is None else environ
    return {key: interpolate(value, env) for key, value in raw.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def dockerfile_cmd() -> list[str]:
    cmds = [args for keyword, args in dockerfile_instructions() if keyword == "CMD"]
    assert len(cmds) == 1, "the Dockerfile should have exactly one CMD"
    argv = json.loads(cmds[0])  # exec form; the shell form would not get signals
    assert isinstance(argv, list)
    return argv


def commands(service: dict[str, Any]) -> list[list[str]]:
    """The argv of each program a service runs: its command (or the image's CMD), with
    ``sh -c "a && exec b"`` split into its parts."""
    raw = service.get("command") or dockerfile_cmd()
    argv = shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]
    if len(argv) == 3 and Path(argv[0]).name in {"sh", "bash"} and argv[1] == "-c":
        parts = [shlex.split(part) for part in re.split(r"&&|\|\||;", argv[2])]
        return [part[1:] if part[0] == "exec" else part for part in parts if part]
    return [argv]


def program(service_name: str, name: str) -> list[str]:
    found = [argv for argv in commands(services()[service_name]) if argv[0] == name]
    assert len(found) == 1, f"{service_name} should run {name} exactly once"
    return found[0]


def parse_gunicorn(argv: list[str]) -> Any:
    from gunicorn.config import Config

    assert Path(argv[0]).name == "gunicorn"
    return (
        Config(usage="%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn")
        .parser()
        .parse_args(argv[1:])
    )


def celery_option_names(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


# --- docker-compose.yml ---------------------------------------------------------------------


def test_expected_services_exist() -> None:
    assert set(services()) >= EXPECTED_SERVICES


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_this_repository(name: str) -> None:
    build = services()[name]["build"]
    context = build if isinstance(build, str) else build["context"]
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_programs_exist_in_the_virtualenv(name: str) -> None:
    argvs = commands(services()[name])
    assert argvs
    for argv in argvs:
        assert (VENV_BIN / Path(argv[0]).name).exists(), f"{name} runs {argv[0]!r}: not installed"


def test_migrations_are_a_one_off_job_that_everything_else_waits_for() -> None:
    """Three web processes migrating one fresh database at once raced (IntegrityError):
    the migrate service runs them once, and web, worker and beat start after it exits 0."""
    svc = services()
    assert commands(svc["migrate"]) == [["python", "manage.py", "migrate", "--noinput"]]
    assert svc["migrate"]["restart"] == "no"  # a job: run once, not restarted when it exits
    for name in SERVING:
        assert svc[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        for argv in commands(svc[name]):
            assert "migrate" not in argv, f"{name} migrates: only the job may"
    assert (ROOT / "manage.py").exists()


def _seconds(duration: str) -> float:
    """A compose duration (``35s``, ``2m10s``, ``1h``) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
    return sum(float(n) * scale[u] for n, u in parts)


def test_a_stop_waits_longer_than_the_work_in_flight_may_take() -> None:
    """Docker sends SIGTERM, then SIGKILL after stop_grace_period (10 s by default): web's
    grace is above gunicorn's graceful timeout, the worker's above the task time limit, so a
    stop or a rolling update ends no request and no task half-way."""
    from django.conf import settings

    svc = services()
    gunicorn_conf = (ROOT / "config" / "gunicorn.conf.py").read_text()
    graceful = re.search(r'"GUNICORN_GRACEFUL_TIMEOUT",\s*(\d+)', gunicorn_conf)
    assert graceful, "config/gunicorn.conf.py reads GUNICORN_GRACEFUL_TIMEOUT"
    assert _seconds(svc["web"]["stop_grace_period"]) > int(graceful.group(1))
    assert _seconds(svc["worker"]["stop_grace_period"]) > settings.CELERY_TASK_TIME_LIMIT
    assert _seconds("2m10s") == 130


def test_every_image_is_pinned_to_a_release() -> None:
    """No ``latest`` and no bare major version: a rebuild or a pull gets what was tested."""
    for name, service in services().items():
        image = service["image"]
        if name in APP_SERVICES:
            # The image built here, tagged IMAGE_TAG by whoever builds it.
            built = re.fullmatch(r"mediation-service:\$\{IMAGE_TAG:-([\w.-]+)\}", image)
            assert built and built.group(1) != "latest", (name, image)
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag, f"{name}: {image} has no tag"
        # A release: PostgreSQL's 16.6 (its minor is the patch release), Redis' 7.4.1,
        # MinIO's RELEASE.2025-09-07T16-13-09Z.
        release = r"v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ"
        assert re.fullmatch(release, tag), f"{name}: {image}"
    base = next(args for keyword, args in dockerfile_instructions() if keyword == "FROM")
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+", base), base


def test_gunicorn_reads_the_projects_settings_file() -> None:
    """Timeouts, worker recycling and the request-line limit come from config/gunicorn.conf.py;
    the address a client sees past the service's own 414 limit is the file's."""
    from django.conf import settings
    from gunicorn.config import Config

    options = parse_gunicorn(program("web", "gunicorn"))
    assert options.config == "config/gunicorn.conf.py" and (ROOT / options.config).is_file()
    config = Config()
    namespace: dict[str, Any] = {}
    exec(compile((ROOT / options.config).read_text(), options.config, "exec"), namespace)
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    assert config.limit_request_line == 8190 > settings.MAX_URL_LENGTH
    assert config.timeout == 30 and config.graceful_timeout == 25
    assert config.max_requests == 2000 and config.max_requests_jitter == 200
    assert config.workers == 3
    # No control socket in the home of the image's user (GUNICORN_CONTROL_SOCKET sets one).
    assert config.control_socket_disable is True


def test_gunicorn_serves_the_wsgi_application() -> None:
    from gunicorn.util import import_app

    from config.wsgi import application

    options = parse_gunicorn(program("web", "gunicorn"))
    assert options.args == ["config.wsgi:application"]
    assert import_app(options.args[0]) is application
    assert callable(application)


def test_celery_worker_runs_the_config_app() -> None:
    from celery import Celery
    from celery.app.utils import find_app
    from celery.bin.celery import celery as celery_cli

    argv = program("worker", "celery")
    assert argv[1:4] == ["-A", "config", "worker"]
    app = find_app(argv[2])
    assert isinstance(app, Celery)
    assert app.main == "mediation"
    assert app.conf.broker_url  # read from settings (CELERY_ namespace)
    unknown = {a for a in argv[4:] if a.startswith("-")} - celery_option_names(
        celery_cli.commands["worker"]
    )
    assert not unknown


def test_celery_beat_takes_its_scheduler_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """compose's beat names no scheduler: settings choose RedBeat on its Redis broker (a
    lock: a second beat is a standby), django-celery-beat's on the embedded default."""
    from celery.app.utils import find_app
    from celery.beat import Scheduler
    from celery.bin.celery import celery as celery_cli
    from celery.utils.imports import symbol_by_name

    argv = program("beat", "celery")
    assert argv[1:4] == ["-A", "config", "beat"]
    assert find_app(argv[2]).main == "mediation"
    assert "--scheduler" not in argv and "-S" not in argv
    unknown = {a for a in argv[4:] if a.startswith("-")} - celery_option_names(
        celery_cli.commands["beat"]
    )
    assert not unknown
    code = (
        "from django.conf import settings as s; "
        "from django.contrib import admin; "
        "from django_celery_beat.models import PeriodicTask; "
        "print(admin.site.is_registered(PeriodicTask), "
        "s.CELERY_BEAT_SCHEDULER, getattr(s, 'CELERY_REDBEAT_REDIS_URL', ''))"
    )
    from tests.config.test_security import manage

    env = {**os.environ, **environment(services()["beat"])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = manage(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    in_console, scheduler, redis_url = done.stdout.split()[-3:]
    assert scheduler == "redbeat.RedBeatScheduler"
    # The schedule is in Redis: the console does not offer the database's tables, whose
    # edits would change nothing.
    assert in_console == "False"
    assert redis_url == environment(services()["beat"])["CELERY_BROKER_URL"]
    for path in (scheduler, "django_celery_beat.schedulers:DatabaseScheduler"):
        found = symbol_by_name(path)
        assert isinstance(found, type) and issubclass(found, Scheduler)
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    # On the embedded default they are the schedule, edited in the console.
    from django.contrib import admin
    from django_celery_beat.models import PeriodicTask

    assert admin.site.is_registered(PeriodicTask)


def test_workers_and_beat_have_health_checks() -> None:
    svc = services()
    for name in ("worker", "worker-webhooks", "worker-emails"):
        test = " ".join(svc[name]["healthcheck"]["test"])
        assert "inspect ping --destination celery@$$HOSTNAME" in test, name
    assert svc["beat"]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "beat_health"]


def test_settings_scanner_finds_the_known_variables() -> None:
    # Guards the scanner itself: if it found nothing, the next test would pass vacuously.
    assert {
        "DJANGO_SECRET_KEY",
        "DJANGO_DEBUG",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "EMAIL_PORT",
        "DATA_DIR",
    } <= settings_env_vars()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_environment_is_read_by_settings(name: str) -> None:
    env = environment(services()[name])
    assert env, f"{name} sets no environment"
    read = settings_env_vars()
    if name == "web":  # gunicorn's settings file reads its own
        conf = (ROOT / "config" / "gunicorn.conf.py").read_text()
        read |= set(re.findall(r'(?:os\.environ\.get|_int)\("(\w+)"', conf))
    assert set(env) - read == set()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_secret_key_is_required_not_committed(name: str) -> None:
    raw = services()[name]["environment"]["DJANGO_SECRET_KEY"]
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]*\}", raw)
    with pytest.raises(LookupError):
        environment(services()[name], environ={})


def test_database_url_points_at_the_db_service() -> None:
    from config.settings import database_from_url

    db_env = environment(services()["db"])
    for name in APP_SERVICES:
        database = database_from_url(environment(services()[name])["DATABASE_URL"])
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["HOST"] == "db"
        assert database["PORT"] in ("", "5432")
        assert database["NAME"] == db_env["POSTGRES_DB"]
        assert database["USER"] == db_env["POSTGRES_USER"]
        assert database["PASSWORD"] == db_env["POSTGRES_PASSWORD"]
    # An operator's password reaches both sides.
    custom = {**OPERATOR_ENV, "POSTGRES_PASSWORD": "s3cret"}
    assert environment(services()["db"], custom)["POSTGRES_PASSWORD"] == "s3cret"
    url = environment(services()["web"], custom)["DATABASE_URL"]
    assert database_from_url(url)["PASSWORD"] == "s3cret"


def test_redis_urls_point_at_the_redis_service() -> None:
    for name in APP_SERVICES:
        env = environment(services()[name])
        for key in ("REDIS_URL", "CELERY_BROKER_URL"):
            url = urlparse(env[key])
            assert (url.scheme, url.hostname, url.port or 6379) == ("redis", "redis", 6379), key
        # Cache and broker in different Redis databases, so a cache flush loses no tasks.
        assert urlparse(env["REDIS_URL"]).path != urlparse(env["CELERY_BROKER_URL"]).path


def test_the_broker_follows_redis_url_to_another_database() -> None:
    """With only REDIS_URL set, the broker takes the next database of the same server, never
    the cache's; with CELERY_BROKER_URL set, that; without either, local files."""
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import broker_url

    assert broker_url("", "redis://redis:6379/0") == "redis://redis:6379/1"
    assert broker_url("", "redis://:secret@redis") == "redis://:secret@redis/1"
    assert broker_url("", "rediss://r:6380/4?ssl_cert_reqs=required") == (
        "rediss://r:6380/5?ssl_cert_reqs=required"
    )
    assert broker_url("", "redis://r/3?db=5") == "redis://r/6"  # redis-py reads ?db= first
    assert broker_url("", "redis://a:6379/2,redis://b:6379/2") == "redis://a:6379/3"
    assert broker_url("redis://broker:6379/0", "redis://redis:6379/0") == "redis://broker:6379/0"
    assert broker_url("", "") == "filesystem://"
    for no_next in ("redis://redis:6379/15", "unix:///run/redis.sock?db=1"):
        with pytest.raises(ImproperlyConfigured, match="set it"):
            broker_url("", no_next)
    for name in APP_SERVICES:  # compose names both; they stay apart
        env = environment(services()[name])
        effective = broker_url(env.get("CELERY_BROKER_URL", ""), env["REDIS_URL"])
        assert urlparse(effective).path != urlparse(env["REDIS_URL"]).path


def test_mail_goes_to_the_mail_catcher() -> None:
    from django.utils.module_loading import import_string

    catcher = services()["mailcatcher"]
    assert "mailpit" in catcher["image"] or "mailhog" in catcher["image"]
    assert any(str(port).endswith("8025") for port in catcher.get("ports", []))
    for name in ("web", "worker"):
        env = environment(services()[name])
        assert import_string(env["EMAIL_BACKEND"])
        assert env["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        assert env["EMAIL_HOST"] == "mailcatcher"
        assert int(env["EMAIL_PORT"]) == 1025


def test_deployment_is_not_in_debug_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import env_bool

    for name in APP_SERVICES:
        monkeypatch.setenv("DJANGO_DEBUG", environment(services()[name]).get("DJANGO_DEBUG", ""))
        assert env_bool("DJANGO_DEBUG", False) is False, name


def test_services_wait_for_what_they_need() -> None:
    svc = services()
    for name in ("db", "redis", "web"):
        assert svc[name].get("healthcheck", {}).get("test"), f"{name} needs a healthcheck"
    for name in APP_SERVICES:
        depends = svc[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_web_healthcheck_probes_a_real_endpoint_on_the_served_port() -> None:
    from django.urls import resolve

    web = services()["web"]
    probe = " ".join(web["healthcheck"]["test"])
    url = urlparse(re.search(r"https?://[^'\"\s]+", probe).group(0))  # type: ignore[union-attr]
    assert resolve(url.path).url_name in {"healthz", "readyz"}
    bind = parse_gunicorn(program("web", "gunicorn")).bind
    assert [b.rsplit(":", 1)[1] for b in bind] == [str(url.port)]
    assert any(str(port).endswith(f":{url.port}") for port in web["ports"])
    # The probe's Host must stay allowed even when the operator sets their own host names.
    for environ in (OPERATOR_ENV, {**OPERATOR_ENV, "DJANGO_ALLOWED_HOSTS": "disputes.example"}):
        allowed = environment(web, environ)["DJANGO_ALLOWED_HOSTS"].split(",")
        assert url.hostname in allowed


def test_settings_load_with_the_compose_environment(tmp_path: Path) -> None:
    """gunicorn --check-config imports the app in a fresh process with web's environment."""
    env = {**os.environ, **environment(services()["web"])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    assert env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "prometheus")  # not this machine's /tmp
    argv = program("web", "gunicorn")
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "--check-config", *argv[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_base_image_satisfies_requires_python() -> None:
    base = next(args for keyword, args in dockerfile_instructions() if keyword == "FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.\d+-slim(?:\S*)?(?: AS \w+)?", base, re.IGNORECASE)
    assert match, base
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = re.fullmatch(r">=\s*(\d+)\.(\d+)", requires)
    assert minimum, requires
    image = (int(match.group(1)), int(match.group(2)))
    assert image >= (int(minimum.group(1)), int(minimum.group(2)))


def test_dockerfile_installs_from_the_lock_and_collects_static() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install -c requirements\.lock \.(\s|$)", run) for run in runs)
    assert any("manage.py collectstatic --noinput" in run for run in runs)
    copied = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "COPY")
    for needed in ("pyproject.toml", "requirements.lock"):
        assert needed in copied and (ROOT / needed).exists()


def install_closure(requirements: list[str]) -> set[str]:
    """The distributions ``pip install`` of these requirements brings in (per the venv)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[tuple[str, str]] = set()
    todo = [Requirement(spec) for spec in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for spec in importlib.metadata.requires(name) or []:
                dependency = Requirement(spec)
                if dependency.marker is None or dependency.marker.evaluate({"extra": extra}):
                    todo.append(dependency)
    return {name for name, _ in seen}


def image_requirements() -> list[str]:
    """What the Dockerfile's ``pip install`` names, with ``.`` expanded to pyproject's list."""
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    install = next(run for run in runs if "pip install" in run).split("&&")[0]
    tokens = shlex.split(install)
    requirements: list[str] = []
    tokens = tokens[tokens.index("install") + 1 :]
    while tokens:
        token = tokens.pop(0)
        if token in {"-c", "--constraint", "-r", "--requirement"}:
            tokens.pop(0)
        elif token == ".":
            pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
            requirements += pyproject["project"]["dependencies"]
        elif not token.startswith("-"):
            requirements.append(token)
    return requirements


def test_image_installs_what_the_compose_broker_needs() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    installed = install_closure(image_requirements())
    assert {"django", "gunicorn", "celery", "psycopg", "whitenoise"} <= installed
    scheme = urlparse(environment(services()["worker"])["CELERY_BROKER_URL"]).scheme
    transport = [Requirement(spec) for spec in importlib.metadata.requires("kombu") or []]
    needed = {
        canonicalize_name(r.name)
        for r in transport
        if r.marker is not None and r.marker.evaluate({"extra": scheme})
    }
    assert needed, f"kombu has no extra for the {scheme!r} broker"
    assert needed <= installed, f"the image lacks {sorted(needed - installed)} for {scheme}://"


def test_image_dependencies_are_all_pinned_in_the_lock() -> None:
    from packaging.utils import canonicalize_name

    locked = {
        canonicalize_name(line.split("==", 1)[0])
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    assert sorted(install_closure(image_requirements()) - locked) == []


def test_dockerfile_runs_as_an_unprivileged_user() -> None:
    users = [args for keyword, args in dockerfile_instructions() if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_dockerfile_cmd_is_the_web_server_compose_runs() -> None:
    assert not [a for k, a in dockerfile_instructions() if k == "ENTRYPOINT"], (
        "compose's commands assume no ENTRYPOINT wraps them"
    )
    cmd = dockerfile_cmd()
    assert cmd == program("web", "gunicorn")
    assert parse_gunicorn(cmd).args == ["config.wsgi:application"]
    exposed = [args for keyword, args in dockerfile_instructions() if keyword == "EXPOSE"]
    assert exposed == [parse_gunicorn(cmd).bind[0].rsplit(":", 1)[1]]


def test_dockerfile_and_compose_agree_on_paths() -> None:
    image_env: dict[str, str] = {}
    for keyword, args in dockerfile_instructions():
        if keyword == "ENV":
            image_env.update(dict(pair.split("=", 1) for pair in shlex.split(args)))
    assert image_env.get("DJANGO_SETTINGS_MODULE") == "config.settings"
    for name in APP_SERVICES:
        env = environment(services()[name])
        for key in ("STATIC_ROOT", "MEDIA_ROOT", "DATA_DIR"):
            assert env.get(key, image_env[key]) == image_env[key], (name, key)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_audit_key_is_required_not_committed(name: str) -> None:
    env = services()[name]["environment"]
    assert re.fullmatch(r"\$\{AUDIT_HMAC_KEY:\?[^}]*\}", env["AUDIT_HMAC_KEY"])
    with pytest.raises(LookupError):
        environment(services()[name], environ={"DJANGO_SECRET_KEY": "set"})


def test_evidence_and_checkpoints_are_on_s3_compatible_storage(tmp_path: Path) -> None:
    """No shared volume (one host only): every app service reads and writes the evidence and
    the audit checkpoints in MinIO's buckets, which the createbuckets job makes before they
    start (the evidence's versioned, the checkpoints' locked)."""
    from tests.config.test_security import manage

    svc = services()
    for name in APP_SERVICES:
        assert not svc[name].get("volumes"), f"{name} mounts a volume: only one host has it"
    for name in SERVING:
        depends = svc[name]["depends_on"]["createbuckets"]
        assert depends["condition"] == "service_completed_successfully", name
    assert svc["createbuckets"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert svc["createbuckets"]["restart"] == "no"
    script = svc["createbuckets"]["entrypoint"][2]
    env = environment(svc["web"])
    evidence, anchors = env["AWS_STORAGE_BUCKET_NAME"], env["AUDIT_ANCHOR_BUCKET"]
    assert f"mc mb --ignore-existing local/{evidence}" in script
    assert f"mc version enable local/{evidence}" in script
    assert f"mc mb --ignore-existing --with-lock local/{anchors}" in script
    assert f"mc retention set --default GOVERNANCE 365d local/{anchors}" in script
    assert evidence != anchors
    minio = environment(svc["minio"])
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )
    assert urlparse(env["AWS_S3_ENDPOINT_URL"]).hostname == "minio"

    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({k: s.STORAGES[k] for k in ('default', 'audit_anchors')}))"
    )
    run_env = {**os.environ, **env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    run_env.pop("DJANGO_SETTINGS_MODULE", None)
    done = manage(run_env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    storages = json.loads(done.stdout.strip().splitlines()[-1])
    for key, bucket in (("default", evidence), ("audit_anchors", anchors)):
        assert storages[key]["BACKEND"] == "storages.backends.s3.S3Storage", key
        options = storages[key]["OPTIONS"]
        assert options["bucket_name"] == bucket
        assert options["endpoint_url"] == env["AWS_S3_ENDPOINT_URL"]


def test_dockerignore_keeps_local_state_out_but_the_code_in() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        # Docker's rules: patterns are anchored at the context root unless they start with
        # **/, a match on a directory covers what is under it, and the last match wins.
        parts = path.split("/")
        prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
        anywhere = [
            "/".join(parts[start:end]) for end in range(1, len(parts) + 1) for start in range(end)
        ]
        result = False
        for pattern in patterns:
            negated = pattern.startswith("!")
            body = pattern.removeprefix("!").strip("/")
            if body.startswith("**/"):
                candidates, body = anywhere, body.removeprefix("**/")
            else:
                candidates = prefixes
            if any(fnmatch.fnmatch(candidate, body) for candidate in candidates):
                result = not negated
        return result

    for path in (".git", ".venv", "var", "staticfiles", ".env", "config/__pycache__", "clients"):
        assert ignored(path), path
    for path in (
        "manage.py",
        "pyproject.toml",
        "requirements.lock",
        "config/settings.py",
        "config/wsgi.py",
        "api/views.py",
        "mediation/models.py",
        "workflows/transitions.py",
        "mediation/migrations/0001_initial.py",
    ):
        assert not ignored(path), path


# --- README ---------------------------------------------------------------------------------


def test_every_setting_variable_is_documented_in_the_readme() -> None:
    section = re.search(r"^## Configuration$(.*?)(?=^## |\Z)", README.read_text(), re.M | re.S)
    assert section, "README.md has no '## Configuration' section"
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section.group(1)))
    assert sorted(settings_env_vars() - documented) == []


# --- .ci/run --------------------------------------------------------------------------------


def ci_script() -> str:
    return CI_RUN.read_text()


def test_ci_run_is_an_executable_bash_script() -> None:
    assert os.access(CI_RUN, os.X_OK)
    assert ci_script().splitlines()[0] in {"#!/usr/bin/env bash", "#!/bin/bash"}
    subprocess.run(["bash", "-n", str(CI_RUN)], check=True, timeout=30)


def test_ci_run_fails_on_errors_and_reports_the_step() -> None:
    script = ci_script()
    assert re.search(r"^set -euo pipefail$", script, re.MULTILINE)
    assert re.search(r"^\s*trap \S+ EXIT", script, re.MULTILINE)


def test_ci_run_covers_every_gate() -> None:
    script = ci_script()
    for needle in (
        "make test",
        "5432",
        "6379",
        "pg_isready",
        "redis-cli",
        "DATABASE_URL=",
        "REDIS_URL=",
        "--create-db",
        "ruff check",
        "ruff format --check",
        "mypy",
        "manage.py spectacular",
        "diff -u openapi.yaml",
    ):
        assert needle in script, needle


def test_ci_runs_both_suites_in_parallel_and_checks_the_layers() -> None:
    script = ci_script()
    makefile = (CI_RUN.parents[1] / "Makefile").read_text()
    test_target = makefile.split("\ntest: install\n", 1)[1].split("\n\n", 1)[0]
    assert "-n auto" in test_target  # make test, the first run
    assert "-p no:cacheprovider -n 3 --create-db" in script  # the PostgreSQL run
    # on throw-away databases, whose commits need not wait for the WAL flush
    assert "synchronous_commit%3Doff" in script
    assert "lint-imports" in script
    assert "the suite took" in script


def test_ci_runs_the_contract_test_on_both_databases_with_a_fixed_seed() -> None:
    script = ci_script()
    main = script.split("\nmain() {", 1)[1]
    assert main.count("run_contract ") == 2
    assert 'section "contract test (SQLite)"' in main
    assert 'section "contract test (PostgreSQL + Redis)"' in main
    # each after its suite: the SQLite one on the embedded defaults, the other on PostgreSQL
    assert main.index("make test") < main.index("contract test (SQLite)")
    assert main.index("--create-db") < main.index("contract test (PostgreSQL + Redis)")
    sqlite = main.split('section "contract test (SQLite)"', 1)[1].split("step_done", 1)[0]
    assert '"${DEFAULTS[@]}"' in sqlite
    postgres = main.split('section "contract test (PostgreSQL + Redis)"', 1)[1]
    postgres = postgres.split("step_done", 1)[0]
    assert 'DATABASE_URL="$CI_DATABASE_URL"' in postgres
    assert re.search(r'^CONTRACT_SEED="\$\{CONTRACT_SEED:-\d+\}"$', script, re.MULTILINE)
    runner = script.split("run_contract() {", 1)[1].split("\n}\n", 1)[0]
    assert "-m contract tests/contract" in runner
    assert 'CONTRACT_SEED="$CONTRACT_SEED"' in runner
    assert "run_pytest" in runner  # "no tests collected" fails it too


def _run_pytest_gate(command: str) -> subprocess.CompletedProcess[str]:
    # Sourcing the script defines its functions without running the gate.
    return subprocess.run(
        ["bash", "-c", f'source "$1"; run_pytest "fake suite" {command}', "ci-test", str(CI_RUN)],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("bash -c 'echo no tests ran in 0.01s; exit 5'", id="pytest-exit-5"),
        pytest.param(
            "bash -c 'echo \"make: *** [Makefile:33: test] Error 5\"; exit 2'", id="make-error-5"
        ),
    ],
)
def test_ci_run_treats_no_collected_tests_as_failure(command: str) -> None:
    result = _run_pytest_gate(command)
    assert result.returncode != 0
    assert "collected no tests" in result.stderr


def test_ci_run_passes_a_green_suite_and_fails_a_red_one() -> None:
    assert _run_pytest_gate("true").returncode == 0
    red = _run_pytest_gate("bash -c 'exit 1'")
    assert red.returncode == 1
    assert "fake suite: tests failed" in red.stderr
