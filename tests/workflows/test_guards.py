"""Every guard of DESIGN §4/§5, one by one, through the API (and the system's deadline
service directly): who may, when, how much, and what each refusal says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from mediation.actors import SYSTEM
from mediation.errors import DomainError
from mediation.models import AuditEntry, Dispute, Offer, Order
from tests.factories import OrderFactory
from tests.scenarios import (
    Cast,
    Scenario,
    as_user,
    dispute_in,
    make_cast,
    make_overdue,
    raise_dispute,
    travel,
)
from workflows import transitions

pytestmark = pytest.mark.django_db


def post(user: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    return as_user(user).post(f"/api/v1/{path}", body or {}, format="json")


def act(sc: Scenario, actor: str, action: str, body: dict[str, Any] | None = None) -> Any:
    return post(sc[actor], f"disputes/{sc.id}/{action}/", body)


def ok(r: Any, state: str, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.json()
    assert r.json()["state"] == state
    return r.json()


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    body = r.json()
    assert (r.status_code, body.get("code")) == (status, code), body
    assert r["Content-Type"].startswith("application/problem+json")
    return body


def allowed(sc: Scenario, actor: str) -> set[str]:
    r = as_user(sc[actor]).get(f"/api/v1/disputes/{sc.id}/")
    assert r.status_code == 200, r.json()
    return set(r.json()["allowed_actions"])


def raise_body(order: Order, **extra: Any) -> dict[str, Any]:
    return {
        "order": order.pk,
        "reason": "damaged_or_defective",
        "requested_outcome": "full_refund",
        "description": "It arrived crushed.",
        **extra,
    }


REFUND = {"kind": "refund", "reference": "re_guard"}


# --- raise ----------------------------------------------------------------------------------


def test_only_the_orders_buyer_may_raise_a_dispute() -> None:
    cast = make_cast()
    for name in ("other_buyer", "owner", "agent", "other_owner", "mediator_lead", "platform"):
        problem(post(cast[name], "disputes/", raise_body(cast.order)), 404, "not_found")
    assert not Dispute.objects.filter(order=cast.order).exists()
    r = post(cast.buyer, "disputes/", raise_body(cast.order))
    assert r.status_code == 201, r.json()
    assert r.json()["state"] == "awaiting_seller" and r.json()["buyer"] == cast.buyer.username


def test_anonymous_may_not_raise() -> None:
    cast = make_cast()
    problem(post(None, "disputes/", raise_body(cast.order)), 401, "not_authenticated")


@pytest.mark.parametrize(("days", "status"), [(179, 201), (181, 422)])
def test_dispute_window_is_180_days_from_placement(days: int, status: int) -> None:
    cast = make_cast()
    order = cast.new_order(placed_days_ago=days)
    r = post(cast.buyer, "disputes/", raise_body(order))
    if status == 201:
        assert r.status_code == 201, r.json()
    else:
        problem(r, 422, "deadline_passed")
        assert not Dispute.objects.filter(order=order).exists()


def test_dispute_window_closes_as_the_clock_passes_it() -> None:
    cast = make_cast()
    order = cast.new_order(placed_days_ago=170)
    with travel(timedelta(days=11)):
        problem(post(cast.buyer, "disputes/", raise_body(order)), 422, "deadline_passed")
    with travel(timedelta(days=9)):
        assert post(cast.buyer, "disputes/", raise_body(order)).status_code == 201


def test_one_open_dispute_per_order() -> None:
    cast = make_cast()
    first = post(cast.buyer, "disputes/", raise_body(cast.order))
    assert first.status_code == 201
    problem(post(cast.buyer, "disputes/", raise_body(cast.order)), 409, "dispute_already_open")
    # Once it is closed, the order may be disputed again.
    post(cast.buyer, f"disputes/{first.json()['id']}/withdraw/", {"note": "Oops"})
    again = post(cast.buyer, "disputes/", raise_body(cast.order))
    assert again.status_code == 201, again.json()
    assert Dispute.objects.filter(order=cast.order).exclude(state="closed").count() == 1


def test_requested_amount_within_the_refundable_remainder() -> None:
    cast = make_cast(total=24000, shipping=1000)
    body = problem(
        post(
            cast.buyer,
            "disputes/",
            raise_body(cast.order, requested_outcome="partial_refund", requested_amount=25001),
        ),
        422,
        "amount_exceeds_refundable",
    )
    assert body["refundable"] == 25000
    r = post(cast.buyer, "disputes/", raise_body(cast.order, requested_amount=25000))
    assert r.status_code == 201 and r.json()["requested_amount"] == 25000


def test_refundable_remainder_shrinks_with_earlier_refunds() -> None:
    cast = make_cast(total=24000, shipping=1000)
    dispute_in("closed", cast=cast, outcome="agreement")  # 30.00 refunded on the order
    cast.order.refresh_from_db()
    assert cast.order.refunded_total == 3000
    problem(
        post(
            cast.buyer,
            "disputes/",
            raise_body(cast.order, requested_outcome="partial_refund", requested_amount=22001),
        ),
        422,
        "amount_exceeds_refundable",
    )
    r = post(cast.buyer, "disputes/", raise_body(cast.order))  # full refund: the remainder
    assert r.status_code == 201 and r.json()["requested_amount"] == 22000


def _snapshot(sc: Scenario) -> tuple[str, int, int]:
    d = Dispute.objects.get(pk=sc.id)
    return d.state, d.version, AuditEntry.objects.filter(dispute_id=sc.id).count()


def _refund_everything(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(refunded_total=F("total") + F("shipping"))


@pytest.mark.parametrize("outcome", ["full_refund", "partial_refund", "store_credit", "goodwill"])
def test_nothing_refundable_cannot_be_disputed_for_money(outcome: str) -> None:
    """A money remedy on an order refunded in full is refused at raise: before, the 0.00
    agreement waited in awaiting_fulfilment for a delivery no one could make."""
    cast = make_cast(total=24000, shipping=1000)
    _refund_everything(cast.order)
    body = problem(
        post(cast.buyer, "disputes/", raise_body(cast.order, requested_outcome=outcome)),
        422,
        "nothing_refundable",
    )
    assert "250.00 USD has been refunded already" in body["detail"]
    assert not Dispute.objects.filter(order=cast.order).exists()
    # A replacement is still something the shop can deliver.
    r = post(cast.buyer, "disputes/", raise_body(cast.order, requested_outcome="replacement"))
    assert r.status_code == 201, r.json()


def test_a_refund_elsewhere_during_the_dispute_leaves_no_money_to_agree_on() -> None:
    sc = dispute_in("awaiting_seller")  # the buyer asked for a full refund of 250.00
    _refund_everything(sc.cast.order)  # the platform refunded it outside the dispute
    before = _snapshot(sc)
    problem(act(sc, "owner", "accept-request"), 422, "nothing_refundable")
    problem(act(sc, "owner", "offer", {"kind": "full_refund"}), 422, "nothing_refundable")
    assert _snapshot(sc) == before
    assert "accept-request" not in allowed(sc, "owner")
    # The shop can still answer otherwise, and the buyer can withdraw.
    assert act(sc, "owner", "contest", {"statement": "Refunded already."}).status_code == 200
    assert act(sc, "buyer", "withdraw").status_code == 200


@pytest.mark.parametrize(
    ("state", "options", "actor", "action", "body"),
    [
        pytest.param(
            "awaiting_seller",
            {},
            "owner",
            "offer",
            {"kind": "partial_refund", "amount": 25001},
            id="offer",
        ),
        pytest.param(
            "awaiting_buyer",
            {},
            "buyer",
            "counter",
            {"requested_outcome": "partial_refund", "requested_amount": 25001},
            id="counter",
        ),
        pytest.param(
            "under_review",
            {"mediator": "mediator_lead"},
            "mediator_lead",
            "rule",
            {"kind": "partial_refund", "amount": 25001, "rationale": "All of it."},
            id="rule",
        ),
    ],
)
def test_offered_countered_and_ruled_amounts_within_the_remainder(
    state: str, options: dict[str, Any], actor: str, action: str, body: dict[str, Any]
) -> None:
    sc = dispute_in(state, **options)
    version = sc.dispute.version
    assert (
        problem(act(sc, actor, action, body), 422, "amount_exceeds_refundable")["refundable"]
        == 25000
    )
    assert (sc.refresh().state, sc.dispute.version) == (state, version)
    # The whole remainder is fine.
    body = {k: (25000 if k in {"amount", "requested_amount"} else v) for k, v in body.items()}
    assert act(sc, actor, action, body).status_code in {200, 202}


# --- seller answers ---------------------------------------------------------------------------


def test_agent_offer_above_limit_waits_for_the_owner() -> None:
    sc = dispute_in("awaiting_seller")
    r = act(sc, "agent", "offer", {"kind": "partial_refund", "amount": 8000, "note": "Sorry"})
    data = ok(r, "awaiting_seller", status=202)
    offer = data["offers"][-1]
    assert (offer["status"], offer["amount"], offer["author"]) == (
        "pending_approval",
        8000,
        sc["agent"].username,
    )
    assert sc.refresh().respond_by is not None
    # The buyer does not see an offer the shop has not made yet.
    r = as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/")
    assert all(o["status"] != "pending_approval" for o in r.json()["offers"])
    assert "accept-offer" not in r.json()["allowed_actions"]
    # Only the owner approves it.
    path = f"disputes/{sc.id}/offers/{offer['id']}/approve/"
    for name in ("agent", "buyer", "mediator_lead", "platform"):
        problem(post(sc[name], path, {"note": "me?"}), 403, "forbidden")
    problem(post(sc["other_owner"], path, {}), 404, "not_found")
    data = ok(post(sc["owner"], path, {"note": "Fine by me"}), "awaiting_buyer")
    assert data["offers"][-1]["status"] == "open"
    assert data["offers"][-1]["approved_by"] == sc["owner"].username
    problem(post(sc["owner"], path, {}), 409, "invalid_transition")  # not waiting any more
    assert "accept-offer" in allowed(sc, "buyer")


def test_approving_an_offer_of_another_dispute_is_not_found() -> None:
    cast = make_cast()
    first = dispute_in("awaiting_seller", cast=cast, pending_offer=True)
    offer = first.latest_offer()
    second = dispute_in("awaiting_seller", cast=cast, order=cast.new_order())
    problem(
        post(cast.owner, f"disputes/{second.id}/offers/{offer.pk}/approve/", {}), 404, "not_found"
    )
    assert Offer.objects.get(pk=offer.pk).status == "pending_approval"


def test_goodwill_with_nothing_to_deliver_closes_on_agreement() -> None:
    sc = dispute_in("awaiting_seller", requested_outcome="goodwill", requested_amount=0)
    data = ok(act(sc, "agent", "accept-request", {"note": "Sorry!"}), "closed")
    assert data["outcome"] == "agreement"


def test_agent_offer_within_limit_goes_to_the_buyer() -> None:
    sc = dispute_in("awaiting_seller")
    data = ok(
        act(sc, "agent", "offer", {"kind": "partial_refund", "amount": 5000}), "awaiting_buyer"
    )
    assert data["offers"][-1]["status"] == "open"


def test_agent_accept_request_above_limit_waits_for_the_owner() -> None:
    sc = dispute_in("awaiting_seller")  # a full refund of 250.00
    assert "accept-request" in allowed(sc, "agent")
    data = ok(act(sc, "agent", "accept-request", {"note": "ok"}), "awaiting_seller", status=202)
    assert data["agreement"] is None
    offer = Offer.objects.get(dispute_id=sc.id)
    assert (offer.status, offer.accepts_request, offer.amount) == ("pending_approval", True, 25000)
    entry = AuditEntry.objects.filter(dispute_id=sc.id).order_by("-seq").first()
    assert entry is not None and entry.payload["limit"] == 5000
    assert {"approve-offer", "reject-offer"} <= allowed(sc, "owner")
    ok(act(sc, "owner", "accept-request", {"note": "ok"}), "awaiting_fulfilment")


def test_agent_accepts_a_request_within_limit() -> None:
    sc = dispute_in("awaiting_seller", requested_outcome="partial_refund", requested_amount=4000)
    assert "accept-request" in allowed(sc, "agent")
    data = ok(act(sc, "agent", "accept-request", {"note": "Sure"}), "awaiting_fulfilment")
    assert data["agreement"]["kind"] == "partial_refund" and data["agreement"]["amount"] == 4000


# --- counter rounds ---------------------------------------------------------------------------


def test_at_most_three_counter_rounds() -> None:
    sc = dispute_in("awaiting_buyer")
    for round_ in range(1, 4):
        data = ok(
            act(
                sc,
                "buyer",
                "counter",
                {"requested_outcome": "partial_refund", "requested_amount": 20000 - round_},
            ),
            "awaiting_seller",
        )
        assert data["counter_rounds"] == round_
        ok(
            act(sc, "owner", "offer", {"kind": "partial_refund", "amount": 1000 * round_}),
            "awaiting_buyer",
        )
    assert allowed(sc, "buyer") == {"accept-offer", "escalate", "withdraw"}
    problem(
        act(sc, "buyer", "counter", {"requested_outcome": "full_refund"}),
        422,
        "counter_limit_reached",
    )
    assert sc.refresh().counter_rounds == 3


# --- escalate ---------------------------------------------------------------------------------


def test_buyer_escalates_from_awaiting_seller_only_after_the_deadline() -> None:
    sc = dispute_in("awaiting_seller")
    # Listed: abusive conduct escalates at once (tests/workflows/test_abusive_conduct.py).
    assert "escalate" in allowed(sc, "buyer")
    body = problem(
        act(sc, "buyer", "escalate", {"reason": "buyer_request"}), 422, "deadline_not_reached"
    )
    assert body["respond_by"]
    with travel(timedelta(hours=24, minutes=1)):
        assert "escalate" in allowed(sc, "buyer")
        data = ok(act(sc, "buyer", "escalate", {"reason": "buyer_request"}), "escalated")
    assert data["escalation_reason"] == "buyer_request"


def test_seller_escalates_from_awaiting_seller_at_any_time() -> None:
    for name in ("owner", "agent"):
        sc = dispute_in("awaiting_seller")
        assert "escalate" in allowed(sc, name)
        data = ok(act(sc, name, "escalate", {"reason": "seller_request"}), "escalated")
        assert data["escalation_reason"] == "seller_request"


def test_a_party_escalates_with_its_own_reason() -> None:
    sc = dispute_in("awaiting_buyer")
    problem(act(sc, "buyer", "escalate", {"reason": "seller_request"}), 422, "unprocessable")
    ok(act(sc, "buyer", "escalate", {"reason": "abusive_conduct"}), "escalated")


def test_overdue_fulfilment_may_be_escalated() -> None:
    sc = dispute_in("awaiting_fulfilment")
    problem(act(sc, "buyer", "escalate", {}), 422, "deadline_not_reached")
    make_overdue(sc.dispute)
    ok(act(sc, "buyer", "escalate", {}), "escalated")


# --- withdraw ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "options"),
    [
        ("awaiting_seller", {}),
        ("awaiting_buyer", {}),
        ("escalated", {}),
        ("under_review", {}),
        ("awaiting_info", {}),
        ("awaiting_fulfilment", {}),
    ],
)
def test_withdraw_before_a_ruling(state: str, options: dict[str, Any]) -> None:
    sc = dispute_in(state, **options)
    assert "withdraw" in allowed(sc, "buyer")
    for name in ("owner", "mediator_lead", "platform"):
        problem(act(sc, name, "withdraw", {}), 403, "forbidden")
    data = ok(act(sc, "buyer", "withdraw", {"note": "Sorted"}), "closed")
    assert data["outcome"] == "withdrawn"


@pytest.mark.parametrize(
    ("state", "options"),
    [
        ("pending_approval", {}),
        ("awaiting_fulfilment", {"via": "ruling", "remedy": "partial_refund", "amount": 5000}),
        ("escalated", {"by": "appeal"}),
        ("closed", {"outcome": "ruled_for_seller"}),
    ],
)
def test_no_withdrawal_once_ruled(state: str, options: dict[str, Any]) -> None:
    sc = dispute_in(state, **options)
    assert "withdraw" not in allowed(sc, "buyer")
    problem(act(sc, "buyer", "withdraw", {}), 409, "invalid_transition")
    assert sc.refresh().state == state


# --- mediation: tiers, four eyes, authority ---------------------------------------------------


def test_appeal_once_within_ten_days_to_a_higher_tier() -> None:
    sc = dispute_in("closed", outcome="ruled_for_seller", ruled_by="mediator_agent")
    for name in ("mediator_lead", "platform"):
        problem(act(sc, name, "appeal", {"reason": "x"}), 403, "forbidden")
    data = ok(act(sc, "buyer", "appeal", {"reason": "My photos were ignored."}), "escalated")
    assert data["escalation_reason"] == "appeal" and data["required_tier"] == "senior"
    assert data["appealed"] is True and data["outcome"] == ""

    # The agent who ruled (or any agent) may not hear it, nor be given it by a lead.
    assert "assign" not in allowed(sc, "mediator_agent")
    problem(act(sc, "mediator_agent", "assign", {}), 403, "tier_too_low")
    problem(
        act(sc, "mediator_lead", "assign", {"mediator": sc["mediator_agent"].username}),
        403,
        "tier_too_low",
    )
    ok(act(sc, "mediator_senior", "assign", {}), "under_review")
    ok(
        act(
            sc,
            "mediator_senior",
            "rule",
            {"kind": "partial_refund", "amount": 4000, "rationale": "Half."},
        ),
        "awaiting_fulfilment",
    )
    assert "appeal" not in allowed(sc, "buyer")
    problem(act(sc, "buyer", "appeal", {"reason": "Again"}), 422, "already_appealed")
    problem(act(sc, "owner", "appeal", {"reason": "Us too"}), 422, "already_appealed")


@pytest.mark.parametrize(("days", "allowed_"), [(9, True), (11, False)])
def test_appeal_window_is_ten_days(days: int, allowed_: bool) -> None:
    sc = dispute_in("closed", outcome="ruled_for_seller")
    with travel(timedelta(days=days)):
        r = act(sc, "owner", "appeal", {"reason": "Please look again."})
        if allowed_:
            ok(r, "escalated")
        else:
            problem(r, 422, "deadline_passed")
            assert "appeal" not in allowed(sc, "owner")


def test_appeal_of_a_senior_approved_ruling_goes_to_a_lead() -> None:
    # The agent's ruling beyond their authority was approved by the senior.
    sc = dispute_in("pending_approval")
    ok(act(sc, "mediator_senior", "approve-ruling", {"note": "ok"}), "awaiting_fulfilment")
    data = ok(act(sc, "owner", "appeal", {"reason": "Too much."}), "escalated")
    assert data["required_tier"] == "lead"
    problem(act(sc, "mediator_senior", "assign", {}), 403, "tier_too_low")
    ok(act(sc, "mediator_lead", "assign", {}), "under_review")


def test_no_appeal_above_a_lead() -> None:
    sc = dispute_in("closed", outcome="ruled_for_seller", ruled_by="mediator_lead")
    problem(act(sc, "buyer", "appeal", {"reason": "Hm"}), 422, "no_higher_tier")


def test_no_appeal_without_a_ruling() -> None:
    sc = dispute_in("closed", outcome="agreement")
    problem(act(sc, "buyer", "appeal", {"reason": "Hm"}), 409, "invalid_transition")


def test_appeal_is_refused_while_another_dispute_is_open_on_the_order() -> None:
    """Reopening a closed dispute on appeal would make two open disputes on one order; the
    appeal is refused, and allowed_actions must not offer it either."""
    sc = dispute_in("closed", outcome="ruled_for_seller")
    r = post(sc["buyer"], "disputes/", raise_body(sc.cast.order, reason="other"))
    assert r.status_code == 201, r.json()
    problem(act(sc, "buyer", "appeal", {"reason": "Again"}), 409, "dispute_already_open")
    assert "appeal" not in allowed(sc, "buyer")


def test_a_replacement_ruled_again_on_appeal_is_shipped_again() -> None:
    """The first replacement was shipped; the buyer appeals (it arrived broken too) and the
    lead rules another replacement: the shop must ship it, and the buyer cannot confirm
    a parcel that has not been sent. (A replacement of the 240.00 order is beyond the
    agent's authority of 100.00: the senior rules it.)"""
    sc = dispute_in(
        "awaiting_fulfilment", via="ruling", remedy="replacement", ruled_by="mediator_senior"
    )
    shipment = {"kind": "replacement_shipment", "carrier": "UPS", "tracking_number": "1Z1"}
    ok(act(sc, "owner", "fulfil", shipment), "awaiting_fulfilment")
    ok(act(sc, "buyer", "appeal", {"reason": "The replacement arrived broken too."}), "escalated")
    ok(act(sc, "mediator_lead", "assign", {}), "under_review")
    ok(
        act(sc, "mediator_lead", "rule", {"kind": "replacement", "rationale": "Another one."}),
        "awaiting_fulfilment",
    )
    assert "confirm-received" not in allowed(sc, "buyer")
    assert "fulfil" in allowed(sc, "owner")
    data = ok(
        act(sc, "owner", "fulfil", {**shipment, "tracking_number": "1Z2"}), "awaiting_fulfilment"
    )
    assert data["agreement"]["replacement_shipped"] is True
    ok(act(sc, "buyer", "confirm-received", {}), "closed")


def test_approver_is_never_the_proposer() -> None:
    sc = dispute_in("pending_approval", proposer="mediator_agent")
    for action in ("approve-ruling", "reject-ruling"):
        problem(act(sc, "mediator_agent", action, {}), 403, "four_eyes")
    assert {"approve-ruling", "reject-ruling"} & allowed(sc, "mediator_agent") == set()
    ok(act(sc, "mediator_senior", "reject-ruling", {"note": "Look again"}), "under_review")
    # The agent still holds the case and rules again; the senior approves this time.
    ok(
        act(sc, "mediator_agent", "rule", {"kind": "full_refund", "rationale": "All of it."}),
        "pending_approval",
        status=202,
    )
    data = ok(act(sc, "mediator_senior", "approve-ruling", {}), "awaiting_fulfilment")
    assert data["rulings"][-1]["approver"] == sc["mediator_senior"].username


def test_lead_proposal_needs_another_mediator_too() -> None:
    cast = make_cast(total=200000, shipping=0)
    sc = dispute_in("under_review", cast=cast, mediator="mediator_senior")
    r = act(sc, "mediator_senior", "rule", {"kind": "full_refund", "rationale": "All of it."})
    ok(r, "pending_approval", status=202)
    problem(act(sc, "mediator_senior", "approve-ruling", {}), 403, "four_eyes")
    ok(act(sc, "mediator_lead", "approve-ruling", {}), "awaiting_fulfilment")


def test_approver_authority_must_cover_the_amount() -> None:
    cast = make_cast(total=150000, shipping=0)  # 1,500.00: beyond the senior's 1,000.00
    sc = dispute_in("under_review", cast=cast, mediator="mediator_agent")
    data = ok(
        act(sc, "mediator_agent", "rule", {"kind": "full_refund", "rationale": "All of it."}),
        "pending_approval",
        status=202,
    )
    assert data["rulings"][-1]["status"] == "pending_approval"
    assert data["rulings"][-1]["amount"] == 150000
    body = problem(
        act(sc, "mediator_senior", "approve-ruling", {}), 403, "authority_limit_exceeded"
    )
    assert body["limit"] == "mediator_authority"
    assert "1,000.00" in body["detail"] or "1000.00" in body["detail"]
    problem(act(sc, "mediator_senior", "reject-ruling", {}), 403, "authority_limit_exceeded")
    assert "approve-ruling" not in allowed(sc, "mediator_senior")
    assert "approve-ruling" in allowed(sc, "mediator_lead")
    ok(act(sc, "mediator_lead", "approve-ruling", {"note": "Agreed"}), "awaiting_fulfilment")


def test_ruling_within_authority_needs_no_approval() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    data = ok(
        act(
            sc,
            "mediator_agent",
            "rule",
            {"kind": "partial_refund", "amount": 10000, "rationale": "Fair"},
        ),
        "awaiting_fulfilment",
    )
    assert data["rulings"][-1]["status"] == "approved"
    assert data["agreement"]["amount"] == 10000


def test_only_the_holder_or_a_lead_rules_and_asks() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    rule = {"kind": "no_action", "rationale": "The listing was clear."}
    ask = {"party": "seller", "question": "Proof of postage?"}
    problem(act(sc, "mediator_senior", "rule", rule), 403, "forbidden")
    problem(act(sc, "mediator_senior", "request-info", ask), 403, "forbidden")
    problem(act(sc, "mediator_senior", "assign", {}), 403, "forbidden")  # only a lead reassigns
    data = ok(
        act(sc, "mediator_lead", "assign", {"mediator": sc["mediator_senior"].username}),
        "under_review",
    )
    assert data["assigned_to"] == sc["mediator_senior"].username
    ok(act(sc, "mediator_senior", "request-info", ask), "awaiting_info")
    problem(act(sc, "buyer", "provide-info", {"answer": "me?"}), 403, "forbidden")
    ok(act(sc, "agent", "provide-info", {"answer": "Attached."}), "under_review")
    data = ok(act(sc, "mediator_senior", "rule", rule), "closed")
    assert data["outcome"] == "ruled_for_seller"


# --- delivery ---------------------------------------------------------------------------------


def test_return_and_refund_has_two_legs() -> None:
    sc = dispute_in("awaiting_fulfilment", remedy="return_and_refund")
    refund = {**REFUND, "amount": 25000}
    problem(act(sc, "platform", "fulfil", refund), 422, "return_not_acknowledged")
    problem(act(sc, "owner", "fulfil", refund), 422, "return_not_acknowledged")
    problem(act(sc, "owner", "acknowledge-return", {}), 409, "invalid_transition")

    data = ok(
        act(
            sc,
            "buyer",
            "fulfil",
            {"kind": "return_shipment", "carrier": "USPS", "tracking_number": "94001"},
        ),
        "awaiting_fulfilment",
    )
    assert data["agreement"]["return_shipped"] is True
    for name in ("platform", "owner"):
        problem(act(sc, name, "fulfil", refund), 422, "return_not_acknowledged")
    assert "fulfil" not in allowed(sc, "platform")
    assert allowed(sc, "owner") >= {"acknowledge-return"}
    problem(act(sc, "buyer", "acknowledge-return", {}), 403, "forbidden")

    data = ok(act(sc, "agent", "acknowledge-return", {"note": "Got it"}), "awaiting_fulfilment")
    assert data["agreement"]["return_acknowledged"] is True
    assert "fulfil" in allowed(sc, "platform")
    data = ok(act(sc, "platform", "fulfil", refund), "closed")
    assert data["outcome"] == "agreement"
    sc.cast.order.refresh_from_db()
    assert sc.cast.order.refunded_total == 25000


def test_replacement_shipped_then_confirmed_closes() -> None:
    sc = dispute_in("awaiting_fulfilment", remedy="replacement")
    problem(act(sc, "buyer", "confirm-received", {}), 409, "invalid_transition")
    problem(
        act(sc, "owner", "fulfil", {"kind": "replacement_shipment", "carrier": "UPS"}),
        422,
        "unprocessable",
    )
    data = ok(
        act(
            sc,
            "owner",
            "fulfil",
            {"kind": "replacement_shipment", "carrier": "UPS", "tracking_number": "1Z1"},
        ),
        "awaiting_fulfilment",
    )
    assert data["agreement"]["replacement_shipped"] is True
    assert "confirm-received" in allowed(sc, "buyer")
    problem(act(sc, "owner", "confirm-received", {}), 403, "forbidden")
    data = ok(act(sc, "buyer", "confirm-received", {}), "closed")
    assert data["outcome"] == "agreement"
    sc.cast.order.refresh_from_db()
    assert sc.cast.order.refunded_total == 0


def test_refund_above_the_agreed_amount_is_refused() -> None:
    sc = dispute_in("awaiting_fulfilment", remedy="partial_refund", amount=3000)
    body = problem(
        act(sc, "platform", "fulfil", {**REFUND, "amount": 3001}), 422, "amount_exceeds_agreed"
    )
    assert body["remaining"] == 3000
    ok(act(sc, "platform", "fulfil", {**REFUND, "amount": 1000}), "awaiting_fulfilment")
    problem(act(sc, "owner", "fulfil", {**REFUND, "amount": 2001}), 422, "amount_exceeds_agreed")
    data = ok(act(sc, "owner", "fulfil", {**REFUND, "amount": 2000}), "closed")
    assert data["agreement"]["delivered_amount"] == 3000
    sc.cast.order.refresh_from_db()
    assert sc.cast.order.refunded_total == 3000


def test_refunds_never_exceed_total_plus_shipping() -> None:
    sc = dispute_in("awaiting_fulfilment", remedy="full_refund")  # 250.00 agreed
    # Meanwhile the marketplace refunded 100.00 of the order outside the dispute.
    Order.objects.filter(pk=sc.cast.order.pk).update(refunded_total=10000)
    problem(
        act(sc, "platform", "fulfil", {**REFUND, "amount": 25000}), 422, "amount_exceeds_refundable"
    )
    sc.cast.order.refresh_from_db()
    assert sc.cast.order.refunded_total == 10000
    ok(act(sc, "platform", "fulfil", {**REFUND, "amount": 15000}), "awaiting_fulfilment")
    problem(
        act(sc, "platform", "fulfil", {**REFUND, "amount": 1}), 422, "amount_exceeds_refundable"
    )
    sc.cast.order.refresh_from_db()
    assert sc.cast.order.refunded_total == sc.cast.order.total + sc.cast.order.shipping


def test_the_database_holds_the_refund_invariant_too() -> None:
    order = cast(Order, OrderFactory(total=1000, shipping=100))
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_total=F("total") + F("shipping") + 1)


