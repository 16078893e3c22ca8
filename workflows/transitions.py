"""Every transition of the dispute state machine (DESIGN §4) as a service.

Each public function takes keyword arguments and an explicit ``actor`` (a user or
``mediation.actors.SYSTEM``), runs in one transaction (lock, guards, transition, audit,
save) and returns a :class:`workflows.base.Result`. Guards that do not depend on the
request body live in ``check_*`` functions, registered in :data:`CHECKS`; the same
functions compute ``allowed_actions``, so the API never offers what would be refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from mediation.actors import SYSTEM, Roles, mediator_profile, roles_for
from mediation.errors import (
    AuthorityLimitExceeded,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RuleViolation,
)
from mediation.models import (
    PARTY_REMEDIES,
    TIER_RANK,
    Dispute,
    EscalationReason,
    Fulfilment,
    FulfilmentKind,
    Funder,
    MediatorProfile,
    Message,
    Offer,
    OfferStatus,
    Order,
    OrderItem,
    Outcome,
    Party,
    Reason,
    Remedy,
    Ruling,
    RulingStatus,
    ShopPolicy,
    State,
    Tier,
)
from mediation.money import format_money
from mediation.selectors import orders_for
from workflows import events
from workflows.base import (
    OPEN_OFFER_STATUSES,
    Context,
    Result,
    deadline_for,
    enter,
    locked_dispute,
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


# --- Helpers ------------------------------------------------------------------------------


def _related(dispute: Dispute, name: str) -> list[Any]:
    """Use a prefetched relation when the caller loaded one, else query it once and keep
    it on the instance like a prefetch, so a use case's guard and body share one read."""
    cache = dispute.__dict__.setdefault("_prefetched_objects_cache", {})
    if name not in cache:
        qs = getattr(dispute, name).all()
        if name == "rulings":  # appeals read who ruled, and their tier
            qs = qs.select_related("proposer__mediator_profile", "approver__mediator_profile")
        list(qs)  # fills the queryset's cache
        cache[name] = qs
    return list(cache[name])


def open_offer(dispute: Dispute) -> Offer | None:
    for offer in reversed(_related(dispute, "offers")):
        if offer.side == Party.SELLER and offer.status == OfferStatus.OPEN:
            return offer
    return None


def pending_ruling(dispute: Dispute) -> Ruling | None:
    for ruling in reversed(_related(dispute, "rulings")):
        if ruling.status == RulingStatus.PENDING_APPROVAL:
            return ruling
    return None


def deciding_ruling(dispute: Dispute) -> Ruling | None:
    for ruling in reversed(_related(dispute, "rulings")):
        if ruling.status == RulingStatus.APPROVED:
            return ruling
    return None


def _money(amount: int, dispute: Dispute) -> str:
    return format_money(amount, dispute.order.currency)


def _require(condition: bool, error: DomainError) -> None:
    if not condition:
        raise error


def _state(dispute: Dispute, *states: str) -> None:
    if dispute.state not in states:
        raise InvalidTransition(
            f"The dispute is {dispute.state}; this needs it to be {' or '.join(states)}.",
            state=dispute.state,
        )


def _buyer(roles: Roles) -> None:
    _require(roles.buyer, Forbidden("Only the buyer may do this."))


def _seller(roles: Roles) -> None:
    _require(roles.seller, Forbidden("Only a member of the shop may do this."))


def _mediator(roles: Roles) -> None:
    _require(roles.mediator is not None, Forbidden("Only a mediator may do this."))


def _holder(dispute: Dispute, roles: Roles) -> None:
    """The mediator who holds the case, or a lead."""
    _mediator(roles)
    assert roles.mediator is not None
    if roles.mediator.tier != Tier.LEAD and dispute.assigned_to_id != roles.mediator.user_id:
        raise Forbidden("Only the mediator assigned to this dispute (or a lead) may do this.")


def _check_amount(dispute: Dispute, kind: str, amount: int) -> None:
    if amount < 0:
        raise InvalidInput("Amounts are positive integers in minor units.", field="amount")
    # What this dispute already refunded (before an appeal) is part of a new remedy's amount.
    already = dispute.delivered_amount if dispute.agreed_kind in REFUND_REMEDIES else 0
    refundable = dispute.order.refundable + already
    if kind in MONEY_REMEDIES and amount > refundable:
        raise RuleViolation(
            f"{_money(amount, dispute)} is more than the "
            f"{_money(refundable, dispute)} still refundable on this order.",
            code="amount_exceeds_refundable",
            refundable=refundable,
        )
    if kind == Remedy.PARTIAL_REFUND and amount == 0:
        raise InvalidInput("A partial refund needs an amount above zero.", field="amount")


def _default_amount(dispute: Dispute, kind: str, amount: int | None) -> int:
    if amount is not None:
        return amount
    if kind in {Remedy.FULL_REFUND, Remedy.RETURN_AND_REFUND}:
        return dispute.order.refundable
    return 0


def _nothing_to_deliver(kind: str, amount: int) -> bool:
    return kind == Remedy.NO_ACTION or (kind == Remedy.GOODWILL and amount == 0)


