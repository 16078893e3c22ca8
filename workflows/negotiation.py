"""The negotiation between the buyer and the shop: the shop accepts, offers or contests;
the buyer accepts the offer, counters, escalates or withdraws. Each action's guard
(``check_*``, body-independent: it also computes ``allowed_actions``) and its service."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from mediation.actors import Actor, Roles, human
from mediation.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RuleViolation,
)
from mediation.models import (
    PARTY_REMEDIES,
    REVIEW_STATES,
    SHOP_ANSWER_STATES,
    Dispute,
    EscalationReason,
    Funder,
    Offer,
    OfferStatus,
    Outcome,
    Party,
    State,
)
from workflows.actions import action
from workflows.base import (
    Context,
    Result,
    enter,
    locked_dispute,
)
from workflows.rules import (
    MONEY_REMEDIES,
    agree,
    check_amount,
    close_if_nothing_to_deliver,
    deadline_passed,
    default_amount,
    fulfilment_deadline,
    nothing_to_deliver,
    object_id,
    open_offer,
    pending_offer,
    remedy_value,
    require,
    require_buyer,
    require_seller,
    require_state,
    supersede_open_offers,
    thread,
    with_refund_due,
)
from workflows.steps import Step

S = State


def require_no_ruling(dispute: Dispute) -> None:
    """During the platform's review, the parties may still agree until a ruling is made
    (after an appeal, the review is of the ruling: only the mediator decides)."""
    require(
        dispute.state not in REVIEW_STATES or dispute.ruled_at is None,
        InvalidTransition(
            "A ruling has been made on this dispute; it can be appealed, not settled.",
            state=dispute.state,
        ),
    )


def check_shop_answer(dispute: Dispute, roles: Roles, now: datetime) -> None:
    """The shop concedes or offers: while it is asked (``awaiting_seller``), or at any
    point of the platform's review before a ruling."""
    require_state(dispute, *SHOP_ANSWER_STATES)
    require_no_ruling(dispute)
    require_seller(roles)


def check_accept_request(dispute: Dispute, roles: Roles, now: datetime) -> None:
    # Beyond a member's offer limit the acceptance waits for the owner (202), like an offer.
    check_shop_answer(dispute, roles, now)
    if dispute.requested_outcome in MONEY_REMEDIES:
        check_amount(dispute, dispute.requested_outcome, dispute.requested_amount)


def check_answer(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_SELLER)
    require_seller(roles)


def check_accept_offer(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_BUYER, *REVIEW_STATES)
    require_no_ruling(dispute)
    require_buyer(roles)
    require(
        open_offer(dispute) is not None,
        InvalidTransition("There is no open offer to accept.", code="no_open_offer"),
    )


def check_decide_offer(dispute: Dispute, roles: Roles, now: datetime) -> None:
    """The owner approves or rejects an agent's offer above the agent's limit."""
    require(
        roles.owner,
        Forbidden("Only the shop owner decides on offers above an agent's limit."),
    )
    require_state(dispute, *SHOP_ANSWER_STATES)
    require_no_ruling(dispute)
    require(
        pending_offer(dispute) is not None,
        InvalidTransition("No offer waits for your approval.", code="no_pending_offer"),
    )


def check_counter(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_BUYER)
    require_buyer(roles)
    limit = settings.MEDIATION_MAX_COUNTER_ROUNDS
    if dispute.counter_rounds >= limit:
        raise RuleViolation(
            f"This dispute has had its {limit} rounds of counter-offers; accept, escalate "
            "or withdraw.",
            code="counter_limit_reached",
        )


def check_escalate(dispute: Dispute, roles: Roles, now: datetime) -> None:
    """A party hands the case to the platform. The deadlines below bind every reason but
    abusive conduct, which escalates at once (:func:`check_escalation_deadline`)."""
    require_state(dispute, S.AWAITING_SELLER, S.AWAITING_BUYER, S.AWAITING_FULFILMENT)
    require(roles.buyer or roles.seller, Forbidden("Only the buyer or the shop may escalate."))


def check_escalation_deadline(dispute: Dispute, roles: Roles, now: datetime, reason: str) -> None:
    if reason == EscalationReason.ABUSIVE_CONDUCT:
        return
    if dispute.state == S.AWAITING_SELLER and roles.buyer and not roles.seller:
        require(
            deadline_passed(dispute, now),
            RuleViolation(
                "The shop still has until its deadline to answer; you can escalate after it "
                "(or at once, with reason abusive_conduct, if you are being threatened or "
                "insulted).",
                code="deadline_not_reached",
                respond_by=dispute.respond_by,
            ),
        )
    if dispute.state == S.AWAITING_FULFILMENT:
        require(
            deadline_passed(dispute, now),
            RuleViolation(
                "The remedy is not overdue yet; you can escalate once its deadline passes "
                "(or at once, with reason abusive_conduct).",
                code="deadline_not_reached",
                respond_by=dispute.respond_by,
            ),
        )


