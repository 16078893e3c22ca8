"""Checking the webhooks the mediation service sends (written by hand; the generator keeps it).

Every delivery is a ``POST`` whose ``Mediation-Signature`` header is ``t=<unix seconds>,v1=<hex>``:
``v1`` is the hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the endpoint's secret (the
``whsec_...`` shown once when the endpoint is registered or its secret rotated). While a rotated
secret overlaps the old one the header carries one ``v1`` per secret, and either may match.

Check the raw bytes of the body, before any JSON parsing::

    from mediation_client.webhooks import verify_webhook

    if not verify_webhook(request.body, request.headers["Mediation-Signature"], SECRET):
        return HttpResponse(status=400)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable

from .models.webhook_event import WebhookEvent

SIGNATURE_HEADER = "Mediation-Signature"
# How old (or how far in the future) a signature's timestamp may be: older is a replay.
DEFAULT_TOLERANCE = 300


class InvalidSignature(ValueError):
    """The body is not signed by the secret, or the signature is too old: do not trust it."""


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The hex ``v1`` value of ``body`` at ``timestamp`` with ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_webhook(
    body: bytes,
    header: str | None,
    secret: str | Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when the ``Mediation-Signature`` ``header`` signs the raw ``body`` with ``secret``
    (or with one of several secrets, while you move from one to the next) and its timestamp is
    within ``tolerance`` seconds of ``now`` (the current time)."""
    if not header:
        return False
    pairs = [item.strip().partition("=")[::2] for item in header.split(",")]
    try:
        timestamp = int(next(value for key, value in pairs if key == "t"))
    except (StopIteration, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    signatures = [value for key, value in pairs if key == "v1"]
    keys = [secret] if isinstance(secret, str) else list(secret)
    expected = [sign(body, key, timestamp) for key in keys]
    # compare_digest for each pair, no early exit on the first match that would tell timings.
    matches = [hmac.compare_digest(value, want) for value in signatures for want in expected]
    return any(matches)


def parse_webhook(
    body: bytes,
    header: str | None,
    secret: str | Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """The event of a delivery whose signature holds (see :func:`verify_webhook`), as the
    generated :class:`~mediation_client.models.WebhookEvent`; :class:`InvalidSignature`
    otherwise. Deliveries are at least once: ignore an ``event.id`` you have handled."""
    if not verify_webhook(body, header, secret, tolerance=tolerance, now=now):
        raise InvalidSignature(f"{SIGNATURE_HEADER} does not sign this body (or is too old)")
    return WebhookEvent.from_dict(json.loads(body))