def _agree(ctx: Context, *, kind: str, amount: int, funded_by: str, outcome: str) -> None:
    dispute = ctx.dispute
    dispute.agreed_kind = kind
    dispute.agreed_amount = amount
    dispute.funded_by = funded_by
    dispute.agreed_outcome = outcome
    # Money already delivered (before an appeal) counts towards the new remedy, and so does
    # a return already on its way back; a replacement ruled anew must be shipped anew.
    dispute.replacement_shipped = False


def _fulfilment_deadline(ctx: Context, days: int | None) -> datetime | None:
    return ctx.now + timedelta(days=days) if days else None


def _close_if_nothing_to_deliver(ctx: Context) -> None:
    if ctx.dispute.state == S.CLOSED:
        ctx.dispute.outcome = ctx.dispute.agreed_outcome


def _supersede_open_offers(dispute: Dispute, *, now: datetime, status: str) -> None:
    if getattr(dispute, "_open_offers", None) is False:
        # The lock query saw none, and offers are only made under the same row lock.
        return
    if supersede_later(dispute, status=status, now=now):
        return  # a sweeper batch updates them with the rest of its writes
    Offer.objects.filter(dispute=dispute, status__in=OPEN_OFFER_STATUSES).update(
        status=status, decided_at=now
    )


def _thread(ctx: Context, body: str) -> None:
    """Statements, questions and answers belong in the thread as well as the audit log."""
    if body:
        Message.objects.create(
            dispute=ctx.dispute, author=ctx.actor, author_role=ctx.roles.label(), body=body
        )


# --- Guards shared by the services and allowed_actions -------------------------------------


def check_accept_request(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_SELLER)
    _seller(roles)
    assert roles.member is not None
    limit = roles.member.limit_for(dispute.order.currency)
    if limit is not None and dispute.requested_amount > limit:
        raise AuthorityLimitExceeded(
            f"The request is {_money(dispute.requested_amount, dispute)}, above your offer limit "
            f"of {_money(limit, dispute)}; the shop owner must accept it.",
            limit="shop_offer_limit",
            limit_amount=limit,
        )
    if dispute.requested_outcome in MONEY_REMEDIES:
        _check_amount(dispute, dispute.requested_outcome, dispute.requested_amount)


def check_answer(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_SELLER)
    _seller(roles)


def check_accept_offer(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_BUYER)
    _buyer(roles)
    _require(
        open_offer(dispute) is not None,
        InvalidTransition("There is no open offer to accept.", code="no_open_offer"),
    )


def check_counter(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_BUYER)
    _buyer(roles)
    limit = settings.MEDIATION_MAX_COUNTER_ROUNDS
    if dispute.counter_rounds >= limit:
        raise RuleViolation(
            f"This dispute has had its {limit} rounds of counter-offers; accept, escalate "
            "or withdraw.",
            code="counter_limit_reached",
        )


def _deadline_passed(dispute: Dispute, now: datetime) -> bool:
    return dispute.respond_by is not None and dispute.respond_by <= now


def check_escalate(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_SELLER, S.AWAITING_BUYER, S.AWAITING_FULFILMENT)
    _require(roles.buyer or roles.seller, Forbidden("Only the buyer or the shop may escalate."))
    if dispute.state == S.AWAITING_SELLER and roles.buyer and not roles.seller:
        _require(
            _deadline_passed(dispute, now),
            RuleViolation(
                "The shop still has until its deadline to answer; you can escalate after it.",
                code="deadline_not_reached",
                respond_by=dispute.respond_by,
            ),
        )
    if dispute.state == S.AWAITING_FULFILMENT:
        _require(
            _deadline_passed(dispute, now),
            RuleViolation(
                "The remedy is not overdue yet; you can escalate once its deadline passes.",
                code="deadline_not_reached",
                respond_by=dispute.respond_by,
            ),
        )


