"""Webhooks (DESIGN §6): fan-out from the outbox, signed delivery, retries, the URL guard.

* :func:`fan_out` is an outbox consumer: one :class:`WebhookDelivery` per event and
  subscribed, active endpoint of the dispute's shop (a unique constraint makes a re-relay
  harmless). Internal events never reach a webhook.
* :func:`deliver` makes one attempt: it claims the delivery (a lease, so a worker that dies
  mid-attempt only delays it), POSTs the signed body outside any transaction, and records
  the answer: 2xx is success; anything else, a timeout or a refused address schedules the
  next attempt (:data:`RETRY_DELAYS`, about 24 h in all) or, when they are spent, fails the
  delivery. :setting:`WEBHOOKS_DISABLE_AFTER_FAILURES` failed deliveries in a row turn the
  endpoint off and its shop's owners get an email.
* :func:`check_url` refuses URLs that resolve to private, loopback, link-local, multicast,
  reserved or unspecified addresses (unless WEBHOOKS_ALLOW_PRIVATE_URLS), at registration
  and again before every attempt; the connection then goes to the address just checked,
  so a DNS answer that changes in between cannot redirect it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mediation.actors import SYSTEM
from mediation.errors import RuleViolation
from mediation.models import OutboxEvent, ShopMember, ShopRole
from mediation.selectors import attach_membership, dispute_detail_queryset
from workflows.events import PARTY_EVENT_TYPES

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Mediation-Signature"
USER_AGENT = "MediationWebhooks/1.0"
# Seconds to wait after the n-th failed attempt of a round: 1 min, 5 min, 30 min, 2 h,
# 5 h, 10 h, 6 h (about 23.6 h in all, 8 attempts), each with +-10 % jitter.
RETRY_DELAYS: tuple[int, ...] = (60, 300, 1800, 7200, 18000, 36000, 21600)
JITTER = 0.1
MAX_ENDPOINTS_PER_SHOP = 20
# How much of a response is read (and kept as the attempt's note on failure).
RESPONSE_READ_LIMIT = 64 * 1024
ERROR_EXCERPT = 500


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- Signing --------------------------------------------------------------------------------


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


# --- The URL guard --------------------------------------------------------------------------


class UrlNotAllowed(RuleViolation):
    code = "webhook_url_not_allowed"
    title = "The endpoint URL is not allowed"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str | None  # the checked address to connect to (None: let the resolver pick)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlNotAllowed(f"The host {host!r} does not resolve ({exc}).") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, resolve: bool = True) -> Target:
    """Parse and check an endpoint URL; raises :class:`UrlNotAllowed` (422).

    Only http and https, no credentials in the URL, and (unless private URLs are allowed)
    https only, to a host whose every address is public.
    """
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlNotAllowed("The URL cannot be parsed.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlNotAllowed("Endpoint URLs use https (or http in development).")
    if not allow_private and scheme != "https":
        raise UrlNotAllowed("Endpoint URLs must use https.")
    if parts.username is not None or parts.password is not None:
        raise UrlNotAllowed("Put no credentials in the URL; verify the signature instead.")
    host = parts.hostname
    if not host:
        raise UrlNotAllowed("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    address = None
    if resolve:
        addresses = _resolve(host, port)
        if not allow_private:
            bad = [a for a in addresses if _forbidden_address(a)]
            if bad or not addresses:
                raise UrlNotAllowed(
                    f"The host {host!r} resolves to a private, loopback or otherwise "
                    "non-public address; webhooks go to public addresses only."
                )
        address = addresses[0] if addresses else None
    return Target(scheme, host, port, path, address)


# --- Fan-out (an outbox consumer) -------------------------------------------------------------


def fan_out(event: OutboxEvent) -> None:
    """Create the deliveries of one event (idempotent: a re-relay adds none)."""
    if event.internal or event.type not in PARTY_EVENT_TYPES:
        return
    shop_id = event.dispute.shop_id
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(shop_id=shop_id, active=True)
        if e.subscribes_to(event.type)
    ]
    if not endpoints:
        return
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=e, event=event, event_type=event.type, next_attempt_at=now)
            for e in endpoints
        ],
        ignore_conflicts=True,
    )
    fresh = list(
        WebhookDelivery.objects.filter(
            event=event, attempts=0, status=DeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )
    for delivery_id in fresh:
        enqueue_delivery(delivery_id)


def enqueue_delivery(delivery_id: int) -> None:
    """After commit, ask a worker for an attempt (beat's retry run picks up any it misses)."""

    def send() -> None:
        try:
            from config.celery import app

            app.send_task("api.deliver_webhook", args=[delivery_id], retry=False)
        except Exception:
            logger.warning("Could not queue webhook delivery %s", delivery_id, exc_info=True)

    if settings.OUTBOX_RELAY_ON_COMMIT:
        transaction.on_commit(send)


# --- The body ------------------------------------------------------------------------------


def _viewer_for(endpoint: WebhookEndpoint) -> Any:
    """Whose view of the dispute the shop gets: an owner's (the endpoint's creator while
    they are one)."""
    owners = ShopMember.objects.filter(shop_id=endpoint.shop_id, role=ShopRole.OWNER)
    member = None
    if endpoint.created_by_id is not None:
        member = owners.filter(user_id=endpoint.created_by_id).select_related("user").first()
    member = member or owners.select_related("user").order_by("pk").first()
    return member.user if member is not None else SYSTEM


def build_body(delivery: WebhookDelivery) -> str:
    """``{"id", "type", "created_at", "data"}``: the dispute as the API shows it to the
    shop's owner, rendered now."""
    from api.serializers import DisputeSerializer

    event = delivery.event
    viewer = _viewer_for(delivery.endpoint)
    dispute = dispute_detail_queryset(viewer).get(pk=event.dispute_id)
    if viewer is not SYSTEM:
        attach_membership(dispute, viewer)
    data = DisputeSerializer(dispute, context={"request": SimpleNamespace(user=viewer)}).data
    payload = {
        "id": str(event.pk),
        "type": event.type,
        "created_at": event.created_at,
        "data": data,
    }
    return json.dumps(payload, cls=JSONEncoder, separators=(",", ":"))


# --- Delivery -----------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    code: int | None
    duration_ms: int
    error: str = ""


def _post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """One POST to the checked address; no redirects are followed (a 3xx is a failure)."""
    started = time.monotonic()
    conn: http.client.HTTPConnection
    address = target.address or target.host
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target.host, target.port, address, timeout)
    else:
        conn = _PinnedHTTPConnection(target.host, target.port, address, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(RESPONSE_READ_LIMIT)[:ERROR_EXCERPT]
        code = response.status
        ok = 200 <= code < 300
        error = "" if ok else f"HTTP {code}: {excerpt.decode('utf-8', 'replace')}".strip()
        return Outcome(ok, code, _ms(started), error)
    except TimeoutError:
        return Outcome(False, None, _ms(started), f"timed out after {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, _ms(started), f"{exc.__class__.__name__}: {exc}"[:1000])
    finally:
        conn.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with SNI and certificate checks for the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def lease() -> timedelta:
    """How long a claimed attempt may run before another worker may take the delivery again
    (longer than :setting:`WEBHOOKS_TIMEOUT_SECONDS`, so a live attempt is never doubled)."""
    return timedelta(seconds=settings.WEBHOOKS_DELIVERY_LEASE_SECONDS)


def _claim(delivery_id: int, *, now: datetime, force: bool) -> WebhookDelivery | None:
    """Lock the delivery if an attempt is due, and lease it: until the lease
    (:setting:`WEBHOOKS_DELIVERY_LEASE_SECONDS`) ends, no other worker takes it; a worker
    that dies mid-attempt leaves it to beat's retry run once the lease is over."""
    with transaction.atomic():
        delivery = (
            # The delivery row only: locking its endpoint too would make a claim skip (drop)
            # a due delivery whenever another delivery of the endpoint is being claimed.
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
            .first()
        )
        if delivery is None or not delivery.endpoint.active:
            return None
        if not force and delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        if not delivery.body:
            delivery.body = build_body(delivery)
        delivery.next_attempt_at = now + lease()
        delivery.save(update_fields=["body", "next_attempt_at", "updated_at"])
        return delivery


def deliver(delivery_id: int, *, force: bool = False) -> WebhookDelivery | None:
    """Make one attempt of a due delivery; None when there is nothing to do (not due, done,
    taken by another worker, or its endpoint is off)."""
    now = timezone.now()
    delivery = _claim(delivery_id, now=now, force=force)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    timestamp = int(time.time())
    number = delivery.attempts + 1
    # The first attempt after the owner asked for a redelivery.
    manual = delivery.round_attempts == 0 and delivery.attempts > 0
    try:
        target = check_url(endpoint.url)
    except UrlNotAllowed as exc:
        outcome = Outcome(False, None, 0, exc.message)
    else:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(body, signing_secrets(endpoint), timestamp),
            "Mediation-Event-Id": str(delivery.event_id),
            "Mediation-Event-Type": delivery.event_type,
            "Mediation-Delivery": str(delivery.pk),
            "Mediation-Attempt": str(number),
        }
        outcome = _post(target, body, headers, float(settings.WEBHOOKS_TIMEOUT_SECONDS))
    return _record(delivery.pk, number, now, outcome, manual=manual)


def retry_delay(round_attempts: int) -> timedelta | None:
    """The wait after the ``round_attempts``-th failed attempt; None when retries are spent."""
    if round_attempts > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[round_attempts - 1]
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


def _record(
    delivery_id: int, number: int, started: datetime, outcome: Outcome, *, manual: bool
) -> WebhookDelivery:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .get(pk=delivery_id)
        )
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            succeeded=outcome.ok,
            response_code=outcome.code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            manual=manual,
        )
        now = timezone.now()
        delivery.attempts = number
        delivery.round_attempts += 1
        delivery.last_response_code = outcome.code
        delivery.last_duration_ms = outcome.duration_ms
        delivery.last_error = outcome.error
        if outcome.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if endpoint.consecutive_failures:
                endpoint.consecutive_failures = 0
                endpoint.save(update_fields=["consecutive_failures", "updated_at"])
        else:
            delay = retry_delay(delivery.round_attempts)
            if delay is not None:
                delivery.status = DeliveryStatus.RETRYING
                delivery.next_attempt_at = now + delay
            else:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                _count_failure(endpoint, outcome.error)
        delivery.save()
        delivery.endpoint = endpoint
        return delivery


