"""The rules the lifecycle's stages share: which remedies are money, the open offer and the
standing rulings of a dispute, the refundable remainder, and the small checks every guard
is made of (``require_state``, ``require_buyer``, ...). Each is written once here and
called by the guards and services of the stage modules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, prefetch_related_objects

from mediation.actors import Roles, human
from mediation.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RuleViolation,
)
from mediation.models import (
    TIER_RANK,
    Dispute,
    MediatorProfile,
    Message,
    Offer,
    OfferStatus,
    Party,
    Remedy,
    Ruling,
    RulingStatus,
    ShopMember,
    State,
    Tier,
)
from mediation.money import format_money
from mediation.selectors import rulings_prefetch
from workflows.base import (
    OPEN_OFFER_STATUSES,
    Context,
    enter,
    supersede_later,
)

S = State


# Remedies paid in money, bounded by the order's refundable remainder.
MONEY_REMEDIES = {
    Remedy.FULL_REFUND,
    Remedy.PARTIAL_REFUND,
    Remedy.RETURN_AND_REFUND,
    Remedy.STORE_CREDIT,
    Remedy.GOODWILL,
}

# Remedies delivered as a refund through the payment processor.
REFUND_REMEDIES = {
    Remedy.FULL_REFUND,
    Remedy.PARTIAL_REFUND,
    Remedy.RETURN_AND_REFUND,
    Remedy.GOODWILL,
}


def related(dispute: Dispute, name: str) -> list[Any]:
    """The dispute's offers or rulings, read once per instance through Django's prefetching:
    a relation the caller prefetched is used as it is, so a use case's guard and body share
    one read."""
    # Appeals read who ruled, and their tier.
    lookup: str | Prefetch = rulings_prefetch() if name == "rulings" else name
    prefetch_related_objects([dispute], lookup)
    return list(getattr(dispute, name).all())


def open_offer(dispute: Dispute) -> Offer | None:
    for offer in reversed(related(dispute, "offers")):
        if offer.side == Party.SELLER and offer.status == OfferStatus.OPEN:
            return offer
    return None


def pending_offer(dispute: Dispute) -> Offer | None:
    """An agent's offer waiting for the shop owner's approval."""
    for offer in reversed(related(dispute, "offers")):
        if offer.side == Party.SELLER and offer.status == OfferStatus.PENDING_APPROVAL:
            return offer
    return None


def pending_ruling(dispute: Dispute) -> Ruling | None:
    for ruling in reversed(related(dispute, "rulings")):
        if ruling.status == RulingStatus.PENDING_APPROVAL:
            return ruling
    return None


def deciding_ruling(dispute: Dispute) -> Ruling | None:
    for ruling in reversed(related(dispute, "rulings")):
        if ruling.status == RulingStatus.APPROVED:
            return ruling
    return None


def money(amount: int, dispute: Dispute) -> str:
    return format_money(amount, dispute.order.currency)


def require(condition: bool, error: DomainError) -> None:
    if not condition:
        raise error


def require_state(dispute: Dispute, *states: str) -> None:
    if dispute.state not in states:
        raise InvalidTransition(
            f"The dispute is {dispute.state}; this needs it to be {' or '.join(states)}.",
            state=dispute.state,
        )


def require_buyer(roles: Roles) -> None:
    require(roles.buyer, Forbidden("Only the buyer may do this."))


def require_seller(roles: Roles) -> None:
    require(roles.seller, Forbidden("Only a member of the shop may do this."))


def require_mediator(roles: Roles) -> None:
    require(roles.mediator is not None, Forbidden("Only a mediator may do this."))


def require_impartial(roles: Roles) -> None:
    """A mediator who is the dispute's buyer or a member of its shop takes no part in
    deciding it: no assignment, request, ruling or decision on a ruling."""
    require(
        not (roles.buyer or roles.seller),
        Forbidden(
            "You are a party to this dispute (its buyer or a member of its shop): another "
            "mediator must handle it.",
            code="conflict_of_interest",
        ),
    )


def is_party(user_id: int, dispute: Dispute) -> bool:
    """Whether the user ``user_id`` is the dispute's buyer or a member of its shop (for a
    mediator other than the caller, whose roles are already loaded)."""
    return (
        dispute.buyer_id == user_id
        or ShopMember.objects.filter(shop_id=dispute.shop_id, user_id=user_id).exists()
    )


def not_a_party(user_id: int) -> Q:
    """:func:`is_party` as a query: the disputes ``user_id`` is neither the buyer of nor a
    member of the shop of (the shops found by the member's user index)."""
    return ~Q(buyer_id=user_id) & ~Q(
        shop_id__in=ShopMember.objects.filter(user_id=user_id).values("shop_id")
    )


def within_tier(profile: MediatorProfile) -> Q:
    """:func:`tier_ok` as a query: no tier required, or one at most the mediator's."""
    tiers = [tier for tier in Tier if TIER_RANK[tier] <= profile.rank]
    return Q(required_tier="") | Q(required_tier__in=tiers)


def require_holder(dispute: Dispute, roles: Roles) -> None:
    """The mediator who holds the case, or a lead; never a party to it."""
    require_mediator(roles)
    assert roles.mediator is not None
    require_impartial(roles)
    if roles.mediator.tier != Tier.LEAD and dispute.assigned_to_id != roles.mediator.user_id:
        raise Forbidden("Only the mediator assigned to this dispute (or a lead) may do this.")


def check_amount(dispute: Dispute, kind: str, amount: int) -> None:
    if amount < 0:
        raise InvalidInput("Amounts are positive integers in minor units.", field="amount")
    # What this dispute already refunded (before an appeal) is part of a new remedy's amount.
    already = dispute.delivered_amount if dispute.agreed_kind in REFUND_REMEDIES else 0
    refundable = dispute.order.refundable + already
    if kind in MONEY_REMEDIES and kind != Remedy.GOODWILL and refundable <= 0:
        # An agreement on 0.00 would wait for a delivery no one can make.
        raise nothing_refundable(dispute)
    if kind in MONEY_REMEDIES and amount > refundable:
        raise RuleViolation(
            f"{money(amount, dispute)} is more than the "
            f"{money(refundable, dispute)} still refundable on this order.",
            code="amount_exceeds_refundable",
            refundable=refundable,
        )
    if kind == Remedy.PARTIAL_REFUND and amount == 0:
        raise RuleViolation("A partial refund needs an amount above zero.", field="amount")


def nothing_refundable(dispute: Dispute) -> RuleViolation:
    order = dispute.order
    return RuleViolation(
        f"Nothing is left to refund on this order: all of its "
        f"{money(order.total + order.shipping, dispute)} has been refunded already. A "
        "replacement can still be asked for.",
        code="nothing_refundable",
        refundable=0,
    )


def default_amount(dispute: Dispute, kind: str, amount: int | None) -> int:
    if amount is not None:
        return amount
    if kind in {Remedy.FULL_REFUND, Remedy.RETURN_AND_REFUND}:
        return dispute.order.refundable
    return 0


def remedy_value(dispute: Dispute, kind: str, amount: int) -> int:
    """What a remedy is worth against an authority limit (a shop member's offer limit, a
    mediator's authority): its amount for money; for a replacement, the order value of the
    items concerned (the dispute's items, or the whole order when it names none)."""
    if kind != Remedy.REPLACEMENT:
        return amount
    items = list(dispute.items.all()) if dispute.pk else []
    if items:
        return sum(item.quantity * item.unit_price for item in items)
    return int(dispute.order.total)


def nothing_to_deliver(kind: str, amount: int) -> bool:
    return kind == Remedy.NO_ACTION or (kind == Remedy.GOODWILL and amount == 0)


def agree(ctx: Context, *, kind: str, amount: int, funded_by: str, outcome: str) -> None:
    dispute = ctx.dispute
    dispute.agreed_kind = kind
    dispute.agreed_amount = amount
    dispute.funded_by = funded_by
    dispute.agreed_outcome = outcome
    dispute.info_requested_from = ""  # an agreement during the review ends any question
    # Money already delivered (before an appeal) counts towards the new remedy, and so does
    # a return already on its way back; a replacement ruled anew must be shipped anew.
    dispute.replacement_shipped = False


def refund_waits_for_the_return(dispute: Dispute) -> bool:
    """A return and refund is refunded once the shop has acknowledged the returned item."""
    return dispute.agreed_kind == Remedy.RETURN_AND_REFUND and not dispute.return_acknowledged


def refund_due(dispute: Dispute) -> int:
    """What is still to be refunded to the buyer now (0 while a return is on its way)."""
    d = dispute
    if d.state != S.AWAITING_FULFILMENT or d.agreed_kind not in REFUND_REMEDIES:
        return 0
    if refund_waits_for_the_return(d):
        return 0
    return max(d.agreed_amount - d.delivered_amount, 0)


def with_refund_due(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` of a step, with ``refund_due`` when the step (an agreement, a ruling, an
    acknowledged return) leaves a refund to pay: the entry's second event,
    ``dispute.refund_due``, tells the platform (which executes refunds) the amount, the
    currency, the order and who funds it, so that it never has to poll."""
    d = ctx.dispute
    amount = refund_due(d)
    if amount > 0:
        payload["refund_due"] = {
            "amount": amount,
            "currency": d.order.currency,
            "order": d.order.external_id,
            "funded_by": d.funded_by,
            "kind": d.agreed_kind,
        }
    return payload


def fulfilment_deadline(ctx: Context, days: int | None) -> datetime | None:
    return ctx.now + timedelta(days=days) if days else None


def close_if_nothing_to_deliver(ctx: Context) -> None:
    if ctx.dispute.state == S.CLOSED:
        ctx.dispute.outcome = ctx.dispute.agreed_outcome


def supersede_open_offers(dispute: Dispute, *, now: datetime, status: str) -> None:
    if getattr(dispute, "has_open_offers", None) is False:
        # The lock query saw none, and offers are only made under the same row lock.
        return
    if supersede_later(dispute, status=status, now=now):
        return  # a sweeper batch updates them with the rest of its writes
    Offer.objects.filter(dispute=dispute, status__in=OPEN_OFFER_STATUSES).update(
        status=status, decided_at=now
    )


def thread(ctx: Context, body: str) -> None:
    """Statements, questions and answers belong in the thread as well as the audit log."""
    if body:
        Message.objects.create(
            dispute=ctx.dispute, author=human(ctx.actor), author_role=ctx.roles.label(), body=body
        )


def deadline_passed(dispute: Dispute, now: datetime) -> bool:
    return dispute.respond_by is not None and dispute.respond_by <= now


def tier_ok(profile: MediatorProfile, dispute: Dispute) -> bool:
    return not dispute.required_tier or profile.rank >= TIER_RANK[Tier(dispute.required_tier)]


def all_delivered(d: Dispute) -> bool:
    return d.agreed_kind in MONEY_REMEDIES and d.delivered_amount >= d.agreed_amount


def complete_if_delivered(ctx: Context) -> None:
    """After a new ruling (an appeal), what was delivered before may already cover it."""
    d = ctx.dispute
    if all_delivered(d):
        d.complete()
        d.outcome = d.agreed_outcome
        enter(ctx)


def object_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such object.") from None
