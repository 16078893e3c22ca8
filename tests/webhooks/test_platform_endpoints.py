"""The platform can subscribe to webhooks: the integration registers endpoints of no shop,
which receive the events of every shop's disputes as the integration sees them, and
``dispute.refund_due`` tells it what to pay (amount, currency, order, who funds it) when
an agreement, a ruling or an acknowledged return leaves a refund due."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.scenarios import as_user, dispute_in
from tests.webhooks.helpers import Receiver, receiver, verify_signature
from webhooks import delivery as service
from webhooks.models import WebhookEndpoint
from workflows import relay
from workflows import transitions as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook() -> Any:
    with receiver() as r:
        yield r


def run_all() -> None:
    relay.relay_pending()
    for delivery_id in service.due_deliveries():
        service.deliver(delivery_id)


def register(user: Any, hook: Receiver, events: list[str], **extra: Any) -> Any:
    return as_user(user).post(
        "/api/v1/webhook-endpoints/", {"url": hook.url, "events": events, **extra}, format="json"
    )


def test_the_integration_registers_an_endpoint_for_every_shop(hook: Any) -> None:
    sc = dispute_in("awaiting_seller")
    r = register(sc["platform"], hook, ["*"])
    assert r.status_code == 201, r.json()
    assert r.json()["shop"] is None and r.json()["secret"].startswith("whsec_")
    r2 = register(sc["platform"], hook, ["*"], shop=sc.cast.shop.slug)
    assert (r2.status_code, r2.json()["code"]) == (422, "shop_not_allowed")
    mine = as_user(sc["platform"]).get("/api/v1/webhook-endpoints/").json()["results"]
    assert [e["id"] for e in mine] == [r.json()["id"]]
    # Not a shop's: its owners do not see it.
    theirs = as_user(sc["owner"]).get("/api/v1/webhook-endpoints/").json()["results"]
    assert r.json()["id"] not in {e["id"] for e in theirs}


def test_the_platform_hears_of_every_shops_disputes_without_their_conversation(
    hook: Any,
) -> None:
    first = dispute_in("awaiting_buyer")  # the owner offered with a note
    second = dispute_in("awaiting_buyer")  # another cast: another shop
    assert first.dispute.shop_id != second.dispute.shop_id
    relay.relay_pending()
    endpoint_id = register(first["platform"], hook, ["dispute.escalated"]).json()["id"]
    for sc in (first, second):
        t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    run_all()
    seen = {json.loads(r.body)["data"]["id"] for r in hook.requests}
    assert seen == {first.id, second.id}
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    for request in hook.requests:
        assert verify_signature(
            request.headers["Mediation-Signature"], request.body, endpoint.secret
        )
        data = json.loads(request.body)["data"]
        assert all(o["note"] == "" for o in data["offers"]), "offer notes are the parties' own"
        assert data["party_history"] is None


def test_a_refund_due_is_announced_with_what_to_pay(hook: Any) -> None:
    sc = dispute_in("awaiting_seller")  # a full refund of 250.00 USD asked
    relay.relay_pending()
    register(sc["platform"], hook, ["dispute.refund_due"])
    t.accept_request(dispute_id=sc.id, actor=sc["owner"], note="Refund it.")
    run_all()
    assert [r.headers["Mediation-Event-Type"] for r in hook.requests] == ["dispute.refund_due"]
    body = json.loads(hook.requests[0].body)
    assert body["refund"] == {
        "amount": 25000,
        "currency": "USD",
        "order": sc.dispute.order.external_id,
        "funded_by": "seller",
        "kind": "full_refund",
    }
    assert body["data"]["agreement"]["amount"] == 25000


def test_a_ruling_funded_by_the_platform_and_a_return_announce_their_refund(hook: Any) -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    relay.relay_pending()
    register(sc["platform"], hook, ["dispute.refund_due"])
    t.rule(
        dispute_id=sc.id,
        actor=sc["mediator_agent"],
        kind="partial_refund",
        amount=4000,
        funded_by="platform",
        rationale="Goodwill from the marketplace.",
    )
    run_all()
    refunds = [json.loads(r.body)["refund"] for r in hook.requests]
    assert refunds == [
        {
            "amount": 4000,
            "currency": "USD",
            "order": sc.dispute.order.external_id,
            "funded_by": "platform",
            "kind": "partial_refund",
        }
    ]
    # A return and refund: nothing is due until the shop has the item back, as expected.
    ret = dispute_in("awaiting_fulfilment", remedy="return_and_refund", stage="returned")
    hook.requests.clear()
    run_all()
    assert hook.requests == []
    t.acknowledge_return(dispute_id=ret.id, actor=ret["owner"])
    run_all()
    assert [json.loads(r.body)["refund"]["amount"] for r in hook.requests] == [25000]