def check_withdraw(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(
        dispute,
        S.AWAITING_SELLER,
        S.AWAITING_BUYER,
        S.ESCALATED,
        S.UNDER_REVIEW,
        S.AWAITING_INFO,
        S.AWAITING_FULFILMENT,
    )
    require_buyer(roles)
    require(
        dispute.ruled_at is None,
        InvalidTransition("A ruling has been made; it can be appealed, not withdrawn."),
    )


def _agree_to_request(ctx: Context, *, kind: str, amount: int) -> None:
    """The shop gives the buyer what they asked for: the agreement, and the move to
    fulfilment (or to closed, when there is nothing to deliver)."""
    d = ctx.dispute
    Offer.objects.filter(dispute=d, side=Party.BUYER, status=OfferStatus.OPEN).update(
        status=OfferStatus.ACCEPTED, decided_at=ctx.now
    )
    supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
    agree(ctx, kind=kind, amount=amount, funded_by=Funder.SELLER, outcome=Outcome.AGREEMENT)
    d.accept_request(nothing_to_deliver=nothing_to_deliver(kind, amount))
    enter(ctx)
    close_if_nothing_to_deliver(ctx)


def _stays_or_moves(ctx: Context, was: str) -> None:
    """After an offer: to the buyer from ``awaiting_seller`` (a new deadline); during the
    review the case stays with the mediator and keeps its service level."""
    if ctx.dispute.state != was:
        enter(ctx)
    else:
        ctx.changed = True


@action(
    "accept-request",
    summary="Accept the buyer's request",
    transition=Dispute.accept_request,
    guard=check_accept_request,
    steps={
        "accept_request": Step(
            "dispute.request_accepted",
            lambda w: f"{w.actor} accepted the buyer's request ({w.kind} {w.money()})".strip(),
            notification="agreed",
        ),
        "accept_request_pending_approval": Step(
            "dispute.offer_pending_approval",
            lambda w: (
                f"{w.actor} proposed accepting the buyer's request ({w.kind} {w.money()}); "
                "it waits for the shop owner"
            ),
            notification="offer_needs_approval",
        ),
    },
    description=(
        "The shop accepts the buyer's request as it stands, while it is asked or during the "
        "platform's review before a ruling (an agreement that closes the review). Beyond the "
        "member's offer limit it waits for the shop owner (202), as an offer does."
    ),
)
def accept_request(
    *, dispute_id: int, actor: Actor, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_accept_request(d, ctx.roles, ctx.now)
        kind, amount = d.requested_outcome, d.requested_amount
        assert ctx.roles.member is not None
        limit = ctx.roles.member.limit_for(d.order.currency)
        if limit is not None and remedy_value(d, kind, amount) > limit:
            # Like an agent's offer beyond their limit: the owner approves it (and the
            # approval is the agreement) or rejects it.
            supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
            offer = Offer.objects.create(
                dispute=d,
                side=Party.SELLER,
                author=human(actor),
                kind=kind,
                amount=amount,
                note=note,
                status=OfferStatus.PENDING_APPROVAL,
                accepts_request=True,
            )
            ctx.record(
                "accept_request_pending_approval",
                {
                    "offer": offer.pk,
                    "kind": kind,
                    "amount": amount,
                    "note": note,
                    "limit": limit,
                    "accepts_request": True,
                },
            )
            ctx.changed = True
            result = Result(ctx.dispute, waiting_for_approval=True, created=offer)
        else:
            _agree_to_request(ctx, kind=kind, amount=amount)
            ctx.record(
                "accept_request",
                with_refund_due(ctx, {"kind": kind, "amount": amount, "note": note}),
            )
            result = Result(ctx.dispute)
    return result


@action(
    "offer",
    summary="Offer a remedy",
    transition=Dispute.offer,
    guard=check_shop_answer,
    steps={
        "offer": Step(
            "dispute.offer_made",
            lambda w: f"{w.actor} offered {w.kind} {w.money()}".strip(),
            notification="offer_made",
        ),
        "offer_pending_approval": Step(
            "dispute.offer_pending_approval",
            lambda w: f"{w.actor} proposed {w.kind} {w.money()}; it waits for the shop owner",
            notification="offer_needs_approval",
        ),
    },
    description=(
        "The shop offers a remedy (202 while an agent's offer above their limit awaits the "
        "owner). While the platform reviews the case (before a ruling) the offer goes to the "
        "buyer and the mediator, and the case stays under review until the buyer accepts."
    ),
)
def make_offer(
    *,
    dispute_id: int,
    actor: Actor,
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
        check_shop_answer(d, ctx.roles, ctx.now)
        amount = default_amount(d, kind, amount)
        check_amount(d, kind, amount)
        assert ctx.roles.member is not None
        limit = ctx.roles.member.limit_for(d.order.currency)
        needs_owner = limit is not None and remedy_value(d, kind, amount) > limit
        supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        offer = Offer.objects.create(
            dispute=d,
            side=Party.SELLER,
            author=human(actor),
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
            was = d.state
            d.offer()
            _stays_or_moves(ctx, was)
            ctx.record("offer", payload)
    return Result(ctx.dispute, waiting_for_approval=needs_owner, created=offer)


def _pending(ctx: Context, offer_id: int, *, verb: str) -> Offer:
    """The agent's offer waiting for the owner, for the owner to approve or reject."""
    require(
        ctx.roles.owner, Forbidden(f"Only the shop owner {verb} offers above an agent's limit.")
    )
    d = ctx.dispute
    offer = Offer.objects.filter(dispute=d, pk=object_id(offer_id)).first()
    if offer is None:
        raise NotFound("No such offer on this dispute.")
    require(
        offer.status == OfferStatus.PENDING_APPROVAL,
        InvalidTransition(f"The offer is {offer.status}, not waiting for approval."),
    )
    require_state(d, *SHOP_ANSWER_STATES)
    require_no_ruling(d)
    return offer


@action(
    "approve-offer",
    summary="Approve an agent's offer",
    transition=Dispute.approve_offer,
    guard=check_decide_offer,
    steps={
        "offer_approved": Step(
            "dispute.offer_made",
            lambda w: f"{w.actor} approved the offer of {w.kind} {w.money()}",
            notification="offer_made",
        ),
        "request_accepted_on_approval": Step(
            "dispute.request_accepted",
            lambda w: (
                f"{w.actor} approved accepting the buyer's request ({w.kind} {w.money()})"
            ).strip(),
            notification="agreed",
        ),
    },
    description=(
        "The shop owner approves an agent's offer above the agent's limit: it goes to the "
        "buyer (an agent's acceptance of the buyer's request becomes the agreement)."
    ),
    offered=False,
)
def approve_offer(
    *,
    dispute_id: int,
    offer_id: int,
    actor: Actor,
    note: str = "",
    expected_version: int | None = None,
) -> Result:
    """The shop owner approves an agent's offer above the agent's limit; it goes to the buyer."""
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        offer = _pending(ctx, offer_id, verb="approves")
        check_amount(d, offer.kind, offer.amount)
        offer.approved_by = human(actor)
        payload = {"offer": offer.pk, "kind": offer.kind, "amount": offer.amount, "note": note}
        if offer.accepts_request:
            offer.status = OfferStatus.ACCEPTED
            offer.decided_at = ctx.now
            offer.save(update_fields=["status", "approved_by", "decided_at"])
            _agree_to_request(ctx, kind=offer.kind, amount=offer.amount)
            ctx.record("request_accepted_on_approval", with_refund_due(ctx, payload))
        else:
            offer.status = OfferStatus.OPEN
            offer.save(update_fields=["status", "approved_by"])
            was = d.state
            d.approve_offer()
            _stays_or_moves(ctx, was)
            ctx.record("offer_approved", payload)
    return Result(ctx.dispute, created=offer)


@action(
    "reject-offer",
    summary="Reject an agent's offer",
    transition=Dispute.reject_offer,
    guard=check_decide_offer,
    steps={
        "offer_rejected": Step(
            "dispute.offer_rejected",
            lambda w: f"{w.actor} turned down the proposed {w.kind} {w.money()}".strip(),
        ),
    },
    description=(
        "The shop owner turns down an agent's offer above the agent's limit; the shop "
        "answers otherwise."
    ),
    offered=False,
)
def reject_offer(
    *,
    dispute_id: int,
    offer_id: int,
    actor: Actor,
    note: str = "",
    expected_version: int | None = None,
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        offer = _pending(ctx, offer_id, verb="rejects")
        offer.status = OfferStatus.REJECTED
        offer.approved_by = human(actor)
        offer.decided_at = ctx.now
        offer.save(update_fields=["status", "approved_by", "decided_at"])
        d.reject_offer()
        ctx.changed = True
        ctx.record(
            "offer_rejected",
            {"offer": offer.pk, "kind": offer.kind, "amount": offer.amount, "note": note},
        )
    return Result(ctx.dispute, created=offer)


@action(
    "contest",
    summary="Contest the dispute",
    transition=Dispute.contest,
    guard=check_answer,
    steps={
        "contest": Step(
            "dispute.contested",
            lambda w: f"{w.actor} contested the dispute",
            notification="contested",
        ),
    },
    description="The shop disagrees, with a statement.",
)
def contest(
    *, dispute_id: int, actor: Actor, statement: str, expected_version: int | None = None
) -> Result:
    """The seller disagrees, with a statement: the customer is not always right."""
    if not statement.strip():
        raise InvalidInput("A contest needs a statement.", field="statement")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_answer(d, ctx.roles, ctx.now)
        supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        d.contest()
        enter(ctx)
        thread(ctx, statement)
        ctx.record("contest", {"statement": statement})
    return Result(ctx.dispute)


@action(
    "accept-offer",
    summary="Accept the shop's offer",
    transition=Dispute.accept_offer,
    guard=check_accept_offer,
    steps={
        "accept_offer": Step(
            "dispute.offer_accepted",
            lambda w: f"{w.actor} accepted the offer of {w.kind} {w.money()}".strip(),
            notification="agreed",
        ),
    },
    description="The buyer accepts the shop's open offer.",
)
def accept_offer(
    *,
    dispute_id: int,
    actor: Actor,
    offer_id: int | None = None,
    expected_version: int | None = None,
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_accept_offer(d, ctx.roles, ctx.now)
        offer = open_offer(d)
        assert offer is not None
        if offer_id is not None and object_id(offer_id) != offer.pk:
            raise InvalidTransition("That offer is not the open one.", code="offer_not_open")
        check_amount(d, offer.kind, offer.amount)
        offer.status = OfferStatus.ACCEPTED
        offer.decided_at = ctx.now
        offer.save(update_fields=["status", "decided_at"])
        agree(
            ctx,
            kind=offer.kind,
            amount=offer.amount,
            funded_by=Funder.SELLER,
            outcome=Outcome.AGREEMENT,
        )
        d.accept_offer(nothing_to_deliver=nothing_to_deliver(offer.kind, offer.amount))
        enter(ctx, respond_by=fulfilment_deadline(ctx, offer.fulfilment_days))
        close_if_nothing_to_deliver(ctx)
        ctx.record(
            "accept_offer",
            with_refund_due(ctx, {"offer": offer.pk, "kind": offer.kind, "amount": offer.amount}),
        )
    return Result(ctx.dispute)


@action(
    "counter",
    summary="Counter the shop's offer",
    transition=Dispute.counter,
    guard=check_counter,
    steps={
        "counter": Step(
            "dispute.countered",
            lambda w: (
                f"{w.actor} asked instead for {w.text('requested_outcome')} "
                f"{w.money('requested_amount')}".strip()
            ),
            notification="countered",
        ),
    },
    description="The buyer asks for something else (at most 3 rounds).",
)
def counter(
    *,
    dispute_id: int,
    actor: Actor,
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
        amount = default_amount(d, requested_outcome, requested_amount)
        check_amount(d, requested_outcome, amount)
        supersede_open_offers(d, now=ctx.now, status=OfferStatus.REJECTED)
        offer = Offer.objects.create(
            dispute=d,
            side=Party.BUYER,
            author=human(actor),
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


@action(
    "escalate",
    summary="Escalate to the platform",
    transition=Dispute.escalate,
    guard=check_escalate,
    steps={
        "escalate": Step(
            "dispute.escalation_requested", lambda w: f"{w.actor} asked the platform to step in"
        ),
    },
    description=(
        "Hand the dispute to the platform's mediators: the buyer once the shop's deadline "
        "passed, the shop at any time, either side once a remedy is overdue, and either side "
        "at once with reason abusive_conduct."
    ),
)
def escalate(
    *,
    dispute_id: int,
    actor: Actor,
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
            raise RuleViolation(
                f"Escalate with reason {' or '.join(sorted(allowed))}.", field="reason"
            )
        check_escalation_deadline(d, ctx.roles, ctx.now, reason)
        supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        d.escalate()
        d.escalation_reason = reason
        if reason == EscalationReason.ABUSIVE_CONDUCT:
            d.conduct_reported_at = d.conduct_reported_at or ctx.now
        enter(ctx)
        ctx.record("escalate", {"reason": reason, "note": note})
    return Result(ctx.dispute)


@action(
    "withdraw",
    summary="Withdraw the dispute",
    transition=Dispute.withdraw,
    guard=check_withdraw,
    steps={
        "withdraw": Step("dispute.withdrawn", lambda w: f"{w.actor} withdrew the dispute"),
    },
    description="The buyer withdraws the dispute (before any ruling).",
)
def withdraw(
    *, dispute_id: int, actor: Actor, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_withdraw(d, ctx.roles, ctx.now)
        supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        d.withdraw()
        d.outcome = Outcome.WITHDRAWN
        enter(ctx)
        ctx.record("withdraw", {"note": note})
    return Result(ctx.dispute)