def _count_failure(endpoint: WebhookEndpoint, error: str) -> None:
    endpoint.consecutive_failures += 1
    fields = ["consecutive_failures", "updated_at"]
    threshold = settings.WEBHOOKS_DISABLE_AFTER_FAILURES
    if endpoint.active and endpoint.consecutive_failures >= threshold:
        endpoint.active = False
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = (
            f"{endpoint.consecutive_failures} deliveries in a row failed after every retry."
        )
        fields += ["active", "disabled_at", "disabled_reason"]
        transaction.on_commit(lambda: _tell_owners(endpoint.pk, error))
    endpoint.save(update_fields=fields)


def _tell_owners(endpoint_id: int, error: str) -> None:
    endpoint = WebhookEndpoint.objects.select_related("shop").get(pk=endpoint_id)
    emails = sorted(
        {
            email
            for email in ShopMember.objects.filter(
                shop_id=endpoint.shop_id, role=ShopRole.OWNER
            ).values_list("user__email", flat=True)
            if email
        }
    )
    if not emails:
        logger.warning("Webhook endpoint %s was disabled; its shop has no owner email", endpoint_id)
        return
    body = (
        f"Hello,\n\n"
        f"We have paused the webhook endpoint {endpoint.url} of {endpoint.shop.name}: "
        f"{endpoint.consecutive_failures} deliveries in a row could not be completed, each "
        f"after retrying for about a day.\n\n"
        f"The last answer we got was: {error or 'no answer'}\n\n"
        f"No events are sent to this endpoint while it is paused, and nothing else about "
        f"your disputes has changed. When the endpoint is ready again, turn it back on with\n\n"
        f'    PATCH /api/v1/webhook-endpoints/{endpoint.pk}/  {{"active": true}}\n\n'
        f"and send any failed deliveries again from its delivery log "
        f"(GET /api/v1/webhook-endpoints/{endpoint.pk}/deliveries/).\n"
    )
    send_mail(
        f"Webhook endpoint paused for {endpoint.shop.name}",
        body,
        settings.DEFAULT_FROM_EMAIL,
        emails,
    )


