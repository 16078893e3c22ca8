"""Webhook delivery (DESIGN §6): the body, one signed attempt, retries and their schedule.

* :func:`webhooks.fanout.fan_out` (an outbox consumer) creates the deliveries;
  :mod:`webhooks.tasks` queues their attempts after commit.
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

import http.client
import json
import logging
import random
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

# The body is the dispute as the API shows it to the shop's owner: the API's serializer,
# published for this (the one import of webhooks into api, declared in pyproject.toml).
from api.serializers import DisputeSerializer
from mediation.actors import SYSTEM, is_integration
from mediation.models import Dispute, OutboxEvent, ShopMember, ShopRole
from mediation.selectors import dispute_detail_queryset
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.signing import SIGNATURE_HEADER, signature_header, signing_secrets
from webhooks.url_guard import Target, UrlNotAllowed, check_url
from workflows.steps import REFUND_DUE_EVENT
from workflows.transitions import PARTY_EVENT_TYPES

logger = logging.getLogger(__name__)

USER_AGENT = "MediationWebhooks/1.0"
# Seconds to wait after the n-th failed attempt of a round: 1 min, 5 min, 30 min, 2 h,
# 5 h, 10 h, 6 h (about 23.6 h in all, 8 attempts), each with +-10 % jitter.
RETRY_DELAYS: tuple[int, ...] = (60, 300, 1800, 7200, 18000, 36000, 21600)
JITTER = 0.1
# How much of a response is read (and kept as the attempt's note on failure).
RESPONSE_READ_LIMIT = 64 * 1024
ERROR_EXCERPT = 500


# --- The body ------------------------------------------------------------------------------


def _viewer_for(endpoint: WebhookEndpoint) -> Any:
    """Whose view of the dispute the shop gets: an owner's (the endpoint's creator while
    they are one). The platform's endpoint gets the integration's view (its creator's):
    state, amounts and deliveries, nothing of the conversation."""
    if endpoint.shop_id is None:
        creator = endpoint.created_by
        if creator is not None and is_integration(creator):
            return creator
        return SYSTEM
    owners = ShopMember.objects.filter(shop_id=endpoint.shop_id, role=ShopRole.OWNER)
    member = None
    if endpoint.created_by_id is not None:
        member = owners.filter(user_id=endpoint.created_by_id).select_related("user").first()
    member = member or owners.select_related("user").order_by("pk").first()
    return member.user if member is not None else SYSTEM


def viewer_key(viewer: Any) -> str:
    """The key of a viewer's snapshot in ``OutboxEvent.snapshot``."""
    return "system" if viewer is SYSTEM or getattr(viewer, "pk", None) is None else str(viewer.pk)


def _render(dispute_id: int, viewer: Any) -> Any:
    dispute = dispute_detail_queryset(viewer, by_id=True).get(pk=dispute_id)
    data = DisputeSerializer(dispute, context={"request": SimpleNamespace(user=viewer)}).data
    return json.loads(json.dumps(data, cls=JSONEncoder))


def snapshot(rows: list[OutboxEvent]) -> None:
    """An outbox snapshotter (workflows.events): in the change's transaction, the dispute as
    each subscribed endpoint's viewer sees it, on every row of the change an endpoint will
    get. No endpoint, no snapshot (one query)."""
    party = [r for r in rows if not r.internal and r.type in PARTY_EVENT_TYPES]
    if not party:
        return
    dispute_ids = {r.dispute_id for r in party}
    endpoints = list(
        WebhookEndpoint.objects.filter(active=True)
        .filter(
            Q(shop_id__isnull=True)
            | Q(shop_id__in=Dispute.objects.filter(pk__in=dispute_ids).values("shop_id"))
        )
        .select_related("created_by")
    )
    if not endpoints:
        return
    shops = dict(Dispute.objects.filter(pk__in=dispute_ids).values_list("pk", "shop_id"))
    viewers: dict[int | None, Any] = {}  # by the endpoint's pk
    rendered: dict[tuple[int, str], Any] = {}
    for row in party:
        for endpoint in endpoints:
            mine = endpoint.shop_id is None or endpoint.shop_id == shops.get(row.dispute_id)
            if not mine or not endpoint.subscribes_to(row.type):
                continue
            if endpoint.pk not in viewers:
                viewers[endpoint.pk] = _viewer_for(endpoint)
            viewer = viewers[endpoint.pk]
            key = (row.dispute_id, viewer_key(viewer))
            if key not in rendered:
                rendered[key] = _render(row.dispute_id, viewer)
            row.snapshot[key[1]] = rendered[key]


def build_body(delivery: WebhookDelivery) -> str:
    """``{"id", "type", "created_at", "data"}``: the dispute as the API showed it to the
    endpoint's viewer (the shop's owner) when the event happened, from the event's snapshot;
    rendered now only for an event without one (an endpoint registered after it)."""
    event = delivery.event
    viewer = _viewer_for(delivery.endpoint)
    data = (event.snapshot or {}).get(viewer_key(viewer))
    if data is None:
        data = _render(event.dispute_id, viewer)
    payload = {
        "id": str(event.pk),
        "type": event.type,
        "created_at": event.created_at,
        "data": data,
    }
    if event.type == REFUND_DUE_EVENT:
        # What to pay, as the step left it: amount, currency, order, who funds it.
        payload["refund"] = (event.payload or {}).get("refund_due")
    return json.dumps(payload, cls=JSONEncoder, separators=(",", ":"))


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
    endpoint = WebhookEndpoint.objects.select_related("shop", "created_by").get(pk=endpoint_id)
    if endpoint.shop is None:
        # The platform's endpoint: its integration account's contact.
        creator = endpoint.created_by
        emails = [creator.email] if creator is not None and creator.email else []
    else:
        emails = sorted(
            {
                email
                for email in ShopMember.objects.filter(
                    shop=endpoint.shop, role=ShopRole.OWNER
                ).values_list("user__email", flat=True)
                if email
            }
        )
    whose = endpoint.shop.name if endpoint.shop is not None else "the platform integration"
    if not emails:
        logger.warning("Webhook endpoint %s was disabled; its shop has no owner email", endpoint_id)
        return
    body = (
        f"Hello,\n\n"
        f"We have paused the webhook endpoint {endpoint.url} of {whose}: "
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
        f"Webhook endpoint paused for {whose}",
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
