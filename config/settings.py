"""Settings for the mediation service.

Every value that differs between a laptop and a deployment is read from an environment
variable with a safe local default, so that ``make run`` works with nothing configured
(SQLite, local files, console email, a Celery broker on local files) and a deployment
is configured the twelve-factor way. Every variable is listed in the README.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
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
            "OPTIONS": options,
        }
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


# --- Core -----------------------------------------------------------------------------

# DJANGO_SECRET_KEY: required in deployment; the default only suits a laptop.
SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me")
# DJANGO_DEBUG: "1" for development pages; off by default.
DEBUG = env_bool("DJANGO_DEBUG", False)
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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

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
# The non-file fields of a request (JSON bodies, multipart text fields) stay under 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Evidence (DESIGN §7): policy limits ------------------------------------------------------
# EVIDENCE_MAX_FILE_MB: largest single upload (413 file_too_large), enforced while streaming.
EVIDENCE_MAX_FILE_MB = env_int("EVIDENCE_MAX_FILE_MB", 10)
# EVIDENCE_MAX_FILES / EVIDENCE_MAX_TOTAL_MB: per party per dispute, withdrawn items included
# (422 evidence_quota_exceeded).
EVIDENCE_MAX_FILES = env_int("EVIDENCE_MAX_FILES", 20)
EVIDENCE_MAX_TOTAL_MB = env_int("EVIDENCE_MAX_TOTAL_MB", 50)

# --- The thread: message limits -----------------------------------------------------------
# MESSAGE_MAX_PER_DISPUTE: messages the buyer, and the shop's members together, may write in
# one dispute's thread (422 message_quota_exceeded); mediators have no quota. 0 turns it off.
MESSAGE_MAX_PER_DISPUTE = env_int("MESSAGE_MAX_PER_DISPUTE", 200)
# MESSAGE_RATE_PER_MINUTE: messages one user may write in any 60 seconds, all disputes
# together, and likewise reports of messages (429 message_rate_exceeded /
# report_rate_exceeded, with Retry-After). Counted in the database, so it holds across web
# processes. 0 turns it off.
MESSAGE_RATE_PER_MINUTE = env_int("MESSAGE_RATE_PER_MINUTE", 10)

# --- Cache (throttling, idempotency locks) ------------------------------------------------

# REDIS_URL: redis://host:6379/0 to share the cache between web processes; local memory if unset.
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Email ------------------------------------------------------------------------------

# EMAIL_BACKEND: console by default; set django.core.mail.backends.smtp.EmailBackend for SMTP.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
# EMAIL_HOST_USER / EMAIL_HOST_PASSWORD: SMTP login, when the server asks for one.
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
# EMAIL_USE_TLS (STARTTLS, usually port 587) or EMAIL_USE_SSL (implicit TLS, port 465).
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# EMAIL_TIMEOUT: seconds an SMTP connection may take; mail is sent by the outbox relay.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "disputes@marketplace.local")
# CONSOLE_CASE_URL: the link in mediators' emails (the case in the console); {id} as above.
CONSOLE_CASE_URL = env(
    "CONSOLE_CASE_URL", "http://127.0.0.1:8000/admin/mediation/dispute/{id}/change/"
)
# STOREFRONT_DISPUTE_URL: the link in every notification; {id} becomes the dispute's id.
STOREFRONT_DISPUTE_URL = env(
    "STOREFRONT_DISPUTE_URL", "http://127.0.0.1:8000/api/v1/disputes/{id}/"
)

# --- Celery -----------------------------------------------------------------------------

# CELERY_BROKER_URL: redis://host:6379/1 in deployment; a broker on local files by default.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
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
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
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


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
