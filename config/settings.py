"""Settings for the mediation service.

Every value that differs between a laptop and a deployment is read from an environment
variable with a safe local default, so that ``make run`` works with nothing configured
(SQLite, local files, console email, a Celery broker on local files) and a deployment
is configured the twelve-factor way. Every variable is listed in the README.
"""

from __future__ import annotations

import logging
import os
import re
import zoneinfo
from datetime import timedelta
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse, urlunparse

from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from config.logs import configure_structlog, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_raw(name: str) -> str | None:
    """The variable ``name``, or the content of the file ``NAME_FILE`` names (a mounted
    secret: Docker's and Kubernetes' way), with the file's final line break dropped; None
    when neither is set. Both set at once is refused, as is a file that cannot be read."""
    value = os.environ.get(name)
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return value
    if value is not None:
        raise ImproperlyConfigured(f"{name} and {name}_FILE are both set: set one of them.")
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"{name}_FILE={path}: cannot read the file ({exc}).") from None
    return content.removesuffix("\n").removesuffix("\r")


def env(name: str, default: str = "") -> str:
    value = env_raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = env_raw(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env_raw(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path.startswith("//") or path.startswith("/"):  # sqlite:////absolute/path
            path = path[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if path.startswith("/") else str(BASE_DIR / path),
            # The embedded default runs web, worker and beat on one file: write-ahead logging
            # lets readers and a writer work side by side, and IMMEDIATE transactions take the
            # write lock up front, so two writers queue (for up to 20 s) instead of failing
            # with "database is locked" when a read turns into a write.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            # A connection kept from an earlier request is checked (SELECT 1) before its first
            # use in the next one, and replaced if the server dropped it (a restart, a
            # failover, an idle timeout): the request goes on instead of failing on it.
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


# --- Core -----------------------------------------------------------------------------

# DJANGO_SECRET_KEY: required in deployment; the default only suits a laptop.
DEVELOPMENT_SECRET_KEY = "insecure-local-development-key-change-me"
SECRET_KEY = env("DJANGO_SECRET_KEY")
SECRET_KEY = SECRET_KEY if SECRET_KEY.strip() else DEVELOPMENT_SECRET_KEY
# DJANGO_DEBUG: "1" for development pages; off by default. A deployment says DJANGO_DEBUG=0,
# and then the service does not start on the development key (a key anyone can read here
# would let anyone sign sessions, password-reset links and the derived audit key).
DEBUG = env_bool("DJANGO_DEBUG", False)
if env_raw("DJANGO_DEBUG") is not None and not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG=0 and no DJANGO_SECRET_KEY: set DJANGO_SECRET_KEY (or "
        "DJANGO_SECRET_KEY_FILE) to a long random string, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )
# DJANGO_ALLOWED_HOSTS: comma-separated host names the service answers to.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# DJANGO_CSRF_TRUSTED_ORIGINS: origins allowed to post the console's forms (https://...).
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# DATA_DIR: where the embedded default keeps its SQLite database, uploads and broker files.
DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    # Django's admin as the mediator console: mediators and superusers only.
    "console.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # Personal API tokens (hashed, expiring) and integrations' API keys.
    "knox",
    "rest_framework_api_key",
    # Lockout after repeated failed logins, on the API's token endpoint and the console.
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # Structured logs: the request's and the task's ids in every record (config/logs.py).
    "django_structlog",
    # /metrics: request rate, latency and status by view (config/metrics.py).
    "django_prometheus",
    "django_celery_beat",
    "mediation",
    "workflows",
    "notifications",
    "api",
    "webhooks",
    "console.apps.ConsoleConfig",
    "reports",
    "demo",
    "benchmarks",
]

MIDDLEWARE = [
    # First: each request's id (and its user, dispute) in every record logged while it runs,
    # X-Request-ID in its response.
    "config.middleware.RequestLogMiddleware",
    # Request counts and latency by view, around everything else (django-prometheus).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Then: an address over MAX_URL_LENGTH is answered 414 before anything reads it.
    "config.middleware.UrlLengthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    # A view that meets an unavailable database answers 503 problem+json, not a 500 page.
    "config.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The console's pages in the mediator's time zone (the API keeps its ISO 8601 offsets).
    "console.timezones.ConsoleTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login refused for a locked-out account or address into its answer.
    "axes.middleware.AxesMiddleware",
    # Last: the view's name, status and latency for the request metrics.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# METRICS_TOKEN: the bearer token Prometheus sends for GET /metrics; unset, /metrics is off
# (404). PROMETHEUS_MULTIPROC_DIR (prometheus_client's own variable, set by the image): a
# folder where each gunicorn worker writes its counters, so a scrape adds them all up.
METRICS_TOKEN = env("METRICS_TOKEN").strip()
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Before django-prometheus creates its metrics, in any process of that environment (a
    # management command in the web container too): gunicorn empties it when it starts.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

# MAX_URL_LENGTH: the longest path and query string taken (4096 characters); a longer one is
# 414 problem+json `uri_too_long`. gunicorn reads request lines of up to 8190 bytes.
MAX_URL_LENGTH = env_int("MAX_URL_LENGTH", 4096)

# --- HTTPS and security headers (README "Production security settings") --------------------

# DJANGO_HTTPS: clients reach the service over HTTPS (directly or through a TLS-terminating
# proxy). On unless DJANGO_DEBUG; `manage.py serve` (make run) sets it to 0 for its plain
# http://127.0.0.1 server. On: http is redirected to https (the health probes excepted),
# session and CSRF cookies are Secure, and HSTS is sent.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
# The probes and the metrics scrape come over the internal network, on plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# DJANGO_HSTS_SECONDS: Strict-Transport-Security max-age with DJANGO_HTTPS (one year).
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000) if HTTPS else 0
# DJANGO_HSTS_INCLUDE_SUBDOMAINS / DJANGO_HSTS_PRELOAD: the HSTS flags (on / off).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# DJANGO_SECURE_PROXY_SSL_HEADER: "X-Forwarded-Proto: https" when a proxy in front terminates
# TLS and sets that header (and strips it from clients); unset: no proxy header is trusted.
_proxy_header = env("DJANGO_SECURE_PROXY_SSL_HEADER").strip()
if _proxy_header:
    _name, _sep, _value = _proxy_header.partition(":")
    if not (_sep and _name.strip() and _value.strip()):
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https'."
        )
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _name.strip().upper().replace("-", "_"),
        _value.strip(),
    )
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent on every response by config.middleware.PermissionsPolicyMiddleware: no page of the
# service uses any of these browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Content-Security-Policy (django-csp) on every response: scripts from the service's own
# static files only (an inline script needs the request's nonce), nothing from a CDN. The
# console's templates and the API docs (Swagger UI, Redoc) set inline styles, hence
# 'unsafe-inline' for styles; Redoc runs its search in a blob: worker. The evidence download
# sends its own, stricter policy (default-src 'none'; sandbox), which is kept.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Preloading HSTS binds the whole domain and its subdomains to HTTPS in browsers for months;
# it is the operator's decision (DJANGO_HSTS_PRELOAD=1), so check --deploy does not nag.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Templates that replace the admin's own (admin/base_site.html: the console's
        # styles on every page); the admin app is installed before the console's, so an
        # app template of the same name would never be found.
        "DIRS": [BASE_DIR / "console" / "overrides"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL: sqlite:///var/db.sqlite3 (default) or postgres://user:pass@host:5432/name.
DATABASES = {"default": database_from_url(env("DATABASE_URL", f"sqlite:///{DATA_DIR}/db.sqlite3"))}
# DATABASE_RETRY_AFTER_SECONDS: the Retry-After of a 503 database_unavailable, the answer to
# a request that finds the database unreachable.
DATABASE_RETRY_AFTER = env_int("DATABASE_RETRY_AFTER_SECONDS", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# TIME_ZONE: the marketplace's time zone (an IANA name, "UTC" by default): the console's
# times for a mediator who chose none, and the days the dashboard counts by. Every time
# is stored in UTC and the API sends ISO 8601 with its offset, whatever this is.
TIME_ZONE = env("TIME_ZONE", "UTC").strip() or "UTC"
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone name.")
USE_I18N = True
USE_TZ = True
# One date format throughout the console (config/formats/en/formats.py): 2026-12-04 18:16
# CET, in the mediator's time zone, with its name.
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static and uploaded files ----------------------------------------------------------

STATIC_URL = "/static/"
# STATIC_ROOT: where collectstatic puts the console's and API docs' assets.
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# MEDIA_ROOT: uploaded files (local storage); kept outside the static root, never served as is.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))


def default_storage_config() -> dict[str, Any]:
    """STORAGES["default"], where evidence is kept: local files under MEDIA_ROOT, or an S3 bucket
    (AWS or any S3-compatible service such as MinIO) when STORAGE_BACKEND is ``s3``.

    Objects are private: no ACL is set (the bucket's own policy applies), names are random,
    and files reach clients only through the authorized download view, streamed from storage.
    Any URL the backend might make is signed and short-lived, never public.
    """
    # STORAGE_BACKEND: "local" (default) or "s3"; s3 reads the AWS_* variables below.
    backend = env("STORAGE_BACKEND", "local").strip().lower()
    if backend in {"", "local"}:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if backend != "s3":
        raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}.")
    # AWS_STORAGE_BUCKET_NAME: the bucket (required with STORAGE_BACKEND=s3).
    bucket = env("AWS_STORAGE_BUCKET_NAME").strip()
    if not bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    # Whatever the client declared, objects are stored as opaque attachments.
    object_parameters = {
        "ContentType": "application/octet-stream",
        "ContentDisposition": "attachment",
    }
    # AWS_S3_SSE: server-side encryption, "AES256" or "aws:kms"; the bucket's default if unset.
    sse = env("AWS_S3_SSE").strip()
    if sse:
        object_parameters["ServerSideEncryption"] = sse
        # AWS_S3_SSE_KMS_KEY_ID: the KMS key for "aws:kms"; the account's default key if unset.
        kms_key = env("AWS_S3_SSE_KMS_KEY_ID").strip()
        if kms_key:
            object_parameters["SSEKMSKeyId"] = kms_key
    options: dict[str, Any] = {
        "bucket_name": bucket,
        # AWS_LOCATION: key prefix inside the bucket.
        "location": env("AWS_LOCATION", "media").strip("/"),
        # AWS_S3_REGION_NAME: e.g. eu-central-1; the SDK's default chain if unset.
        "region_name": env("AWS_S3_REGION_NAME") or None,
        # AWS_S3_ENDPOINT_URL: for S3-compatible services (MinIO: http://minio:9000).
        "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
        # AWS_S3_ADDRESSING_STYLE: "path" for most self-hosted services; automatic if unset.
        "addressing_style": env("AWS_S3_ADDRESSING_STYLE") or None,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "signature_version": "s3v4",
        "file_overwrite": False,
        "object_parameters": object_parameters,
        # Downloads are buffered from the bucket in memory up to 1 MiB, in a temporary file beyond.
        "max_memory_size": 1024 * 1024,
    }
    # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: static keys; without them the SDK's default
    # chain applies (instance or task role, web identity, ~/.aws).
    access_key = env("AWS_ACCESS_KEY_ID")
    secret_key = env("AWS_SECRET_ACCESS_KEY")
    if access_key or secret_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    "default": default_storage_config(),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Uploads stream to temporary files above this size instead of being held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
# REQUEST_BODY_MAX_BYTES: the largest request body apart from uploaded files (a JSON body,
# the text fields of a multipart form, a console form): 2.5 MB; beyond it 413 request_too_large.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_BODY_MAX_BYTES", 2_621_440)
# API_JSON_MAX_DEPTH: how deep arrays and objects may nest in a JSON body (400 invalid beyond).
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)

# --- Evidence (DESIGN §7): policy limits ------------------------------------------------------
# EVIDENCE_MAX_FILE_MB: largest single upload (413 file_too_large), enforced while streaming.
EVIDENCE_MAX_FILE_MB = env_int("EVIDENCE_MAX_FILE_MB", 10)
# EVIDENCE_MAX_FILES / EVIDENCE_MAX_TOTAL_MB: per party per dispute, withdrawn items included
# (422 evidence_quota_exceeded).
EVIDENCE_MAX_FILES = env_int("EVIDENCE_MAX_FILES", 20)
EVIDENCE_MAX_TOTAL_MB = env_int("EVIDENCE_MAX_TOTAL_MB", 50)
# EVIDENCE_MAX_IMAGE_PIXELS / EVIDENCE_MAX_IMAGE_SIDE: largest image by its header's pixel
# count (width x height) and longest side (422 image_too_large, before anything is stored).
# Above ~179 MP Pillow refuses to open JPEG, PNG and GIF images whatever these say.
EVIDENCE_MAX_IMAGE_PIXELS = env_int("EVIDENCE_MAX_IMAGE_PIXELS", 50_000_000)
EVIDENCE_MAX_IMAGE_SIDE = env_int("EVIDENCE_MAX_IMAGE_SIDE", 20_000)

# --- Audit log integrity (DESIGN §8): keys and anchors ----------------------------------------


def audit_hmac_keys(
    secret: str, key_id: str, old_keys: str, secret_key: str
) -> tuple[str, dict[str, bytes]]:
    """The id entries are written under now and every key verification may use, by id.

    ``secret`` (AUDIT_HMAC_KEY) empty: a key derived from SECRET_KEY with the id ``local``,
    which suits a laptop only (``manage.py check --deploy`` warns). ``old_keys``
    (AUDIT_HMAC_OLD_KEYS) is ``id:secret,id:secret``: keys entries were written under before
    a rotation, for verification only. Ids are at most 32 characters, without ``:`` or ``,``.
    """
    current = key_id.strip() or ("k1" if secret else "local")
    if secret:
        key = secret.encode()
    else:
        key = sha256(b"mediation audit chain\0" + secret_key.encode()).digest()
    keys = {current: key}
    for item in (part.strip() for part in old_keys.split(",")):
        if not item:
            continue
        old_id, sep, old_secret = item.partition(":")
        old_id = old_id.strip()
        if not sep or not old_id or not old_secret:
            raise ImproperlyConfigured("AUDIT_HMAC_OLD_KEYS: a comma-separated list of id:secret.")
        if old_id in keys and keys[old_id] != old_secret.encode():
            raise ImproperlyConfigured(f"AUDIT_HMAC_OLD_KEYS: key id {old_id!r} given twice.")
        keys[old_id] = old_secret.encode()
    for name in keys:
        if len(name) > 32 or not name.isprintable() or ":" in name or "," in name:
            raise ImproperlyConfigured(
                f"Audit key id {name!r}: up to 32 characters, no ':' or ','."
            )
    return current, keys


# AUDIT_HMAC_KEY: the secret the audit chain's hashes and the anchors' signatures are keyed
# with (HMAC-SHA256); kept out of the database. Unset: derived from SECRET_KEY, id "local".
# AUDIT_HMAC_KEY_ID: the id recorded with each entry written under it ("k1" by default).
# AUDIT_HMAC_OLD_KEYS: "id:secret,id:secret", earlier keys, to verify entries written under them.
AUDIT_HMAC_KEY_DERIVED = not env("AUDIT_HMAC_KEY")
AUDIT_HMAC_KEY_ID, AUDIT_HMAC_KEYS = audit_hmac_keys(
    env("AUDIT_HMAC_KEY"), env("AUDIT_HMAC_KEY_ID"), env("AUDIT_HMAC_OLD_KEYS"), SECRET_KEY
)


def audit_anchor_storage_config() -> dict[str, Any]:
    """STORAGES["audit_anchors"]: where the signed checkpoints of the audit heads go, apart
    from the database and from the evidence: a local folder, or an S3 bucket and prefix."""
    # AUDIT_ANCHOR_BACKEND: "local" (default, AUDIT_ANCHOR_DIR) or "s3" (AUDIT_ANCHOR_BUCKET).
    backend = env("AUDIT_ANCHOR_BACKEND", "local").strip().lower()
    if backend in {"", "local"}:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # AUDIT_ANCHOR_DIR: the folder of the checkpoints ($DATA_DIR/audit-anchors).
            "OPTIONS": {"location": env("AUDIT_ANCHOR_DIR", str(DATA_DIR / "audit-anchors"))},
        }
    if backend != "s3":
        raise ImproperlyConfigured(
            f"AUDIT_ANCHOR_BACKEND must be 'local' or 's3', not {backend!r}."
        )
    # AUDIT_ANCHOR_BUCKET: the bucket (required with AUDIT_ANCHOR_BACKEND=s3); the endpoint,
    # region and keys are the evidence storage's AWS_* variables.
    bucket = env("AUDIT_ANCHOR_BUCKET").strip()
    if not bucket:
        raise ImproperlyConfigured("AUDIT_ANCHOR_BACKEND=s3 needs AUDIT_ANCHOR_BUCKET.")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        # AUDIT_ANCHOR_PREFIX: key prefix of the checkpoints inside the bucket.
        "location": env("AUDIT_ANCHOR_PREFIX", "audit-anchors").strip("/"),
        "region_name": env("AWS_S3_REGION_NAME") or None,
        "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
        "addressing_style": env("AWS_S3_ADDRESSING_STYLE") or None,
        "default_acl": None,
        "signature_version": "s3v4",
        "file_overwrite": False,
        "object_parameters": {"ContentType": "application/json"},
    }
    if env("AWS_ACCESS_KEY_ID") or env("AWS_SECRET_ACCESS_KEY"):
        options["access_key"] = env("AWS_ACCESS_KEY_ID")
        options["secret_key"] = env("AWS_SECRET_ACCESS_KEY")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES["audit_anchors"] = audit_anchor_storage_config()
