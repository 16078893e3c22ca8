"""Delivering the agreed or ruled remedy: refunds, replacements, the two legs of a return,
store credit, and the buyer's confirmation. Guards (``check_*``) and services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F

from mediation import rollups
from mediation.actors import Actor, Roles, human
from mediation.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
)
from mediation.models import (
    Dispute,
    EscalationReason,
    Evidence,
    Fulfilment,
    FulfilmentKind,
    Order,
    Remedy,
    ReturnResult,
    State,
)
from workflows.actions import action
from workflows.base import (
    Result,
    deadline_for,
    enter,
    locked_dispute,
)
from workflows.rules import (
    MONEY_REMEDIES,
    REFUND_REMEDIES,
    all_delivered,
    money,
    refund_waits_for_the_return,
    require,
    require_buyer,
    require_seller,
    require_state,
    with_refund_due,
)
from workflows.steps import Step

S = State


def _return_not_acknowledged() -> RuleViolation:
    return RuleViolation(
        "The shop has not acknowledged the returned item yet.", code="return_not_acknowledged"
    )


def _seller_can_fulfil(dispute: Dispute) -> bool:
    kind = dispute.agreed_kind
    remaining = dispute.agreed_amount - dispute.delivered_amount
    if kind == Remedy.REPLACEMENT:
        return not dispute.replacement_shipped
    if kind == Remedy.RETURN_AND_REFUND:
        return not dispute.return_shipped or (dispute.return_acknowledged and remaining > 0)
    return kind in MONEY_REMEDIES and remaining > 0


def check_fulfil(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_FULFILMENT)
    if roles.seller and _seller_can_fulfil(dispute):
        return
    refund_due = dispute.agreed_kind in REFUND_REMEDIES and (
        dispute.agreed_amount > dispute.delivered_amount
    )
    # A mediator records a refund the platform paid, as the platform's integration does.
    staff = roles.platform or roles.mediator is not None
    if staff and refund_due and not refund_waits_for_the_return(dispute):
        return
    if (
        roles.buyer
        and dispute.agreed_kind == Remedy.RETURN_AND_REFUND
        and not dispute.return_shipped
    ):
        return
    if (roles.seller or staff) and refund_due and refund_waits_for_the_return(dispute):
        raise _return_not_acknowledged()
    if roles.seller or staff or roles.buyer:
        raise InvalidTransition(
            "Nothing is yours to deliver at this point.", code="nothing_to_fulfil"
        )
    raise Forbidden("Only the parties, the platform or a mediator record fulfilments.")


def check_acknowledge_return(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_FULFILMENT)
    require_seller(roles)
    require(
        dispute.agreed_kind == Remedy.RETURN_AND_REFUND
        and dispute.return_shipped
        and not dispute.return_acknowledged,
        InvalidTransition("There is no returned item waiting for acknowledgement."),
    )


def check_confirm_received(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_FULFILMENT)
    require_buyer(roles)
    require(
        dispute.agreed_kind == Remedy.REPLACEMENT and dispute.replacement_shipped,
        InvalidTransition("Nothing has been shipped to you yet."),
    )


@action(
    "fulfil",
    summary="Record a delivered remedy",
    transition=Dispute.fulfil,
    guard=check_fulfil,
    steps={
        "fulfil": Step(
            "dispute.fulfilment_recorded",
            lambda w: f"{w.actor} recorded {w.kind} {w.money()}".strip(),
            notification="fulfilment_recorded",
        ),
    },
    description=(
        "Record a delivery: refund, replacement shipment, return label or shipment, store credit."
    ),
    console="Record fulfilment",
)
def fulfil(
    *,
    dispute_id: int,
    actor: Actor,
    kind: str,
    amount: int = 0,
    reference: str = "",
    carrier: str = "",
    tracking_number: str = "",
    expected_version: int | None = None,
) -> Result:
    """Record what was delivered: a refund, a replacement, a return leg or store credit."""
    if kind not in FulfilmentKind.values:
        raise InvalidInput(f"Unknown fulfilment kind {kind!r}.", field="kind")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_fulfil(d, ctx.roles, ctx.now)
        roles = ctx.roles
        agreed = d.agreed_kind
        remaining = d.agreed_amount - d.delivered_amount
        if kind in {FulfilmentKind.REFUND, FulfilmentKind.STORE_CREDIT}:
            expected = (
                FulfilmentKind.STORE_CREDIT
                if agreed == Remedy.STORE_CREDIT
                else FulfilmentKind.REFUND
            )
            require(
                kind == expected and agreed in MONEY_REMEDIES,
                RuleViolation(
                    f"The agreed remedy is {agreed}, not a {kind}.", code="fulfilment_mismatch"
                ),
            )
            if kind == FulfilmentKind.STORE_CREDIT:
                require_seller(roles)
            else:
                require(
                    roles.seller or roles.platform or roles.mediator is not None,
                    Forbidden("Refunds are recorded by the shop, the platform or a mediator."),
                )
            # The guard let the shop through to send a return label; a refund still waits.
            require(not refund_waits_for_the_return(d), _return_not_acknowledged())
            if amount <= 0:
                raise RuleViolation("Record the amount delivered, above zero.", field="amount")
            if not reference.strip():
                raise RuleViolation(
                    "Give the payment processor's refund id or the credit code.", field="reference"
                )
            if amount > remaining:
                raise RuleViolation(
                    f"{money(amount, d)} is more than the {money(remaining, d)} still to deliver.",
                    code="amount_exceeds_agreed",
                    remaining=remaining,
                )
            if kind == FulfilmentKind.REFUND:
                order = d.order
                updated = Order.objects.filter(
                    pk=order.pk, refunded_total__lte=F("total") + F("shipping") - amount
                ).update(refunded_total=F("refunded_total") + amount)
                if not updated:
                    raise RuleViolation(
                        f"{money(amount, d)} is more than is still refundable on this order.",
                        code="amount_exceeds_refundable",
                    )
                order.refunded_total += amount
            d.delivered_amount += amount
        elif kind == FulfilmentKind.REPLACEMENT_SHIPMENT:
            require_seller(roles)
            require(
                agreed == Remedy.REPLACEMENT,
                RuleViolation("No replacement was agreed.", code="fulfilment_mismatch"),
            )
            require(
                not d.replacement_shipped,
                InvalidTransition("The replacement is already on its way."),
            )
            _tracking(carrier, tracking_number)
            d.replacement_shipped = True
            ctx.changed = True
            d.respond_by = ctx.now + settings.MEDIATION_DELIVERY_WINDOW
        elif kind == FulfilmentKind.RETURN_LABEL:
            require_seller(roles)
            require(
                agreed == Remedy.RETURN_AND_REFUND,
                RuleViolation("No return was agreed.", code="fulfilment_mismatch"),
            )
            require(not d.return_shipped, InvalidTransition("The item is already on its way back."))
            require(
                bool(reference.strip() or tracking_number.strip()),
                RuleViolation("Give the label's reference or tracking number.", field="reference"),
            )
        else:  # return shipment, by the buyer
            require_buyer(roles)
            require(
                agreed == Remedy.RETURN_AND_REFUND,
                RuleViolation("No return was agreed.", code="fulfilment_mismatch"),
            )
            require(not d.return_shipped, InvalidTransition("The return is already recorded."))
            _tracking(carrier, tracking_number)
            d.return_shipped = True
            ctx.changed = True
            # The shop now has the fulfilment period to acknowledge and refund.
            d.respond_by = deadline_for(S.AWAITING_FULFILMENT, ctx.now, reason=d.reason)
        fulfilment = Fulfilment.objects.create(
            dispute=d,
            kind=kind,
            amount=amount if kind in {FulfilmentKind.REFUND, FulfilmentKind.STORE_CREDIT} else 0,
            reference=reference,
            carrier=carrier,
            tracking_number=tracking_number,
            recorded_by=human(actor),
        )
        if kind == FulfilmentKind.REFUND:
            rollups.refund_recorded(d, fulfilment.amount)
        ctx.changed = True
        d.fulfil(all_delivered=all_delivered(d))
        if d.state == S.CLOSED:
            d.outcome = d.agreed_outcome
            enter(ctx)
        ctx.record(
            "fulfil",
            {
                "fulfilment": fulfilment.pk,
                "kind": kind,
                "amount": fulfilment.amount,
                "reference": reference,
                "carrier": carrier,
                "tracking_number": tracking_number,
            },
        )
    return Result(ctx.dispute, created=fulfilment)


def _tracking(carrier: str, tracking_number: str) -> None:
    if not carrier.strip() or not tracking_number.strip():
        raise RuleViolation("Give the carrier and the tracking number.", field="tracking_number")


def _acknowledged(w: Any) -> str:
    result = w.payload.get("result") or ReturnResult.AS_EXPECTED
    if result == ReturnResult.AS_EXPECTED:
        return f"{w.actor} received the returned item"
    label = ReturnResult(result).label.lower()
    return f"{w.actor} reported the returned item: {label}; the platform will review it"


@action(
    "acknowledge-return",
    summary="Acknowledge a returned item",
    transition=Dispute.acknowledge_return,
    guard=check_acknowledge_return,
    steps={
        "acknowledge_return": Step(
            "dispute.return_acknowledged",
            _acknowledged,
            notification="return_acknowledged",
        ),
    },
    description=(
        "The shop says what the returned item was like: as expected (the refund may then be "
        "recorded), or damaged, empty or a different item, missing parts, or not received, "
        "which escalates the dispute at once (reason return_disputed); with a note and the "
        "shop's evidence."
    ),
)
def acknowledge_return(
    *,
    dispute_id: int,
    actor: Actor,
    result: str = ReturnResult.AS_EXPECTED,
    note: str = "",
    evidence: list[int] | None = None,
    expected_version: int | None = None,
) -> Result:
    if result not in ReturnResult.values:
        raise InvalidInput(f"Unknown result {result!r}.", field="result")
    as_expected = result == ReturnResult.AS_EXPECTED
    if not as_expected and not note.strip():
        raise RuleViolation(
            "Say what was wrong with the returned item, for the mediator.", field="note"
        )
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_acknowledge_return(d, ctx.roles, ctx.now)
        evidence_ids = _own_evidence(d, actor, evidence or [])
        d.return_result = result
        d.acknowledge_return(as_expected=as_expected)
        if as_expected:
            d.return_acknowledged = True
            d.respond_by = deadline_for(S.AWAITING_FULFILMENT, ctx.now, reason=d.reason)
            ctx.changed = True
        else:
            # The refund waits for the mediator, who sees what the shop found.
            d.escalation_reason = EscalationReason.RETURN_DISPUTED
            enter(ctx)
        ctx.record(
            "acknowledge_return",
            with_refund_due(ctx, {"result": result, "note": note, "evidence": evidence_ids}),
        )
    return Result(ctx.dispute)


def _own_evidence(d: Dispute, actor: Actor, ids: list[int]) -> list[int]:
    """The evidence ids a party cites: items on this dispute it uploaded and still shows."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return []
    found = set(
        Evidence.objects.filter(
            dispute=d, pk__in=wanted, uploaded_by_id=actor.pk, withdrawn=False
        ).values_list("pk", flat=True)
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise RuleViolation(
            f"No evidence of yours on this dispute with the id {missing[0]}.", field="evidence"
        )
    return wanted


@action(
    "confirm-received",
    summary="Confirm a replacement arrived",
    transition=Dispute.confirm_received,
    guard=check_confirm_received,
    steps={
        "confirm_received": Step(
            "dispute.receipt_confirmed", lambda w: f"{w.actor} confirmed the replacement arrived"
        ),
    },
    description="The buyer confirms the replacement arrived; the dispute closes.",
)
def confirm_received(
    *, dispute_id: int, actor: Actor, expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_confirm_received(d, ctx.roles, ctx.now)
        d.confirm_received()
        d.outcome = d.agreed_outcome
        enter(ctx)
        ctx.record("confirm_received", {})
    return Result(ctx.dispute)