def check_withdraw(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(
        dispute,
        S.AWAITING_SELLER,
        S.AWAITING_BUYER,
        S.ESCALATED,
        S.UNDER_REVIEW,
        S.AWAITING_INFO,
        S.AWAITING_FULFILMENT,
    )
    _buyer(roles)
    _require(
        dispute.ruled_at is None,
        InvalidTransition("A ruling has been made; it can be appealed, not withdrawn."),
    )


def _tier_ok(profile: MediatorProfile, dispute: Dispute) -> bool:
    return not dispute.required_tier or profile.rank >= TIER_RANK[Tier(dispute.required_tier)]


def check_assign(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.ESCALATED, S.UNDER_REVIEW, S.AWAITING_INFO)
    _mediator(roles)
    assert roles.mediator is not None
    is_lead = roles.mediator.tier == Tier.LEAD
    if dispute.state != S.ESCALATED:
        _require(is_lead, Forbidden("Only a lead mediator may reassign a case under review."))
    elif not is_lead:
        _require(
            _tier_ok(roles.mediator, dispute),
            Forbidden(
                f"This appeal must be heard by a {dispute.required_tier} or higher.",
                code="tier_too_low",
            ),
        )


def check_request_info(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.UNDER_REVIEW)
    _holder(dispute, roles)


def check_provide_info(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_INFO)
    asked = dispute.info_requested_from
    _require(
        (asked == Party.BUYER and roles.buyer) or (asked == Party.SELLER and roles.seller),
        Forbidden(f"The mediator asked the {asked}, not you."),
    )


def check_rule(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.UNDER_REVIEW)
    _holder(dispute, roles)


def check_decide_ruling(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.PENDING_APPROVAL)
    _mediator(roles)
    assert roles.mediator is not None
    ruling = pending_ruling(dispute)
    if ruling is None:  # pragma: no cover - the state implies one
        raise InvalidTransition("No ruling waits for approval.")
    _require(
        ruling.proposer_id != roles.mediator.user_id,
        Forbidden(
            "A ruling is approved by a second mediator, never its proposer.", code="four_eyes"
        ),
    )
    _require(
        roles.mediator.covers(ruling.amount, dispute.order.currency),
        AuthorityLimitExceeded(
            f"The ruling of {_money(ruling.amount, dispute)} is beyond your authority of "
            f"{_money(roles.mediator.authority_for(dispute.order.currency) or 0, dispute)}.",
            limit="mediator_authority",
        ),
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
    _state(dispute, S.AWAITING_FULFILMENT)
    if roles.seller and _seller_can_fulfil(dispute):
        return
    refund_due = dispute.agreed_kind in REFUND_REMEDIES and (
        dispute.agreed_amount > dispute.delivered_amount
    )
    # A mediator records a refund the platform paid, as the platform's integration does.
    staff = roles.platform or roles.mediator is not None
    if (
        staff
        and refund_due
        and (dispute.agreed_kind != Remedy.RETURN_AND_REFUND or dispute.return_acknowledged)
    ):
        return
    if (
        roles.buyer
        and dispute.agreed_kind == Remedy.RETURN_AND_REFUND
        and not dispute.return_shipped
    ):
        return
    if (
        (roles.seller or staff)
        and refund_due
        and dispute.agreed_kind == Remedy.RETURN_AND_REFUND
        and not dispute.return_acknowledged
    ):
        raise RuleViolation(
            "The shop has not acknowledged the returned item yet.",
            code="return_not_acknowledged",
        )
    if roles.seller or staff or roles.buyer:
        raise InvalidTransition(
            "Nothing is yours to deliver at this point.", code="nothing_to_fulfil"
        )
    raise Forbidden("Only the parties, the platform or a mediator record fulfilments.")


def check_acknowledge_return(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_FULFILMENT)
    _seller(roles)
    _require(
        dispute.agreed_kind == Remedy.RETURN_AND_REFUND
        and dispute.return_shipped
        and not dispute.return_acknowledged,
        InvalidTransition("There is no returned item waiting for acknowledgement."),
    )


def check_confirm_received(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_FULFILMENT)
    _buyer(roles)
    _require(
        dispute.agreed_kind == Remedy.REPLACEMENT and dispute.replacement_shipped,
        InvalidTransition("Nothing has been shipped to you yet."),
    )


def check_appeal(dispute: Dispute, roles: Roles, now: datetime) -> None:
    _state(dispute, S.AWAITING_FULFILMENT, S.CLOSED)
    _require(roles.buyer or roles.seller, Forbidden("Only the buyer or the shop may appeal."))
    ruling = deciding_ruling(dispute) if dispute.ruled_at else None
    _require(ruling is not None, InvalidTransition("There is no ruling to appeal."))
    _require(
        not dispute.appealed,
        RuleViolation("A ruling can be appealed once.", code="already_appealed"),
    )
    if dispute.state == S.CLOSED:
        _require(
            not _other_open_dispute(dispute),
            Conflict(
                "Another dispute is open on this order; the appeal can follow once it closes.",
                code="dispute_already_open",
            ),
        )
    assert dispute.ruled_at is not None
    _require(
        now <= dispute.ruled_at + settings.MEDIATION_APPEAL_WINDOW,
        RuleViolation(
            f"The {settings.MEDIATION_APPEAL_WINDOW.days}-day window to appeal has passed.",
            code="deadline_passed",
        ),
    )
    _require(
        _appeal_tier(dispute) is not None,
        RuleViolation("A lead mediator ruled; there is no higher tier.", code="no_higher_tier"),
    )


def _other_open_dispute(dispute: Dispute) -> bool:
    """Another open dispute on the same order (annotated by the selectors, else queried)."""
    known = getattr(dispute, "_other_open", None)
    if known is not None:
        return bool(known)
    others = Dispute.objects.filter(order_id=dispute.order_id).exclude(pk=dispute.pk)
    return others.exclude(state=S.CLOSED).exists()


def _appeal_tier(dispute: Dispute) -> str | None:
    """The tier above the highest of the mediators who made the standing ruling."""
    ruling = deciding_ruling(dispute)
    if ruling is None:
        return None
    ranks = []
    for user in (ruling.proposer, ruling.approver):
        profile = mediator_profile(user) if user is not None else None
        if profile is not None:
            ranks.append(profile.rank)
    rank = max(ranks, default=TIER_RANK[Tier.AGENT])
    for tier, tier_rank in TIER_RANK.items():
        if tier_rank == rank + 1:
            return tier
    return None


# Action name (as in the API and allowed_actions) -> its body-independent guard.
CHECKS: dict[str, Callable[[Dispute, Roles, datetime], None]] = {
    "accept-request": check_accept_request,
    "offer": check_answer,
    "contest": check_answer,
    "accept-offer": check_accept_offer,
    "counter": check_counter,
    "escalate": check_escalate,
    "withdraw": check_withdraw,
    "assign": check_assign,
    "request-info": check_request_info,
    "provide-info": check_provide_info,
    "rule": check_rule,
    "approve-ruling": check_decide_ruling,
    "reject-ruling": check_decide_ruling,
    "fulfil": check_fulfil,
    "acknowledge-return": check_acknowledge_return,
    "confirm-received": check_confirm_received,
    "appeal": check_appeal,
}


def allowed_actions(dispute: Dispute, actor: Any, *, now: datetime | None = None) -> list[str]:
    roles = roles_for(actor, dispute)
    now = now or timezone.now()
    allowed = []
    for name, check in CHECKS.items():
        try:
            check(dispute, roles, now)
        except DomainError:
            continue
        allowed.append(name)
    return allowed


# --- raise --------------------------------------------------------------------------------


def raise_dispute(
    *,
    actor: Any,
    order_id: int,
    reason: str,
    requested_outcome: str,
    description: str,
    requested_amount: int | None = None,
    item_ids: list[int] | None = None,
) -> Result:
    """The buyer opens a dispute on their order (DESIGN §4 ``raise``)."""
    if reason not in Reason.values:
        raise InvalidInput(f"Unknown reason {reason!r}.", field="reason")
    if requested_outcome not in PARTY_REMEDIES:
        raise InvalidInput(f"Unknown outcome {requested_outcome!r}.", field="requested_outcome")
    now = timezone.now()
    with transaction.atomic():
        order = (
            orders_for(actor).select_for_update(of=("self",)).filter(pk=order_id).first()
            if getattr(actor, "is_authenticated", False)
            else None
        )
        if order is None or order.buyer_id != actor.pk:
            raise NotFound("You have no order with this id.", code="not_found")
        window = settings.MEDIATION_DISPUTE_WINDOW
        if now > order.placed_at + window:
            raise RuleViolation(
                f"Orders can be disputed for {window.days} days after they are placed; this one "
                f"was placed on {order.placed_at:%Y-%m-%d}.",
                code="deadline_passed",
            )
        if Dispute.objects.filter(order=order).exclude(state=S.CLOSED).exists():
            raise Conflict("This order already has an open dispute.", code="dispute_already_open")
        items = []
        if item_ids:
            items = list(OrderItem.objects.filter(order=order, pk__in=item_ids))
            if len(items) != len(set(item_ids)):
                raise InvalidInput("Some items are not part of this order.", field="items")
        policy = (
            ShopPolicy.objects.filter(shop_id=order.shop_id, effective_from__lte=order.placed_at)
            .order_by("-version")
            .first()
        )
        dispute = Dispute(
            order=order,
            buyer_id=order.buyer_id,
            shop_id=order.shop_id,
            reason=reason,
            requested_outcome=requested_outcome,
            description=description,
            policy_version=policy,
        )
        dispute.requested_amount = _default_amount(dispute, requested_outcome, requested_amount)
        _check_amount(dispute, requested_outcome, dispute.requested_amount)
        dispute.respond_by = deadline_for(S.AWAITING_SELLER, now, reason=reason)
        try:
            with transaction.atomic():
                dispute.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                "This order already has an open dispute.", code="dispute_already_open"
            ) from None
        if items:
            dispute.items.set(items)
        roles = Roles(buyer=True)
        ctx = Context(dispute=dispute, actor=actor, roles=roles, now=now, from_state="")
        ctx.record(
            "raise",
            {
                "order": order.external_id,
                "reason": reason,
                "requested_outcome": requested_outcome,
                "requested_amount": dispute.requested_amount,
                "currency": order.currency,
                "description": description,
                "items": [i.pk for i in items],
                "policy_version": policy.version if policy else None,
            },
        )
        dispute.save(update_fields=["audit_seq", "audit_head"])
        events.emit(ctx.audit_entries)
    return Result(dispute)


# --- Seller answers -----------------------------------------------------------------------


def accept_request(
    *, dispute_id: Any, actor: Any, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_accept_request(d, ctx.roles, ctx.now)
        Offer.objects.filter(dispute=d, side=Party.BUYER, status=OfferStatus.OPEN).update(
            status=OfferStatus.ACCEPTED, decided_at=ctx.now
        )
        _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        _agree(
            ctx,
            kind=d.requested_outcome,
            amount=d.requested_amount,
            funded_by=Funder.SELLER,
            outcome=Outcome.AGREEMENT,
        )
        d.accept_request(
            nothing_to_deliver=_nothing_to_deliver(d.requested_outcome, d.requested_amount)
        )
        enter(ctx)
        _close_if_nothing_to_deliver(ctx)
        ctx.record(
            "accept_request",
            {"kind": d.requested_outcome, "amount": d.requested_amount, "note": note},
        )
    return Result(ctx.dispute)


def make_offer(
    *,
    dispute_id: Any,
    actor: Any,
    kind: str,
    amount: int | None = None,
    note: str = "",
    fulfilment_days: int | None = None,
    expected_version: int | None = None,
) -> Result:
    """The seller proposes a remedy. An agent's offer above their limit waits for the owner."""
    if kind not in PARTY_REMEDIES:
        raise InvalidInput(f"Unknown remedy {kind!r}.", field="kind")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_answer(d, ctx.roles, ctx.now)
        amount = _default_amount(d, kind, amount)
        _check_amount(d, kind, amount)
        assert ctx.roles.member is not None
        limit = ctx.roles.member.limit_for(d.order.currency)
        needs_owner = limit is not None and amount > limit
        _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        offer = Offer.objects.create(
            dispute=d,
            side=Party.SELLER,
            author=actor,
            kind=kind,
            amount=amount,
            note=note,
            fulfilment_days=fulfilment_days,
            status=OfferStatus.PENDING_APPROVAL if needs_owner else OfferStatus.OPEN,
        )
        payload = {"offer": offer.pk, "kind": kind, "amount": amount, "note": note}
        if needs_owner:
            assert limit is not None
            payload["limit"] = limit
            ctx.record("offer_pending_approval", payload)
            ctx.changed = True
        else:
            d.offer()
            enter(ctx)
            ctx.record("offer", payload)
    return Result(ctx.dispute, waiting_for_approval=needs_owner, created=offer)


def approve_offer(
    *,
    dispute_id: Any,
    offer_id: Any,
    actor: Any,
    note: str = "",
    expected_version: int | None = None,
) -> Result:
    """The shop owner approves an agent's offer above the agent's limit; it goes to the buyer."""
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        _require(
            ctx.roles.owner,
            Forbidden("Only the shop owner approves offers above an agent's limit."),
        )
        offer = Offer.objects.filter(dispute=d, pk=_int(offer_id)).first()
        if offer is None:
            raise NotFound("No such offer on this dispute.")
        _require(
            offer.status == OfferStatus.PENDING_APPROVAL,
            InvalidTransition(f"The offer is {offer.status}, not waiting for approval."),
        )
        _state(d, S.AWAITING_SELLER)
        _check_amount(d, offer.kind, offer.amount)
        offer.status = OfferStatus.OPEN
        offer.approved_by = actor
        offer.save(update_fields=["status", "approved_by"])
        d.approve_offer()
        enter(ctx)
        ctx.record(
            "offer_approved",
            {"offer": offer.pk, "kind": offer.kind, "amount": offer.amount, "note": note},
        )
    return Result(ctx.dispute, created=offer)


def contest(
    *, dispute_id: Any, actor: Any, statement: str, expected_version: int | None = None
) -> Result:
    """The seller disagrees, with a statement: the customer is not always right."""
    if not statement.strip():
        raise InvalidInput("A contest needs a statement.", field="statement")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_answer(d, ctx.roles, ctx.now)
        _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        d.contest()
        enter(ctx)
        _thread(ctx, statement)
        ctx.record("contest", {"statement": statement})
    return Result(ctx.dispute)


# --- Buyer answers ------------------------------------------------------------------------


def accept_offer(
    *, dispute_id: Any, actor: Any, offer_id: Any = None, expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_accept_offer(d, ctx.roles, ctx.now)
        offer = open_offer(d)
        assert offer is not None
        if offer_id is not None and _int(offer_id) != offer.pk:
            raise InvalidTransition("That offer is not the open one.", code="offer_not_open")
        _check_amount(d, offer.kind, offer.amount)
        offer.status = OfferStatus.ACCEPTED
        offer.decided_at = ctx.now
        offer.save(update_fields=["status", "decided_at"])
        _agree(
            ctx,
            kind=offer.kind,
            amount=offer.amount,
            funded_by=Funder.SELLER,
            outcome=Outcome.AGREEMENT,
        )
        d.accept_offer(nothing_to_deliver=_nothing_to_deliver(offer.kind, offer.amount))
        enter(ctx, respond_by=_fulfilment_deadline(ctx, offer.fulfilment_days))
        _close_if_nothing_to_deliver(ctx)
        ctx.record("accept_offer", {"offer": offer.pk, "kind": offer.kind, "amount": offer.amount})
    return Result(ctx.dispute)


def counter(
    *,
    dispute_id: Any,
    actor: Any,
    requested_outcome: str,
    requested_amount: int | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Result:
    if requested_outcome not in PARTY_REMEDIES:
        raise InvalidInput(f"Unknown outcome {requested_outcome!r}.", field="requested_outcome")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_counter(d, ctx.roles, ctx.now)
        amount = _default_amount(d, requested_outcome, requested_amount)
        _check_amount(d, requested_outcome, amount)
        _supersede_open_offers(d, now=ctx.now, status=OfferStatus.REJECTED)
        offer = Offer.objects.create(
            dispute=d,
            side=Party.BUYER,
            author=actor,
            kind=requested_outcome,
            amount=amount,
            note=note,
        )
        d.requested_outcome = requested_outcome
        d.requested_amount = amount
        d.counter_rounds += 1
        d.counter()
        enter(ctx)
        ctx.record(
            "counter",
            {
                "offer": offer.pk,
                "requested_outcome": requested_outcome,
                "requested_amount": amount,
                "note": note,
                "round": d.counter_rounds,
            },
        )
    return Result(ctx.dispute, created=offer)


def escalate(
    *,
    dispute_id: Any,
    actor: Any,
    reason: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_escalate(d, ctx.roles, ctx.now)
        default = (
            EscalationReason.BUYER_REQUEST if ctx.roles.buyer else EscalationReason.SELLER_REQUEST
        )
        reason = reason or default
        allowed = {default, EscalationReason.ABUSIVE_CONDUCT}
        if reason not in allowed:
            raise InvalidInput(
                f"Escalate with reason {' or '.join(sorted(allowed))}.", field="reason"
            )
        _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        d.escalate()
        d.escalation_reason = reason
        enter(ctx)
        ctx.record("escalate", {"reason": reason, "note": note})
    return Result(ctx.dispute)


def withdraw(
    *, dispute_id: Any, actor: Any, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_withdraw(d, ctx.roles, ctx.now)
        _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        d.withdraw()
        d.outcome = Outcome.WITHDRAWN
        enter(ctx)
        ctx.record("withdraw", {"note": note})
    return Result(ctx.dispute)


# --- Mediation ----------------------------------------------------------------------------


def assign(
    *, dispute_id: Any, actor: Any, mediator: Any = None, expected_version: int | None = None
) -> Result:
    """A mediator takes the case from the queue, or a lead gives it to another mediator."""
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_assign(d, ctx.roles, ctx.now)
        assert ctx.roles.mediator is not None
        assignee = ctx.roles.mediator
        if mediator not in (None, ""):
            found = (
                MediatorProfile.objects.select_related("user")
                .filter(active=True)
                .filter(
                    **(
                        {"user_id": mediator}
                        if isinstance(mediator, int)
                        else {"user__username": mediator}
                    )
                )
                .first()
            )
            if found is None:
                raise InvalidInput(f"No active mediator {mediator!r}.", field="mediator")
            if found.user_id != actor.pk and ctx.roles.mediator.tier != Tier.LEAD:
                raise Forbidden("Only a lead mediator assigns cases to others.")
            assignee = found
        if not _tier_ok(assignee, d):
            raise Forbidden(
                f"This appeal must be heard by a {d.required_tier} or higher.", code="tier_too_low"
            )
        previous = d.assigned_to.get_username() if d.assigned_to else None
        was = d.state
        d.assign()
        d.assigned_to = assignee.user
        if was == S.ESCALATED:
            enter(ctx)
        else:
            ctx.changed = True
        ctx.record("assign", {"mediator": assignee.user.get_username(), "previous": previous})
    return Result(ctx.dispute)


def request_info(
    *,
    dispute_id: Any,
    actor: Any,
    party: str,
    question: str,
    respond_by: datetime | None = None,
    expected_version: int | None = None,
) -> Result:
    if party not in Party.values:
        raise InvalidInput("Ask the buyer or the seller.", field="party")
    if not question.strip():
        raise InvalidInput("What do you need to know?", field="question")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_request_info(d, ctx.roles, ctx.now)
        if respond_by is not None and respond_by <= ctx.now:
            raise InvalidInput("The answer's deadline must be in the future.", field="respond_by")
        d.request_info()
        d.info_requested_from = party
        enter(ctx, respond_by=respond_by)
        _thread(ctx, question)
        ctx.record(
            "request_info", {"party": party, "question": question, "respond_by": d.respond_by}
        )
    return Result(ctx.dispute)


def provide_info(
    *, dispute_id: Any, actor: Any, answer: str, expected_version: int | None = None
) -> Result:
    if not answer.strip():
        raise InvalidInput("The answer is empty.", field="answer")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_provide_info(d, ctx.roles, ctx.now)
        d.provide_info()
        d.info_requested_from = ""
        enter(ctx)
        _thread(ctx, answer)
        ctx.record("provide_info", {"answer": answer})
    return Result(ctx.dispute)


def _ruling_outcome(dispute: Dispute, kind: str, amount: int) -> str:
    if kind == Remedy.NO_ACTION:
        return Outcome.RULED_FOR_SELLER
    if kind == Remedy.FULL_REFUND:
        return Outcome.RULED_FOR_BUYER
    if kind == dispute.requested_outcome and amount >= dispute.requested_amount:
        return Outcome.RULED_FOR_BUYER
    return Outcome.RULED_PARTIAL


def _apply_ruling(ctx: Context, ruling: Ruling) -> None:
    d = ctx.dispute
    _agree(
        ctx,
        kind=ruling.kind,
        amount=ruling.amount,
        funded_by=ruling.funded_by,
        outcome=_ruling_outcome(d, ruling.kind, ruling.amount),
    )
    d.ruled_at = ctx.now
    d.required_tier = ""
    _close_if_nothing_to_deliver(ctx)


def _after_ruling(ctx: Context) -> None:
    enter(ctx)
    if ctx.dispute.state == S.AWAITING_FULFILMENT:
        # After an appeal, refunds made under the first ruling may already cover this one.
        _complete_if_delivered(ctx)


def rule(
    *,
    dispute_id: Any,
    actor: Any,
    kind: str,
    rationale: str,
    amount: int | None = None,
    funded_by: str = Funder.SELLER,
    expected_version: int | None = None,
) -> Result:
    """A mediator rules. Beyond their authority the ruling waits for a second mediator."""
    if kind not in Remedy.values:
        raise InvalidInput(f"Unknown remedy {kind!r}.", field="kind")
    if funded_by not in Funder.values:
        raise InvalidInput("Funded by the seller or the platform.", field="funded_by")
    if not rationale.strip():
        raise InvalidInput("A ruling needs its rationale.", field="rationale")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_rule(d, ctx.roles, ctx.now)
        assert ctx.roles.mediator is not None
        amount = 0 if kind == Remedy.NO_ACTION else _default_amount(d, kind, amount)
        _check_amount(d, kind, amount)
        needs_approval = not ctx.roles.mediator.covers(amount, d.order.currency)
        ruling = Ruling.objects.create(
            dispute=d,
            kind=kind,
            amount=amount,
            funded_by=funded_by,
            rationale=rationale,
            proposer=actor,
            status=RulingStatus.PENDING_APPROVAL if needs_approval else RulingStatus.APPROVED,
            decided_at=None if needs_approval else ctx.now,
        )
        d.rule(needs_approval=needs_approval, nothing_to_deliver=_nothing_to_deliver(kind, amount))
        if not needs_approval:
            _apply_ruling(ctx, ruling)
        _after_ruling(ctx)
        payload: dict[str, Any] = {
            "ruling": ruling.pk,
            "kind": kind,
            "amount": amount,
            "funded_by": funded_by,
            "rationale": rationale,
        }
        if needs_approval:
            payload["authority"] = ctx.roles.mediator.authority_for(d.order.currency)
        ctx.record("rule", payload)
    return Result(ctx.dispute, waiting_for_approval=needs_approval, created=ruling)


def approve_ruling(
    *, dispute_id: Any, actor: Any, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_decide_ruling(d, ctx.roles, ctx.now)
        ruling = pending_ruling(d)
        assert ruling is not None
        _check_amount(d, ruling.kind, ruling.amount)
        ruling.status = RulingStatus.APPROVED
        ruling.approver = actor
        ruling.decision_note = note
        ruling.decided_at = ctx.now
        ruling.save(update_fields=["status", "approver", "decision_note", "decided_at"])
        d.approve_ruling(nothing_to_deliver=_nothing_to_deliver(ruling.kind, ruling.amount))
        _apply_ruling(ctx, ruling)
        _after_ruling(ctx)
        ctx.record("approve_ruling", {"ruling": ruling.pk, "note": note})
    return Result(ctx.dispute)


def reject_ruling(
    *, dispute_id: Any, actor: Any, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_decide_ruling(d, ctx.roles, ctx.now)
        ruling = pending_ruling(d)
        assert ruling is not None
        ruling.status = RulingStatus.REJECTED
        ruling.approver = actor
        ruling.decision_note = note
        ruling.decided_at = ctx.now
        ruling.save(update_fields=["status", "approver", "decision_note", "decided_at"])
        d.reject_ruling()
        enter(ctx)
        ctx.record("reject_ruling", {"ruling": ruling.pk, "note": note})
    return Result(ctx.dispute)


# --- Delivery -----------------------------------------------------------------------------


def _all_delivered(d: Dispute) -> bool:
    return d.agreed_kind in MONEY_REMEDIES and d.delivered_amount >= d.agreed_amount


def _complete_if_delivered(ctx: Context) -> None:
    """After a new ruling (an appeal), what was delivered before may already cover it."""
    d = ctx.dispute
    if _all_delivered(d):
        d.complete()
        d.outcome = d.agreed_outcome
        enter(ctx)


def fulfil(
    *,
    dispute_id: Any,
    actor: Any,
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
            _require(
                kind == expected and agreed in MONEY_REMEDIES,
                RuleViolation(
                    f"The agreed remedy is {agreed}, not a {kind}.", code="fulfilment_mismatch"
                ),
            )
            if kind == FulfilmentKind.STORE_CREDIT:
                _seller(roles)
            else:
                _require(
                    roles.seller or roles.platform or roles.mediator is not None,
                    Forbidden("Refunds are recorded by the shop, the platform or a mediator."),
                )
            if agreed == Remedy.RETURN_AND_REFUND:
                _require(
                    d.return_acknowledged,
                    RuleViolation(
                        "The shop has not acknowledged the returned item yet.",
                        code="return_not_acknowledged",
                    ),
                )
            if amount <= 0:
                raise InvalidInput("Record the amount delivered, above zero.", field="amount")
            if not reference.strip():
                raise InvalidInput(
                    "Give the payment processor's refund id or the credit code.", field="reference"
                )
            if amount > remaining:
                raise RuleViolation(
                    f"{_money(amount, d)} is more than the {_money(remaining, d)} "
                    "still to deliver.",
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
                        f"{_money(amount, d)} is more than is still refundable on this order.",
                        code="amount_exceeds_refundable",
                    )
                order.refunded_total += amount
            d.delivered_amount += amount
        elif kind == FulfilmentKind.REPLACEMENT_SHIPMENT:
            _seller(roles)
            _require(
                agreed == Remedy.REPLACEMENT,
                RuleViolation("No replacement was agreed.", code="fulfilment_mismatch"),
            )
            _require(
                not d.replacement_shipped,
                InvalidTransition("The replacement is already on its way."),
            )
            _tracking(carrier, tracking_number)
            d.replacement_shipped = True
            ctx.changed = True
            d.respond_by = ctx.now + settings.MEDIATION_DELIVERY_WINDOW
        elif kind == FulfilmentKind.RETURN_LABEL:
            _seller(roles)
            _require(
                agreed == Remedy.RETURN_AND_REFUND,
                RuleViolation("No return was agreed.", code="fulfilment_mismatch"),
            )
            _require(
                not d.return_shipped, InvalidTransition("The item is already on its way back.")
            )
            _require(
                bool(reference.strip() or tracking_number.strip()),
                InvalidInput("Give the label's reference or tracking number.", field="reference"),
            )
        else:  # return shipment, by the buyer
            _buyer(roles)
            _require(
                agreed == Remedy.RETURN_AND_REFUND,
                RuleViolation("No return was agreed.", code="fulfilment_mismatch"),
            )
            _require(not d.return_shipped, InvalidTransition("The return is already recorded."))
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
            recorded_by=actor,
        )
        ctx.changed = True
        d.fulfil(all_delivered=_all_delivered(d))
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
        raise InvalidInput("Give the carrier and the tracking number.", field="tracking_number")


def acknowledge_return(
    *, dispute_id: Any, actor: Any, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_acknowledge_return(d, ctx.roles, ctx.now)
        d.acknowledge_return()
        d.return_acknowledged = True
        d.respond_by = deadline_for(S.AWAITING_FULFILMENT, ctx.now, reason=d.reason)
        ctx.changed = True
        ctx.record("acknowledge_return", {"note": note})
    return Result(ctx.dispute)


def confirm_received(*, dispute_id: Any, actor: Any, expected_version: int | None = None) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_confirm_received(d, ctx.roles, ctx.now)
        d.confirm_received()
        d.outcome = d.agreed_outcome
        enter(ctx)
        ctx.record("confirm_received", {})
    return Result(ctx.dispute)


def appeal(
    *, dispute_id: Any, actor: Any, reason: str, expected_version: int | None = None
) -> Result:
    if not reason.strip():
        raise InvalidInput("Say why the ruling should be looked at again.", field="reason")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_appeal(d, ctx.roles, ctx.now)
        tier = _appeal_tier(d)
        assert tier is not None
        d.appeal()
        d.appealed = True
        d.escalation_reason = EscalationReason.APPEAL
        d.required_tier = tier
        d.assigned_to = None
        d.outcome = ""
        d.closed_at = None
        enter(ctx)
        ctx.record("appeal", {"reason": reason, "required_tier": tier})
    return Result(ctx.dispute)


# --- Deadlines (called by the sweeper with the system actor) -------------------------------


def apply_deadline(*, dispute_id: Any, actor: Any = SYSTEM) -> Result:
    """Apply the system transition of the dispute's state once its deadline passed (§4)."""
    with locked_dispute(dispute_id, actor) as ctx:
        d = ctx.dispute
        _require(ctx.roles.system, Forbidden("Deadlines are applied by the system."))
        _require(
            d.state
            in {S.AWAITING_SELLER, S.AWAITING_BUYER, S.AWAITING_INFO, S.AWAITING_FULFILMENT},
            InvalidTransition(f"Nothing happens when a deadline passes in {d.state}."),
        )
        _require(
            _deadline_passed(d, ctx.now),
            RuleViolation("The deadline has not passed.", code="deadline_not_reached"),
        )
        payload: dict[str, Any] = {"respond_by": d.respond_by}
        if d.state == S.AWAITING_SELLER:
            # An agent's offer still waiting for the owner goes with the case to the platform.
            _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
            d.escalate()
            d.escalation_reason = EscalationReason.SELLER_NO_RESPONSE
        elif d.state == S.AWAITING_BUYER:
            _supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
            d.lapse()
            d.outcome = Outcome.LAPSED
        elif d.state == S.AWAITING_INFO:
            d.resume_review()
            d.info_requested_from = ""
        elif d.agreed_kind == Remedy.REPLACEMENT and d.replacement_shipped:
            # The replacement had its delivery window and nobody complained.
            d.complete()
            d.outcome = d.agreed_outcome
        else:
            d.escalate()
            d.escalation_reason = EscalationReason.FULFILMENT_OVERDUE
        enter(ctx)
        payload["escalation_reason"] = d.escalation_reason if d.state == S.ESCALATED else ""
        ctx.record("deadline_passed", payload)
    return Result(ctx.dispute)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such object.") from None


__all__ = [
    "CHECKS",
    "accept_offer",
    "accept_request",
    "acknowledge_return",
    "allowed_actions",
    "appeal",
    "apply_deadline",
    "approve_offer",
    "approve_ruling",
    "assign",
    "confirm_received",
    "contest",
    "counter",
    "escalate",
    "fulfil",
    "make_offer",
    "provide_info",
    "raise_dispute",
    "reject_ruling",
    "request_info",
    "rule",
    "withdraw",
]
