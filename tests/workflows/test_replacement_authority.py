"""Replacements respect authority limits: a replacement is worth the order value of the
items concerned (the dispute's items, or the whole order), and an agent offering, or a
mediator ruling, one worth more than their limit goes through approval like a refund."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import AuditEntry, Offer, OrderItem, Ruling
from tests.scenarios import Scenario, as_user, dispute_in, make_cast
from workflows import transitions

pytestmark = pytest.mark.django_db


def post(sc: Scenario, actor: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return as_user(sc[actor]).post(f"/api/v1/disputes/{sc.id}/{path}", body or {}, format="json")


def test_an_agents_replacement_beyond_their_limit_waits_for_the_owner() -> None:
    sc = dispute_in("awaiting_seller")  # the order is 240.00; the agent's limit 50.00
    r = post(sc, "agent", "offer/", {"kind": "replacement", "note": "A new one?"})
    assert r.status_code == 202, r.json()
    offer = Offer.objects.get(dispute_id=sc.id)
    assert (offer.kind, offer.status) == ("replacement", "pending_approval")
    entry = AuditEntry.objects.filter(dispute_id=sc.id).order_by("-seq").first()
    assert entry is not None and entry.payload["limit"] == 5000
    assert post(sc, "owner", f"offers/{offer.pk}/approve/").status_code == 200
    assert sc.refresh().state == "awaiting_buyer"


def test_an_agent_accepting_a_replacement_request_beyond_their_limit_waits() -> None:
    sc = dispute_in("awaiting_seller", requested_outcome="replacement")
    assert post(sc, "agent", "accept-request/").status_code == 202
    assert sc.refresh().state == "awaiting_seller"
    assert Offer.objects.get(dispute_id=sc.id).accepts_request


def test_a_replacement_of_a_cheap_item_is_within_the_agents_limit() -> None:
    cast = make_cast()
    item = OrderItem.objects.create(
        order=cast.order, sku="CARD", title="Card", quantity=2, unit_price=1500
    )
    d = transitions.raise_dispute(
        actor=cast.buyer,
        order_id=cast.order.pk,
        reason="damaged_or_defective",
        requested_outcome="replacement",
        description="The cards were bent.",
        item_ids=[item.pk],
    ).dispute
    r = as_user(cast.agent).post(
        f"/api/v1/disputes/{d.pk}/offer/", {"kind": "replacement"}, format="json"
    )
    assert r.status_code == 200, r.json()  # 2 x 15.00 = 30.00, within 50.00
    assert r.json()["state"] == "awaiting_buyer"


def test_a_mediators_replacement_ruling_beyond_their_authority_waits() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")  # authority 100.00
    body = {"kind": "replacement", "funded_by": "seller", "rationale": "Send another."}
    r = post(sc, "mediator_agent", "rule/", body)
    assert r.status_code == 202, r.json()
    ruling = Ruling.objects.get(dispute_id=sc.id)
    assert (ruling.amount, ruling.value, ruling.status) == (0, 24000, "pending_approval")
    assert r.json()["rulings"] == [] or r.json()["rulings"][0]["value"] == 24000
    entry = AuditEntry.objects.filter(dispute_id=sc.id).order_by("-seq").first()
    assert entry is not None and entry.payload["value"] == 24000
    assert entry.payload["authority"] == 10000
    # The senior's 1,000.00 covers it.
    assert post(sc, "mediator_senior", "approve-ruling/").status_code == 200
    assert sc.refresh().agreed_kind == "replacement"
    # The senior alone would have ruled it.
    other = dispute_in("under_review", mediator="mediator_senior")
    assert post(other, "mediator_senior", "rule/", body).status_code == 200