# --- the system's deadlines ---------------------------------------------------------------------


DEADLINES = [
    pytest.param(
        "awaiting_seller",
        {},
        "escalated",
        {"escalation_reason": "seller_no_response"},
        id="awaiting_seller",
    ),
    pytest.param("awaiting_buyer", {}, "closed", {"outcome": "lapsed"}, id="awaiting_buyer"),
    pytest.param(
        "awaiting_info", {}, "under_review", {"info_requested_from": ""}, id="awaiting_info"
    ),
    pytest.param(
        "awaiting_fulfilment",
        {},
        "escalated",
        {"escalation_reason": "fulfilment_overdue"},
        id="awaiting_fulfilment",
    ),
]


def _apply(sc: Scenario, actor: Any) -> Dispute:
    return transitions.apply_deadline(dispute_id=sc.id, actor=actor).dispute


@pytest.mark.parametrize(("state", "options", "target", "fields"), DEADLINES)
def test_system_applies_the_deadline(
    state: str, options: dict[str, Any], target: str, fields: dict[str, str]
) -> None:
    sc = dispute_in(state, **options)
    due = sc.dispute.respond_by
    assert due is not None
    with pytest.raises(DomainError) as refused:
        _apply(sc, SYSTEM)
    assert (refused.value.status, refused.value.code) == (422, "deadline_not_reached")
    assert sc.refresh().state == state

    with travel(due + timedelta(seconds=1)):
        # Nobody but the system applies it, even when due.
        for name in ("buyer", "owner", "mediator_lead", "platform"):
            with pytest.raises(DomainError) as refused:
                _apply(sc, sc[name])
            assert (refused.value.status, refused.value.code) == (403, "forbidden")
        with pytest.raises(DomainError) as refused:
            _apply(sc, sc["other_buyer"])
        assert refused.value.status == 404
        dispute = _apply(sc, SYSTEM)
    assert dispute.state == target
    for name, value in fields.items():
        assert getattr(dispute, name) == value
    entry = AuditEntry.objects.filter(dispute=dispute).order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.actor_role, entry.from_state, entry.to_state) == (
        "deadline_passed",
        "system",
        state,
        target,
    )
    # Applying it again changes nothing.
    with pytest.raises(DomainError):
        _apply(sc, SYSTEM)
    assert AuditEntry.objects.filter(dispute=dispute).count() == entry.seq


def test_lapsed_offer_is_superseded() -> None:
    sc = dispute_in("awaiting_buyer", overdue=True)
    _apply(sc, SYSTEM)
    assert not Offer.objects.filter(dispute_id=sc.id, status="open").exists()


def test_cast_helpers_are_independent() -> None:
    """Two casts in one test do not collide (usernames, shops, orders)."""
    first, second = make_cast(), make_cast()
    assert isinstance(first, Cast) and first.buyer != second.buyer
    d = raise_dispute(second)
    assert d.order == second.order and d.shop == second.shop
