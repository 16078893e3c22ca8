"""Signing webhook bodies: ``Mediation-Signature: t=<unix seconds>,v1=<hex>``, an
HMAC-SHA256 over the timestamp and the body with the endpoint's secret; during a rotation's
overlap one ``v1`` per secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from webhooks.models import WebhookEndpoint

SIGNATURE_HEADER = "Mediation-Signature"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets_: Iterable[str], timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex>``; during a rotation's overlap one ``v1`` per secret."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(body, s, timestamp)}" for s in secrets_)])


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        keys.append(endpoint.previous_secret)
    return keys