# AUDIT_ANCHOR_BATCH_SIZE: changed heads per checkpoint (one transaction each).
AUDIT_ANCHOR_BATCH_SIZE = env_int("AUDIT_ANCHOR_BATCH_SIZE", 5000)
# AUDIT_ANCHOR_INTERVAL_SECONDS: how often beat anchors the heads that changed.
AUDIT_ANCHOR_INTERVAL = float(env_int("AUDIT_ANCHOR_INTERVAL_SECONDS", 300))

# --- The thread: message limits -----------------------------------------------------------
# MESSAGE_MAX_PER_DISPUTE: messages the buyer, and the shop's members together, may write in
# one dispute's thread (422 message_quota_exceeded); mediators have no quota. 0 turns it off.
MESSAGE_MAX_PER_DISPUTE = env_int("MESSAGE_MAX_PER_DISPUTE", 200)
# MESSAGE_RATE_PER_MINUTE: messages one user may write in any 60 seconds, all disputes
# together, and likewise reports of messages (429 message_rate_exceeded /
# report_rate_exceeded, with Retry-After). Counted in the database, so it holds across web
# processes. 0 turns it off.
MESSAGE_RATE_PER_MINUTE = env_int("MESSAGE_RATE_PER_MINUTE", 10)

# --- Cache (request rates, the deadline policy's copy) ------------------------------------

