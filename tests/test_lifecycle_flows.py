"""Longer stories through the services: appeals and deliveries that span rulings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from mediation.audit import verify
from mediation.errors import DomainError
from mediation.models import Order
from workflows import transitions as t


@pytest.fixture
def ruled(demo: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Alice's PP-1001 dispute, ruled 30.00 by mia (within her authority) and refunded."""
    order = Order.objects.get(external_id="PP-1001")
    d = t.raise_dispute(
        actor=demo["alice"],
        order_id=order.pk,
        reason="not_as_described",
        requested_outcome="partial_refund",
        requested_amount=12000,
        description="Half the flowers are a different colour.",
    ).dispute
    t.escalate(dispute_id=d.pk, actor=demo["petals_owner"], reason="seller_request")
    t.assign(dispute_id=d.pk, actor=demo["mia_agent"])
    result = t.rule(
        dispute_id=d.pk,
        actor=demo["mia_agent"],
        kind="partial_refund",
        amount=3000,
        rationale="Two of ten stems differ.",
    )
    assert not result.waiting_for_approval
    assert result.dispute.state == "awaiting_fulfilment"
    closed = t.fulfil(
        dispute_id=d.pk, actor=demo["storefront"], kind="refund", amount=3000, reference="re_1"
    ).dispute
    assert (closed.state, closed.outcome) == ("closed", "ruled_partial")
    return demo, d.pk


def _code(call: Any) -> str:
    with pytest.raises(DomainError) as info:
        call()
    return info.value.code


def test_appeal_goes_to_a_higher_tier_and_counts_what_was_paid(ruled: Any) -> None:
    demo, pk = ruled
    d = t.appeal(dispute_id=pk, actor=demo["alice"], reason="Half, not two stems.").dispute
    assert (d.state, d.required_tier, d.escalation_reason) == ("escalated", "senior", "appeal")
    assert _code(lambda: t.assign(dispute_id=pk, actor=demo["mia_agent"])) == "tier_too_low"
    t.assign(dispute_id=pk, actor=demo["sam_senior"])
    d = t.rule(
        dispute_id=pk,
        actor=demo["sam_senior"],
        kind="partial_refund",
        amount=8000,
        rationale="Photos show five stems differ.",
    ).dispute
    assert d.state == "awaiting_fulfilment" and d.delivered_amount == 3000
    over = lambda: t.fulfil(  # noqa: E731
        dispute_id=pk, actor=demo["storefront"], kind="refund", amount=5001, reference="re_2"
    )
    assert _code(over) == "amount_exceeds_agreed"
    d = t.fulfil(
        dispute_id=pk, actor=demo["storefront"], kind="refund", amount=5000, reference="re_2"
    ).dispute
    assert (d.state, d.outcome) == ("closed", "ruled_partial")
    assert Order.objects.get(pk=d.order_id).refunded_total == 8000
    second = lambda: t.appeal(dispute_id=pk, actor=demo["petals_owner"], reason="Too much.")  # noqa: E731
    assert _code(second) == "already_appealed"
    assert verify(d).verified


def test_a_lower_ruling_on_appeal_closes_at_once(ruled: Any) -> None:
    demo, pk = ruled
    t.appeal(dispute_id=pk, actor=demo["petals_owner"], reason="The colours match the listing.")
    t.assign(dispute_id=pk, actor=demo["lee_lead"])
    d = t.rule(
        dispute_id=pk,
        actor=demo["lee_lead"],
        kind="partial_refund",
        amount=2000,
        rationale="One stem differs; 20.00 is fair. 30.00 was paid already.",
    ).dispute
    assert d.state == "closed" and d.outcome == "ruled_partial"


def test_appeal_window_closes_after_ten_days(ruled: Any) -> None:
    demo, pk = ruled
    later = timezone.now() + timedelta(days=10, minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        code = _code(lambda: t.appeal(dispute_id=pk, actor=demo["alice"], reason="Late."))
    assert code == "deadline_passed"


def test_lead_ruling_has_no_higher_tier(demo: dict[str, Any]) -> None:
    order = Order.objects.get(external_id="PP-1003")
    d = t.raise_dispute(
        actor=demo["bob"],
        order_id=order.pk,
        reason="not_received",
        requested_outcome="full_refund",
        description="Nothing arrived.",
    ).dispute
    t.escalate(dispute_id=d.pk, actor=demo["petals_owner"], reason="seller_request")
    t.assign(dispute_id=d.pk, actor=demo["lee_lead"])
    t.rule(dispute_id=d.pk, actor=demo["lee_lead"], kind="no_action", rationale="Delivered.")
    code = _code(lambda: t.appeal(dispute_id=d.pk, actor=demo["bob"], reason="It did not."))
    assert code == "no_higher_tier"


def test_seller_deadline_takes_a_pending_agent_offer_along(demo: dict[str, Any]) -> None:
    order = Order.objects.get(external_id="PP-1004")
    d = t.raise_dispute(
        actor=demo["bob"],
        order_id=order.pk,
        reason="damaged_or_defective",
        requested_outcome="full_refund",
        description="The wreath is bent.",
    ).dispute
    offer = t.make_offer(
        dispute_id=d.pk, actor=demo["petals_agent"], kind="partial_refund", amount=6000
    ).created
    assert offer.status == "pending_approval"
    later = timezone.now() + timedelta(hours=25)
    with mock.patch("django.utils.timezone.now", return_value=later):
        d = t.apply_deadline(dispute_id=d.pk).dispute
    assert (d.state, d.escalation_reason) == ("escalated", "seller_no_response")
    offer.refresh_from_db()
    assert offer.status == "superseded"
    approve = lambda: t.approve_offer(  # noqa: E731
        dispute_id=d.pk, offer_id=offer.pk, actor=demo["petals_owner"]
    )
    assert _code(approve) == "invalid_transition"
