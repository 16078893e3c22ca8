"""The README's walkthrough, step by step, through the public API."""

from __future__ import annotations

from typing import Any

from mediation.models import Order


def test_readme_walkthrough(demo: dict[str, Any], api: Any) -> None:
    alice = api.as_user(demo["alice"])
    order = Order.objects.get(external_id="PP-1001")

    orders = alice.get("/api/v1/orders/?shop=paper-petals").json()["results"]
    assert any(o["external_id"] == "PP-1001" and o["refundable"] == 24000 for o in orders)

    r = alice.post(
        "/api/v1/disputes/",
        {
            "order": order.pk,
            "reason": "damaged_or_defective",
            "requested_outcome": "full_refund",
            "description": "The bouquet arrived crushed.",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    dispute = r.json()
    did = dispute["id"]
    assert dispute["state"] == "awaiting_seller"
    assert dispute["requested_amount"] == 24000
    assert "withdraw" in dispute["allowed_actions"]

    agent = api.as_user(demo["petals_agent"])
    r = agent.post(
        f"/api/v1/disputes/{did}/offer/",
        {"kind": "partial_refund", "amount": 8000, "note": "Sorry!"},
        format="json",
    )
    assert r.status_code == 202, r.json()
    assert r.json()["state"] == "awaiting_seller"
    offer_id = r.json()["offers"][-1]["id"]
    assert r.json()["offers"][-1]["status"] == "pending_approval"

    owner = api.as_user(demo["petals_owner"])
    r = owner.post(
        f"/api/v1/disputes/{did}/offers/{offer_id}/approve/", {"note": "Fine by me"}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "awaiting_buyer"

    r = alice.post(
        f"/api/v1/disputes/{did}/counter/",
        {
            "requested_outcome": "partial_refund",
            "requested_amount": 20000,
            "note": "It is unusable.",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "awaiting_seller"

    # The buyer may escalate from awaiting_seller only after the shop's deadline.
    r = alice.post(f"/api/v1/disputes/{did}/escalate/", {"reason": "buyer_request"}, format="json")
    assert r.status_code == 422 and r.json()["code"] == "deadline_not_reached"
    r = owner.post(f"/api/v1/disputes/{did}/escalate/", {"reason": "seller_request"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "escalated"

    mia = api.as_user(demo["mia_agent"])
    r = mia.post(f"/api/v1/disputes/{did}/assign/", {}, format="json")
    assert r.status_code == 200 and r.json()["assigned_to"] == "mia_agent"
    r = mia.post(
        f"/api/v1/disputes/{did}/rule/",
        {
            "kind": "full_refund",
            "amount": 24000,
            "funded_by": "seller",
            "rationale": "Photos show it crushed.",
        },
        format="json",
    )
    assert r.status_code == 202, r.json()
    assert r.json()["state"] == "pending_approval"
    r = mia.post(f"/api/v1/disputes/{did}/approve-ruling/", {}, format="json")
    assert r.status_code == 403 and r.json()["code"] == "four_eyes"

    sam = api.as_user(demo["sam_senior"])
    r = sam.post(f"/api/v1/disputes/{did}/approve-ruling/", {"note": "Agreed."}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "awaiting_fulfilment"

    storefront = api.as_user(demo["storefront"])
    r = storefront.post(
        f"/api/v1/disputes/{did}/fulfil/",
        {"kind": "refund", "amount": 24000, "reference": "re_3PqL"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "closed"
    assert r.json()["outcome"] == "ruled_for_buyer"
    order.refresh_from_db()
    assert order.refunded_total == 24000

    audit = alice.get(f"/api/v1/disputes/{did}/audit/").json()
    assert audit["verified"] is True and audit["broken_at"] is None
    assert [e["action"] for e in audit["results"]][:3] == [
        "raise",
        "offer_pending_approval",
        "offer_approved",
    ]