# REDIS_URL: redis://host:6379/0, the cache every web process shares (request rates, the
# deadline policy table). Unset (the embedded default): files under DATA_DIR/cache, shared by
# the processes of one machine, so that two workers never let through twice the rate. Both
# fail open (config/cache.py): while the cache cannot be reached, requests are not
# rate-limited and cached values are read from the database, with a warning in the log.
REDIS_URL = env("REDIS_URL", "")
# CACHE_SOCKET_TIMEOUT_SECONDS: how long a cache operation waits for Redis (to connect, then
# for an answer) before the request goes on without the cache.
CACHE_SOCKET_TIMEOUT = env_int("CACHE_SOCKET_TIMEOUT_SECONDS", 1)


def cache_config(redis_url: str, socket_timeout: int) -> dict[str, dict[str, Any]]:
    """CACHES: Redis at ``redis_url``, or the embedded default's files; both fail open."""
    if redis_url:
        return {
            "default": {
                "BACKEND": "config.cache.RedisCache",
                "LOCATION": redis_url,
                "OPTIONS": {
                    "socket_connect_timeout": socket_timeout,
                    "socket_timeout": socket_timeout,
                },
            }
        }
    return {
        "default": {
            "BACKEND": "config.cache.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }


CACHES = cache_config(REDIS_URL, CACHE_SOCKET_TIMEOUT)

# --- Email ------------------------------------------------------------------------------

# EMAIL_BACKEND: by default nothing is sent: each email is written whole to a file under
# EMAIL_FILE_PATH and summed up in one line of the log (notifications/mail.py); set
# django.core.mail.backends.smtp.EmailBackend for SMTP.
EMAIL_BACKEND = env("EMAIL_BACKEND", "notifications.mail.FileSummaryBackend")
# EMAIL_FILE_PATH: that folder (also Django's file backend's).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# EMAIL_HOST_USER / EMAIL_HOST_PASSWORD: SMTP login, when the server asks for one.
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
# EMAIL_USE_TLS (STARTTLS, usually port 587) or EMAIL_USE_SSL (implicit TLS, port 465).
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# EMAIL_TIMEOUT: seconds each step of an SMTP conversation may take.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Emails are written by the outbox relay and sent after it commits (notifications.sender).
# NOTIFICATION_SEND_BATCH_SIZE: emails one sender run sends over one connection.
NOTIFICATION_SEND_BATCH_SIZE = env_int("NOTIFICATION_SEND_BATCH_SIZE", 50)
# NOTIFICATION_SEND_LEASE_SECONDS: how long a claimed email is left to its sender before
# another may send it (the first died); well above EMAIL_TIMEOUT.
NOTIFICATION_SEND_LEASE_SECONDS = env_int("NOTIFICATION_SEND_LEASE_SECONDS", 300)
# NOTIFICATION_MAX_ATTEMPTS: attempts of an email that fails for a temporary reason
# (10: about 28 hours of retries) before it is marked failed.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "disputes@marketplace.local")
# SERVICE_URL: where browsers reach this service, for the links in emails; by default the
# address `make run` serves (manage.py serve passes its --port to its processes as PORT).
SERVICE_URL = env("SERVICE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")
# CONSOLE_CASE_URL: the link in mediators' emails (the case in the console); {id} as above.
CONSOLE_CASE_URL = env("CONSOLE_CASE_URL", f"{SERVICE_URL}/admin/mediation/dispute/{{id}}/change/")
# STOREFRONT_DISPUTE_URL: the link in the parties' emails, the storefront's page of the
# dispute; {id} becomes the dispute's id. Unset, the service's own read-only page of the
# dispute (demo/pages.py: log in, see the dispute), which is served only then.
STOREFRONT_DISPUTE_URL = env("STOREFRONT_DISPUTE_URL", f"{SERVICE_URL}/disputes/{{id}}/")
DISPUTE_PAGES = env_raw("STOREFRONT_DISPUTE_URL") is None

# --- Celery -----------------------------------------------------------------------------


def broker_url(explicit: str, redis_url: str) -> str:
    """CELERY_BROKER_URL when set; with only REDIS_URL, the same Redis server's next database
    (the cache on /0, the broker on /1); with neither, the broker on local files.

    Never the cache's database: a cache flush (FLUSHDB) would drop the queued tasks with it,
    and an eviction policy meant for cache entries could evict them. REDIS_URL's database
    15, the last of a default Redis server's 16, has no next one, and a socket path
    (unix://) is not a URL Celery's broker takes: then set CELERY_BROKER_URL.
    """
    if explicit:
        return explicit
    if not redis_url:
        return "filesystem://"
    first = urlparse(re.split("[;,]", redis_url)[0])  # the cache writes to the first server
    query = parse_qs(first.query)
    # redis-py takes ?db= before the path; Celery's broker (kombu) reads the path only.
    db_text = query.pop("db", [first.path.strip("/") or "0"])[-1]
    if first.scheme not in {"redis", "rediss"} or not db_text.isdigit() or int(db_text) >= 15:
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL cannot follow REDIS_URL ({first.scheme}://, database "
            f"{db_text}): set it, to another Redis database than the cache's."
        )
    parts = first._replace(path=f"/{int(db_text) + 1}", query=urlencode(query, doseq=True))
    return urlunparse(parts)


# CELERY_BROKER_URL: redis://host:6379/1 in deployment. Unset: REDIS_URL's server, on the
# database after the cache's; without REDIS_URL, a broker on local files.
CELERY_BROKER_URL = broker_url(env("CELERY_BROKER_URL"), REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(DATA_DIR / "broker"),
        "data_folder_out": str(DATA_DIR / "broker"),
        "processed_folder": str(DATA_DIR / "broker-processed"),
        "control_folder": str(DATA_DIR / "broker-control"),
        "store_processed": False,
        # How long a worker with nothing to take waits before it looks again. Kombu's 1 s
        # default also paces a busy worker to about two messages a second.
        "polling_interval": 0.1,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
# CELERY_RESULT_BACKEND: results are not needed by the service; off unless set.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Three queues, each with workers of its own in deployment (compose's worker, worker-webhooks
# and worker-emails), so that a backlog of one kind never delays another: under load the
# deadline sweep once waited 54 s behind webhook deliveries, near its expiry. "celery" (the
# default): the deadline sweeper, the outbox relay, the audit anchors and housekeeping;
# "webhooks": deliveries and their retries; "emails": the email sender. A worker of the
# embedded default (`make run`) and the tests' workers take all three (WORKER_QUEUES).
CELERY_TASK_DEFAULT_QUEUE = "celery"
QUEUE_SYSTEM, QUEUE_WEBHOOKS, QUEUE_EMAILS = "celery", "webhooks", "emails"
WORKER_QUEUES = (QUEUE_SYSTEM, QUEUE_WEBHOOKS, QUEUE_EMAILS)
CELERY_TASK_ROUTES = {
    "webhooks.*": {"queue": QUEUE_WEBHOOKS},
    "api.deliver_webhook": {"queue": QUEUE_WEBHOOKS},
    "api.retry_due_webhooks": {"queue": QUEUE_WEBHOOKS},
    "notifications.*": {"queue": QUEUE_EMAILS},
}
# The beat scheduler. With the broker on Redis (deployment): RedBeat (celery-redbeat), which
# keeps the schedule in Redis behind a lock, so that any number of beats may run and exactly
# one sends: a standby takes over within BEAT_LOCK_TIMEOUT_SECONDS (30) of the active one's
# end. Otherwise (the embedded default's single beat): django-celery-beat's DatabaseScheduler.
REDBEAT = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
CELERY_BEAT_SCHEDULER = (
    "redbeat.RedBeatScheduler" if REDBEAT else "django_celery_beat.schedulers:DatabaseScheduler"
)
if REDBEAT:
    CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
    CELERY_REDBEAT_KEY_PREFIX = "redbeat:"
    CELERY_REDBEAT_LOCK_TIMEOUT = env_int("BEAT_LOCK_TIMEOUT_SECONDS", 30)
# The beat wakes at least this often (and renews its lock), well within the lock's timeout.
CELERY_BEAT_MAX_LOOP_INTERVAL = 5
CELERY_TIMEZONE = "UTC"
# Periodic tasks; django_celery_beat's DatabaseScheduler copies these entries into its table.
# The deadline sweeper runs every minute; a run not started within the minute is dropped
# (the next one does its work), and two overlapping runs share the work (SKIP LOCKED).
# BEAT_INTERVAL_SECONDS: how often beat runs each of them (60; shorter only for tests).
BEAT_INTERVAL = float(env_int("BEAT_INTERVAL_SECONDS", 60))
_BEAT_OPTIONS = {"expires": BEAT_INTERVAL * 0.9}
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "workflows.sweep_deadlines",
        "schedule": BEAT_INTERVAL,
        "options": _BEAT_OPTIONS,
    },
    # The outbox relay is kicked after every commit; this run catches what a lost kick left.
    "relay-outbox": {
        "task": "workflows.relay_outbox",
        "schedule": BEAT_INTERVAL,
        "options": _BEAT_OPTIONS,
    },
    # Evidence files an interrupted upload left in storage, once they are an hour old.
    "sweep-evidence-files": {
        "task": "workflows.sweep_evidence_files",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Expired personal API tokens (they are refused at once; this removes their rows).
    "clear-expired-tokens": {
        "task": "workflows.clear_expired_tokens",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Signed checkpoints of the audit heads that changed, outside the database.
    "anchor-audit-heads": {
        "task": "mediation.anchor_audit_heads",
        "schedule": AUDIT_ANCHOR_INTERVAL,
        "options": {"expires": AUDIT_ANCHOR_INTERVAL * 0.9},
    },
    # Emails due: retries of temporary failures, and those a lost queue message left.
    "send-emails": {
        "task": "notifications.send_emails",
        "schedule": BEAT_INTERVAL,
        "options": _BEAT_OPTIONS,
    },
    # Webhook deliveries whose retry time has come (exponential backoff over about 24 h).
    "retry-webhooks": {
        "task": "webhooks.retry_due_webhooks",
        "schedule": BEAT_INTERVAL,
        "options": _BEAT_OPTIONS,
    },
}

# --- Outbox relay and webhooks (DESIGN §6) -------------------------------------------------

# OUTBOX_RELAY_BATCH_SIZE: events one relay run locks and hands to the consumers.
OUTBOX_RELAY_BATCH_SIZE = env_int("OUTBOX_RELAY_BATCH_SIZE", 100)
# OUTBOX_RELAY_ON_COMMIT: queue a relay right after each change commits (beat runs it anyway).
OUTBOX_RELAY_ON_COMMIT = env_bool("OUTBOX_RELAY_ON_COMMIT", True)
# WEBHOOKS_ALLOW_PRIVATE_URLS: accept endpoint URLs on private, loopback or link-local
# addresses (and plain http). On with DJANGO_DEBUG (development) and in the tests only.
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", DEBUG)


def port_list(name: str, items: list[str]) -> frozenset[int]:
    """TCP ports (1-65535) from the items of a comma-separated variable."""
    try:
        ports = frozenset(int(item) for item in items)
    except ValueError:
        ports = frozenset({0})
    if not ports or not all(0 < port < 65536 for port in ports):
        raise ImproperlyConfigured(f"{name} must list TCP ports, such as 443,8443.")
    return ports


# WEBHOOKS_ALLOWED_PORTS: the ports endpoint URLs may name (443 when the URL names none);
# others are refused at registration and before every attempt (422 webhook_port_not_allowed).
# WEBHOOKS_ALLOW_PRIVATE_URLS lifts this rule too (local receivers listen on any port).
WEBHOOKS_ALLOWED_PORTS = port_list(
    "WEBHOOKS_ALLOWED_PORTS", env_list("WEBHOOKS_ALLOWED_PORTS", "443")
)
# WEBHOOKS_TIMEOUT_SECONDS: connect and read timeout of one delivery attempt.
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10)
# WEBHOOKS_DELIVERY_LEASE_SECONDS: a worker claims an attempt for this long (keep it well above
# the timeout); when it dies mid-attempt, beat's retry run sends the delivery again after it.
WEBHOOKS_DELIVERY_LEASE_SECONDS = env_int("WEBHOOKS_DELIVERY_LEASE_SECONDS", 300)
# WEBHOOKS_DISABLE_AFTER_FAILURES: deliveries in a row that failed for good (all retries
# spent) before the endpoint is turned off and the shop's owners are told.
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 5)

# --- REST API -----------------------------------------------------------------------------


def throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate (``60/minute``), or None for ``off``: DRF's throttle then lets every
    request through without counting it."""
    value = env(name, default).strip()
    return None if value.lower() in ("off", "none", "0") else value


# TRUSTED_PROXY_COUNT: how many reverse proxies (load balancer, ingress) stand in front of the
# service and append to X-Forwarded-For. 0 (default): the client address is the connection's
# own, and X-Forwarded-For, which any client can write, is ignored. With N, the address N
# entries from the right of X-Forwarded-For is the client's: the request rates and the login
# lockout count per client by it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # api.parsers: DRF's JSON parser within the size and depth limits above.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.rest.ApiSchema",
    "EXCEPTION_HANDLER": "api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # API_THROTTLE_ANON / API_THROTTLE_USER: request rates such as 60/minute, or "off"
        # where a gateway in front limits rates (then no request asks the cache).
        "anon": throttle_rate("API_THROTTLE_ANON", "60/minute"),
        "user": throttle_rate("API_THROTTLE_USER", "600/minute"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# --- Logins and credentials -----------------------------------------------------------------

# Personal API tokens (POST /api/v1/auth/token/): a new one on each login, stored as a SHA-512
# digest, revoked by /auth/logout/ (this one) or /auth/logout-all/ (every one of the user's).
# API_TOKEN_TTL_HOURS: a token expires this long after its last use (24); a used token's
# expiry moves on, at most once a minute. API_TOKEN_MAX_TTL_DAYS: never later than this after
# the login (30). API_TOKENS_PER_USER: live tokens a person may hold; a new login beyond it
# revokes their oldest (10).
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 10)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 24)),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=env_int("API_TOKEN_MAX_TTL_DAYS", 30)),
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}

# Login lockout (django-axes), for the token endpoint and the console's login alike, kept in
# the database (shared by every process). LOGIN_FAILURE_LIMIT: failed logins in a row, for
# one account or from one client address, before further attempts are refused (5);
# LOGIN_LOCKOUT_MINUTES: how long the refusal lasts after the last failure (15). A success
# clears the account's count. The client address follows TRUSTED_PROXY_COUNT.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)
AXES_VERBOSE = False

# Integrations' API keys (Authorization: Bearer <key>): shown once, stored as a SHA-512 digest.
# A key's last-used time is written at most this often (seconds).
API_KEY_LAST_USED_PRECISION = env_int("API_KEY_LAST_USED_PRECISION_SECONDS", 60)
# API_KEYS_PER_SHOP: live keys a shop may hold at once (20; 422 too_many_api_keys beyond).
API_KEYS_PER_SHOP = env_int("API_KEYS_PER_SHOP", 20)

SPECTACULAR_SETTINGS = {
    "TITLE": "Marketplace dispute mediation API",
    "DESCRIPTION": (
        "Buyers raise disputes on orders, sellers answer, and the platform's mediators rule "
        "when the two cannot agree. Amounts are integers in minor units with an ISO 4217 "
        "currency beside them. Errors are application/problem+json with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # The "Authorize" dialog's token survives a reload of the page (in the browser's local
    # storage, until "Logout" there); no online validator is asked about the schema.
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "persistAuthorization": True,
        "validatorUrl": None,
    },
    "REDOC_DIST": "SIDECAR",
    # 3.1: the document describes what webhook endpoints receive (its `webhooks`).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": ["webhooks.schema.DISPUTE_EVENT"],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.rest.add_problem_responses",
        "api.rest.refuse_additional_properties",
        "api.rest.anonymous_security",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RemedyEnum": "mediation.models.Remedy",
        "PartyRemedyEnum": "mediation.models.PARTY_REMEDY_CHOICES",
        "ReasonEnum": "mediation.models.Reason",
        "StateEnum": "mediation.models.State",
        "PartyEnum": "mediation.models.Party",
        "FulfilmentKindEnum": "mediation.models.FulfilmentKind",
        "EscalationReasonEnum": "mediation.models.EscalationReason",
        "PartyEscalationReasonEnum": "mediation.models.PARTY_ESCALATION_CHOICES",
        "FunderEnum": "mediation.models.Funder",
        "TierEnum": "mediation.models.Tier",
        "OutcomeEnum": "mediation.models.Outcome",
        "EvidenceKindEnum": "mediation.models.EvidenceKind",
        "ReturnResultEnum": "mediation.models.ReturnResult",
        "FeedbackReasonEnum": "mediation.models.FeedbackReason",
        "CurrencyEnum": "mediation.money.CURRENCY_CHOICES",
        "ShopRoleEnum": "mediation.models.ShopRole",
    },
}

# --- Dispute policy (DESIGN §4, §5) --------------------------------------------------------
# Default deadlines; the deadline policy table (console) overrides them, per reason too.
MEDIATION_DEADLINES = {
    "awaiting_seller": timedelta(hours=env_int("DEADLINE_SELLER_HOURS", 24)),
    "awaiting_buyer": timedelta(hours=env_int("DEADLINE_BUYER_HOURS", 72)),
    "awaiting_info": timedelta(hours=env_int("DEADLINE_INFO_HOURS", 72)),
    "pending_approval": timedelta(hours=env_int("DEADLINE_APPROVAL_HOURS", 24)),
    "awaiting_fulfilment": timedelta(days=env_int("DEADLINE_FULFILMENT_DAYS", 5)),
    "escalated": timedelta(hours=env_int("DEADLINE_MEDIATOR_SLA_HOURS", 48)),
    "under_review": timedelta(hours=env_int("DEADLINE_MEDIATOR_SLA_HOURS", 48)),
}
# Default reminder lead times: a party hears this long before their deadline (once).
MEDIATION_REMINDERS = {
    "awaiting_seller": timedelta(hours=env_int("REMINDER_SELLER_HOURS", 4)),
    "awaiting_buyer": timedelta(hours=env_int("REMINDER_BUYER_HOURS", 24)),
    # The mediators, before a case of the platform's breaches its service level (0: never).
    "escalated": timedelta(hours=env_int("REMINDER_MEDIATOR_HOURS", 8)),
    "under_review": timedelta(hours=env_int("REMINDER_MEDIATOR_HOURS", 8)),
    "pending_approval": timedelta(hours=env_int("REMINDER_MEDIATOR_HOURS", 8)),
}
# FEEDBACK_REMINDER_HOURS: how long after a dispute closes each party who has not rated its
# handling is asked to, once (0: never).
MEDIATION_FEEDBACK_REMINDER_AFTER = timedelta(hours=env_int("FEEDBACK_REMINDER_HOURS", 48))
# SWEEP_BATCH_SIZE: disputes the deadline sweeper locks and handles per transaction.
MEDIATION_SWEEP_BATCH_SIZE = env_int("SWEEP_BATCH_SIZE", 200)
# How long a replacement may take to arrive before the dispute closes on its own.
MEDIATION_DELIVERY_WINDOW = timedelta(days=env_int("DELIVERY_WINDOW_DAYS", 14))
# DISPUTE_WINDOW_DAYS: how long after placement an order can be disputed.
MEDIATION_DISPUTE_WINDOW = timedelta(days=env_int("DISPUTE_WINDOW_DAYS", 180))
# APPEAL_WINDOW_DAYS: how long after a ruling a party may appeal it.
MEDIATION_APPEAL_WINDOW = timedelta(days=env_int("APPEAL_WINDOW_DAYS", 10))
MEDIATION_MAX_COUNTER_ROUNDS = env_int("MAX_COUNTER_ROUNDS", 3)


# LEAD_SECOND_APPROVAL: the largest ruling a lead mediator decides alone, in major units of
# each currency (1000.00: 1,000.00 USD, 1,000.00 EUR, 1,000 JPY); a larger one waits for a
# second mediator, so that no single person moves unlimited money. "off": no limit.
def parse_lead_second_approval(raw: str) -> Decimal | None:
    if raw.strip().lower() == "off":
        return None
    try:
        value = Decimal(raw.strip())
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(
            f"LEAD_SECOND_APPROVAL={raw!r}: an amount in major units (1000.00) or off."
        )
    return value


MEDIATION_LEAD_SECOND_APPROVAL = parse_lead_second_approval(env("LEAD_SECOND_APPROVAL", "1000.00"))
# Idempotency records are kept this long; a replay after that runs again.
MEDIATION_IDEMPOTENCY_TTL = timedelta(hours=env_int("IDEMPOTENCY_TTL_HOURS", 24))

# --- Party history in the mediator console --------------------------------------------------
# A buyer is flagged as a possible serial claimant once they have SERIAL_CLAIMANT_MIN_DISPUTES
# disputes and either their share of disputed orders is above the marketplace's share times
# SERIAL_CLAIMANT_RATE_FACTOR, or their win rate above the marketplace's times
# SERIAL_CLAIMANT_WIN_RATE_FACTOR. A shop likewise as a possible problem seller (PROBLEM_SELLER_*,
# the win rate being the buyers' against the shop).
SERIAL_CLAIMANT_MIN_DISPUTES = env_int("SERIAL_CLAIMANT_MIN_DISPUTES", 3)
SERIAL_CLAIMANT_RATE_FACTOR = float(env("SERIAL_CLAIMANT_RATE_FACTOR", "3"))
SERIAL_CLAIMANT_WIN_RATE_FACTOR = float(env("SERIAL_CLAIMANT_WIN_RATE_FACTOR", "1.5"))
PROBLEM_SELLER_MIN_DISPUTES = env_int("PROBLEM_SELLER_MIN_DISPUTES", 5)
PROBLEM_SELLER_RATE_FACTOR = float(env("PROBLEM_SELLER_RATE_FACTOR", "3"))
PROBLEM_SELLER_LOSS_RATE_FACTOR = float(env("PROBLEM_SELLER_LOSS_RATE_FACTOR", "1.5"))

# LOG_FORMAT: "plain" (readable lines, the default) or "json" (one JSON object a line, for a
# log collector; the image and compose set it). LOG_LEVEL: the root level. Every record carries
# the request_id, user_id and dispute_id of the request or task it belongs to (config/logs.py).
LOG_FORMAT = env("LOG_FORMAT", "plain").strip().lower() or "plain"
# LOG_QUIET_IDLE: leave out what a service at rest logs (beat's ticks, routine task lines,
# periodic tasks that found nothing to do, successful health probes); `make run` sets it.
LOGGING = logging_config(
    LOG_FORMAT, env("LOG_LEVEL", "INFO"), quiet_idle=env_bool("LOG_QUIET_IDLE", False)
)
configure_structlog()
# django-structlog: the request's id (X-Request-ID when well-formed: RequestLogMiddleware
# checks it), its user, and the same ids carried into the Celery tasks it enqueues. A
# request's start is a DEBUG event; its end is INFO (a 4xx's too). No client address: behind
# a proxy it is whatever the client claims.
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_STATUS_4XX_LOG_LEVEL = logging.INFO
# A 5xx's summary is a warning: a crash is logged (and reported) as an error where it
# happens, and an outage's 503s would otherwise each be an error report.
DJANGO_STRUCTLOG_STATUS_5XX_LOG_LEVEL = logging.WARNING
# Celery's worker keeps the service's logging (the JSON lines) instead of its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Error reporting ------------------------------------------------------------------------
# SENTRY_DSN: where unhandled errors go (Sentry, or a server speaking its protocol such as
# GlitchTip): a web request's, a Celery task's, and every ERROR log record with its traceback
# (the API's 500 problem logs one). Off when unset. No personal data is sent: no user,
# address or cookie, no request body; Authorization headers and the like are scrubbed.
SENTRY_DSN = env("SENTRY_DSN").strip()
# SENTRY_ENVIRONMENT and SENTRY_RELEASE tag the events (the release: the image's version).
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "production")
SENTRY_RELEASE = env("SENTRY_RELEASE") or None
# SENTRY_TRACES_SAMPLE_RATE: the share of requests and tasks traced for performance (0: none).
SENTRY_TRACES_SAMPLE_RATE = float(env("SENTRY_TRACES_SAMPLE_RATE", "0"))
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        max_request_body_size="never",
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