def due_deliveries(limit: int = 500, now: datetime | None = None) -> list[int]:
    """Ids of deliveries whose next attempt is due (on active endpoints)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            endpoint__active=True,
        )
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Owner actions -------------------------------------------------------------------------


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a fresh round of attempts (a new retry schedule) for one delivery."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = DeliveryStatus.PENDING
        locked.round_attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "round_attempts", "next_attempt_at", "updated_at"])
        enqueue_delivery(locked.pk)
    return locked


def register_endpoint(
    *, shop: Any, url: str, events: list[str], description: str, created_by: Any
) -> WebhookEndpoint:
    """A new endpoint of ``shop`` with a fresh secret: the URL checked, the shop's limit kept."""
    _check_new_url(url)
    if WebhookEndpoint.objects.filter(shop=shop).count() >= MAX_ENDPOINTS_PER_SHOP:
        raise RuleViolation(
            f"A shop may have at most {MAX_ENDPOINTS_PER_SHOP} webhook endpoints.",
            code="webhook_endpoint_limit",
        )
    return WebhookEndpoint.objects.create(
        shop=shop,
        url=url,
        events=events,
        description=description,
        secret=new_secret(),
        created_by=created_by,
    )


def update_endpoint(endpoint: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    """Change the URL (checked), the events, the description, or whether it is active."""
    if "url" in changes:
        _check_new_url(changes["url"])
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = changes["events"]
    if "description" in changes:
        endpoint.description = changes["description"]
    if "active" in changes:
        set_active(endpoint, changes["active"])
    endpoint.save()
    return endpoint


def _check_new_url(url: str) -> None:
    # Where private URLs are allowed (development), the host need not resolve yet: every
    # delivery resolves and checks it again anyway.
    check_url(url, resolve=not settings.WEBHOOKS_ALLOW_PRIVATE_URLS)


def rotate_secret(endpoint: WebhookEndpoint, keep_previous: timedelta) -> str:
    """A new secret; the old one keeps signing (as a second ``v1``) for ``keep_previous``."""
    now = timezone.now()
    secret = new_secret()
    if keep_previous > timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + keep_previous
    else:
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret = secret
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return secret


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """Turn an endpoint off (by its owner) or back on; on again, waiting deliveries resume."""
    if active == endpoint.active:
        return
    endpoint.active = active
    if active:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        waiting = WebhookDelivery.objects.filter(
            endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
        )
        waiting.update(next_attempt_at=timezone.now())
    else:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Turned off by the shop."
