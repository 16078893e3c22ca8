"""The client's webhook check (clients/python/mediation_client/webhooks.py) against what the
service really sends: deliveries to a receiver on loopback, signed by webhooks.signing."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from mediation_client.models import WebhookEvent
from mediation_client.webhooks import InvalidSignature, parse_webhook, verify_webhook

from tests.scenarios import dispute_in
from tests.webhooks.helpers import Received, make_endpoint, receiver
from webhooks import delivery, services, signing
from webhooks.models import DeliveryStatus
from workflows import relay
from workflows import transitions as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook() -> Any:
    with receiver() as r:
        yield r


def deliver_all() -> None:
    """What the workers do: relay the outbox, then attempt every due delivery."""
    relay.relay_pending()
    for delivery_id in delivery.due_deliveries():
        done = delivery.deliver(delivery_id)
        assert done is not None and done.status == DeliveryStatus.SUCCEEDED


def escalation(hook: Any) -> tuple[Any, Any, list[Received]]:
    sc = dispute_in("awaiting_buyer")
    relay.relay_pending()  # what happened before the endpoint existed is not sent
    endpoint = make_endpoint(sc.cast.shop, hook.url, ["dispute.escalated"], created_by=sc["owner"])
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    deliver_all()
    assert len(hook.requests) == 1
    return sc, endpoint, hook.requests


def test_a_delivery_verifies_with_its_endpoints_secret_only(hook: Any) -> None:
    _, endpoint, [request] = escalation(hook)
    header = request.headers["Mediation-Signature"]
    assert verify_webhook(request.body, header, endpoint.secret)
    assert not verify_webhook(request.body, header, signing.new_secret())
    assert not verify_webhook(request.body + b" ", header, endpoint.secret)
    assert not verify_webhook(
        request.body.replace(b"escalated", b"closed"), header, endpoint.secret
    )
    # Received five minutes and a second later: a replay.
    sent_at = int(header.split(",")[0].removeprefix("t="))
    assert not verify_webhook(request.body, header, endpoint.secret, now=sent_at + 301)
    assert verify_webhook(request.body, header, endpoint.secret, now=sent_at + 299)
    assert not verify_webhook(request.body, header, endpoint.secret, now=sent_at - 301)


def test_parse_webhook_gives_the_event_as_the_generated_model(hook: Any) -> None:
    sc, endpoint, [request] = escalation(hook)
    event = parse_webhook(request.body, request.headers["Mediation-Signature"], endpoint.secret)
    assert isinstance(event, WebhookEvent)
    assert event.id == UUID(request.headers["Mediation-Event-Id"])
    assert event.type_.value == "dispute.escalated"
    assert event.data.id == sc.id
    assert event.data.state.value == "escalated"
    assert event.data.shop.slug == sc.cast.shop.slug
    body = json.loads(request.body)
    assert event.created_at == datetime.fromisoformat(body["created_at"])
    # The schema describes every field the body has: none left over as an unknown property.
    assert event.additional_properties == {} and event.data.additional_properties == {}
    assert set(event.data.to_dict()) == set(body["data"])
    with pytest.raises(InvalidSignature):
        parse_webhook(request.body, request.headers["Mediation-Signature"], "whsec_wrong")


def test_during_a_rotation_either_secret_verifies(hook: Any) -> None:
    sc = dispute_in("awaiting_buyer")
    relay.relay_pending()
    endpoint = make_endpoint(sc.cast.shop, hook.url, ["dispute.escalated"], created_by=sc["owner"])
    old = endpoint.secret
    new = services.rotate_secret(endpoint, timedelta(hours=1))
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    deliver_all()
    [request] = hook.requests
    header = request.headers["Mediation-Signature"]
    assert header.count("v1=") == 2
    assert verify_webhook(request.body, header, old)
    assert verify_webhook(request.body, header, new)
    # A receiver moving to the new secret may try both of its own.
    assert verify_webhook(request.body, header, [signing.new_secret(), new])
    assert not verify_webhook(request.body, header, [signing.new_secret()])


@pytest.mark.parametrize(
    "header",
    [None, "", "v1=00", "t=,v1=00", "t=soon,v1=00", "t=1767225600", "garbage"],
)
def test_a_header_that_is_not_a_signature_fails(header: str | None) -> None:
    assert not verify_webhook(b"{}", header, "whsec_x", now=1767225600)


def test_the_documented_vector() -> None:
    """The README's scheme: v1 is the hex HMAC-SHA256 of "<t>.<raw body>" keyed with the
    secret, as the service's signing code writes it."""
    body, secret, at = b'{"id": "6f1c"}', "whsec_test", int(time.time())
    header = signing.signature_header(body, [secret], at)
    assert verify_webhook(body, header, secret)
    assert verify_webhook(body, f" t={at} , v1={signing.sign(body, secret, at)} ", secret)
