"""The shop can concede or offer at any stage before a ruling, and the owner decides on an
agent's offer beyond their limit either way (approve or reject).

Once escalated, the case stays with the mediator while an offer is open; the buyer's
acceptance (or the shop's acceptance of the request) closes the review as an agreement
before any ruling. A ruling ends the offers, and after a ruling (an appeal) only the
mediator decides.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from mediation.models import AuditEntry, Dispute, Offer, OfferStatus, OutboxEvent
from tests.mailbox import relay_all
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db


def post(sc: Scenario, actor: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return as_user(sc[actor]).post(f"/api/v1/disputes/{sc.id}/{path}", body or {}, format="json")


def detail(sc: Scenario, actor: str) -> dict[str, Any]:
    r = as_user(sc[actor]).get(f"/api/v1/disputes/{sc.id}/")
    assert r.status_code == 200, r.json()
    return dict(r.json())


def last_entry(sc: Scenario) -> AuditEntry:
    entry = AuditEntry.objects.filter(dispute_id=sc.id).order_by("-seq").first()
    assert entry is not None
    return entry


def test_an_offer_during_the_review_goes_to_the_buyer_and_the_mediator() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    respond_by = sc.refresh().respond_by
    r = post(sc, "owner", "offer/", {"kind": "partial_refund", "amount": 3000, "note": "Sorry!"})
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    # The case stays with its mediator, on the mediator's service level.
    assert d.state == "under_review" and d.assigned_to == sc["mediator_agent"]
    assert d.respond_by == respond_by
    assert last_entry(sc).action == "offer"
    assert OutboxEvent.objects.filter(dispute_id=sc.id, type="dispute.offer_made").exists()
    for who in ("buyer", "mediator_agent"):
        offers = [o for o in detail(sc, who)["offers"] if o["status"] == "open"]
        assert [(o["kind"], o["amount"]) for o in offers] == [("partial_refund", 3000)], who
    assert "accept-offer" in detail(sc, "buyer")["allowed_actions"]
    # The buyer accepts: an agreement before the ruling.
    r = post(sc, "buyer", "accept-offer/")
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert d.state == "awaiting_fulfilment"
    assert (d.agreed_kind, d.agreed_amount, d.agreed_outcome) == (
        "partial_refund",
        3000,
        "agreement",
    )
    assert d.ruled_at is None
    assert post(sc, "mediator_agent", "rule/", {"kind": "no_action", "rationale": "x"}).json()[
        "code"
    ] == ("invalid_transition")


def test_a_ruling_ends_the_open_offer() -> None:
    sc = dispute_in("escalated")
    assert (
        post(sc, "agent", "offer/", {"kind": "partial_refund", "amount": 2000}).status_code == 200
    )
    assert sc.refresh().state == "escalated"
    assert post(sc, "mediator_senior", "assign/").status_code == 200
    ruling = {"kind": "partial_refund", "amount": 9000, "funded_by": "seller", "rationale": "Half."}
    assert post(sc, "mediator_senior", "rule/", ruling).status_code == 200
    offer = Offer.objects.get(dispute_id=sc.id, side="seller")
    assert offer.status == OfferStatus.SUPERSEDED
    assert sc.refresh().agreed_amount == 9000
    assert "accept-offer" not in detail(sc, "buyer")["allowed_actions"]


def test_after_a_ruling_the_parties_no_longer_settle() -> None:
    sc = dispute_in("escalated", by="appeal")
    assert sc.refresh().ruled_at is not None
    r = post(sc, "owner", "offer/", {"kind": "partial_refund", "amount": 1000})
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    assert "appealed, not settled" in r.json()["detail"]
    assert not {"offer", "accept-request"} & set(detail(sc, "owner")["allowed_actions"])


def test_the_shop_concedes_while_the_mediator_waits_for_an_answer() -> None:
    sc = dispute_in("awaiting_info", party="buyer")
    r = post(sc, "owner", "accept-request/", {"note": "We will refund it all."})
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert d.state == "awaiting_fulfilment" and d.info_requested_from == ""
    assert (d.agreed_kind, d.agreed_amount) == ("full_refund", 25000)
    assert last_entry(sc).action == "accept_request"


def test_an_agents_concession_beyond_their_limit_waits_for_the_owner() -> None:
    sc = dispute_in("escalated")  # the buyer asks 250.00; the agent grants 50.00 alone
    r = post(sc, "agent", "accept-request/", {"note": "Let's settle."})
    assert r.status_code == 202, r.json()
    assert r.json()["state"] == "escalated"
    pending = Offer.objects.get(dispute_id=sc.id, status=OfferStatus.PENDING_APPROVAL)
    assert pending.accepts_request and (pending.kind, pending.amount) == ("full_refund", 25000)
    entry = last_entry(sc)
    assert entry.action == "accept_request_pending_approval" and entry.payload["limit"] == 5000
    # The shop's business until approved: the buyer does not see it.
    assert all(o["status"] != "pending_approval" for o in detail(sc, "buyer")["offers"])
    owner_can = set(detail(sc, "owner")["allowed_actions"])
    assert {"approve-offer", "reject-offer"} <= owner_can
    assert not {"approve-offer", "reject-offer"} & set(detail(sc, "agent")["allowed_actions"])
    r = post(sc, "owner", f"offers/{pending.pk}/approve/", {"note": "Yes."})
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert d.state == "awaiting_fulfilment"
    assert (d.agreed_amount, d.agreed_outcome, d.funded_by) == (25000, "agreement", "seller")
    pending.refresh_from_db()
    assert pending.status == OfferStatus.ACCEPTED and pending.approved_by == sc["owner"]
    assert last_entry(sc).action == "request_accepted_on_approval"


def test_the_owner_rejects_an_agents_offer() -> None:
    sc = dispute_in("awaiting_seller")
    r = post(sc, "agent", "offer/", {"kind": "partial_refund", "amount": 10000})
    assert r.status_code == 202, r.json()
    offer = Offer.objects.get(dispute_id=sc.id)
    version = sc.refresh().version
    for who, want in (("agent", 403), ("buyer", 403), ("other_owner", 404)):
        r = post(sc, who, f"offers/{offer.pk}/reject/", {"note": "no"})
        assert r.status_code == want, (who, r.json())
    r = post(sc, "owner", f"offers/{offer.pk}/reject/", {"note": "Offer 50.00 instead."})
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert d.state == "awaiting_seller" and d.version == version + 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.REJECTED and offer.approved_by == sc["owner"]
    entry = last_entry(sc)
    assert entry.action == "offer_rejected" and entry.payload["note"] == "Offer 50.00 instead."
    sentences = [
        e["summary"]
        for e in as_user(sc["owner"]).get(f"/api/v1/disputes/{sc.id}/timeline/").json()["results"]
    ]
    assert any("turned down the proposed" in s for s in sentences), sentences
    # Rejected once: nothing waits any more.
    r = post(sc, "owner", f"offers/{offer.pk}/reject/")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    assert "reject-offer" not in detail(sc, "owner")["allowed_actions"]
    # The shop answers otherwise, within the agent's limit.
    assert (
        post(sc, "agent", "offer/", {"kind": "partial_refund", "amount": 5000}).status_code == 200
    )
    assert Dispute.objects.get(pk=sc.id).state == "awaiting_buyer"


def test_the_owner_is_asked_to_approve_an_agents_concession() -> None:
    sc = dispute_in("awaiting_seller")
    relay_all()
    mail.outbox.clear()
    assert post(sc, "agent", "accept-request/", {"note": "Fair enough."}).status_code == 202
    relay_all()
    assert [m.to for m in mail.outbox] == [[sc["owner"].email]]
    body = mail.outbox[0].body
    assert "would like to accept the customer's request, a full refund of 250.00 USD" in body
    assert "approve it as it is, reject it" in body
