"""The platform's review: a mediator takes the case, asks the parties, rules (beyond their
authority the ruling waits for a second mediator, who approves or rejects it), and a party
may appeal a ruling once. Guards (``check_*``) and services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q

from mediation.actors import Actor, Roles, human, mediator_profile
from mediation.errors import (
    AuthorityLimitExceeded,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
)
from mediation.models import (
    Dispute,
    Funder,
    MediatorProfile,
    OfferStatus,
    Outcome,
    Party,
    Remedy,
    Ruling,
    RulingStatus,
    State,
    Tier,
)
from workflows.actions import action
from workflows.base import (
    Context,
    Result,
    enter,
    locked_dispute,
)
from workflows.rules import (
    agree,
    check_amount,
    close_if_nothing_to_deliver,
    complete_if_delivered,
    default_amount,
    is_party,
    money,
    not_a_party,
    nothing_to_deliver,
    pending_ruling,
    remedy_value,
    require,
    require_holder,
    require_impartial,
    require_mediator,
    require_state,
    supersede_open_offers,
    thread,
    tier_ok,
    with_refund_due,
)
from workflows.steps import Step

S = State


def check_assign(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.ESCALATED, S.UNDER_REVIEW, S.AWAITING_INFO)
    require_mediator(roles)
    assert roles.mediator is not None
    require_impartial(roles)
    is_lead = roles.mediator.tier == Tier.LEAD
    if dispute.state != S.ESCALATED:
        require(is_lead, Forbidden("Only a lead mediator may reassign a case under review."))
    elif not is_lead:
        require(
            tier_ok(roles.mediator, dispute),
            Forbidden(
                f"This appeal must be heard by a {dispute.required_tier} or higher.",
                code="tier_too_low",
            ),
        )


def check_request_info(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.UNDER_REVIEW)
    require_holder(dispute, roles)


def check_provide_info(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_INFO)
    asked = dispute.info_requested_from
    require(
        (asked == Party.BUYER and roles.buyer) or (asked == Party.SELLER and roles.seller),
        Forbidden(f"The mediator asked the {asked}, not you."),
    )


def check_rule(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.UNDER_REVIEW)
    require_holder(dispute, roles)


def check_decide_ruling(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.PENDING_APPROVAL)
    require_mediator(roles)
    assert roles.mediator is not None
    require_impartial(roles)
    ruling = pending_ruling(dispute)
    if ruling is None:  # pragma: no cover - the state implies one
        raise InvalidTransition("No ruling waits for approval.")
    require(
        ruling.proposer_id != roles.mediator.user_id,
        Forbidden(
            "A ruling is approved by a second mediator, never its proposer.", code="four_eyes"
        ),
    )
    require(
        roles.mediator.covers(ruling.value, dispute.order.currency),
        AuthorityLimitExceeded(
            f"The ruling, worth {money(ruling.value, dispute)}, is beyond your authority of "
            f"{money(roles.mediator.authority_for(dispute.order.currency) or 0, dispute)}.",
            limit="mediator_authority",
        ),
    )


def awaiting_approval_by(user: Any) -> Q | None:
    """Disputes whose pending ruling ``user`` may approve (None: not a mediator).

    The rule of :func:`check_decide_ruling`, as a query (the console's "waiting for my
    approval" filter): the dispute is
    pending approval, its ruling was proposed by someone else, the amount is within the
    mediator's authority in the order's currency (a lead has no limit; a currency not in
    the authority is a limit of 0), and the mediator is not a party to it.
    """
    profile = mediator_profile(user)
    if profile is None:
        return None
    rulings = Ruling.objects.filter(
        dispute_id=OuterRef("pk"), status=RulingStatus.PENDING_APPROVAL
    ).exclude(proposer_id=user.pk)
    if profile.tier != Tier.LEAD:
        covered = Q(value__lte=0)
        for currency, limit in (profile.authority or {}).items():
            covered |= Q(dispute__order__currency=currency, value__lte=int(limit))
        rulings = rulings.filter(covered)
    # Never a case the mediator is a party to (its buyer, or a member of its shop).
    return Q(state=State.PENDING_APPROVAL) & Q(Exists(rulings)) & not_a_party(user.pk)


@action(
    "assign",
    summary="Assign the case",
    transition=Dispute.assign,
    guard=check_assign,
    steps={
        "assign": Step(
            "dispute.assigned", lambda w: f"The case was assigned to {w.payload.get('mediator')}"
        ),
    },
    description="A mediator takes the case; a lead may give it to another mediator.",
    console="Assign",
)
def assign(
    *,
    dispute_id: int,
    actor: Actor,
    mediator: int | str | None = None,
    expected_version: int | None = None,
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
                raise RuleViolation(f"No active mediator {mediator!r}.", field="mediator")
            if found.user_id != actor.pk and ctx.roles.mediator.tier != Tier.LEAD:
                raise Forbidden("Only a lead mediator assigns cases to others.")
            assignee = found
        if assignee.user_id != actor.pk and is_party(assignee.user_id, d):
            raise Forbidden(
                f"{assignee.user.get_username()} is a party to this dispute (its buyer or a "
                "member of its shop): assign another mediator.",
                code="conflict_of_interest",
            )
        if not tier_ok(assignee, d):
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


@action(
    "request-info",
    summary="Ask a party for information",
    transition=Dispute.request_info,
    guard=check_request_info,
    steps={
        "request_info": Step(
            "dispute.info_requested",
            lambda w: f"{w.actor} asked the {w.payload.get('party')} for more information",
            notification="info_requested",
        ),
    },
    description="The mediator asks a party for something, by a deadline.",
    console="Request information",
)
def request_info(
    *,
    dispute_id: int,
    actor: Actor,
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
            raise RuleViolation("The answer's deadline must be in the future.", field="respond_by")
        d.request_info()
        d.info_requested_from = party
        enter(ctx, respond_by=respond_by)
        thread(ctx, question)
        ctx.record(
            "request_info", {"party": party, "question": question, "respond_by": d.respond_by}
        )
    return Result(ctx.dispute)


@action(
    "provide-info",
    summary="Answer a mediator's question",
    transition=Dispute.provide_info,
    guard=check_provide_info,
    steps={
        "provide_info": Step("dispute.info_provided", lambda w: f"{w.actor} answered the mediator"),
    },
    description="The asked party answers the mediator.",
)
def provide_info(
    *, dispute_id: int, actor: Actor, answer: str, expected_version: int | None = None
) -> Result:
    if not answer.strip():
        raise InvalidInput("The answer is empty.", field="answer")
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_provide_info(d, ctx.roles, ctx.now)
        d.provide_info()
        d.info_requested_from = ""
        enter(ctx)
        thread(ctx, answer)
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
    agree(
        ctx,
        kind=ruling.kind,
        amount=ruling.amount,
        funded_by=ruling.funded_by,
        outcome=_ruling_outcome(d, ruling.kind, ruling.amount),
    )
    d.ruled_at = ctx.now
    d.required_tier = ""
    close_if_nothing_to_deliver(ctx)


def _after_ruling(ctx: Context) -> None:
    enter(ctx)
    if ctx.dispute.state == S.AWAITING_FULFILMENT:
        # After an appeal, refunds made under the first ruling may already cover this one.
        complete_if_delivered(ctx)


@action(
    "rule",
    summary="Rule on the dispute",
    transition=Dispute.rule,
    guard=check_rule,
    steps={
        "rule": Step(
            "dispute.ruled",
            lambda w: (
                # Beyond the mediator's authority the ruling is a proposal until approved.
                f"{w.actor} proposed a ruling of {w.kind} {w.money()}; it waits for a second "
                "mediator's approval"
                if "authority" in w.payload
                else f"{w.actor} ruled {w.kind} {w.money()}".strip()
            ),
            notification="ruled",
            pending_approval_event="dispute.ruling_proposed",
        ),
    },
    description=(
        "The mediator rules. 202 when the amount is beyond their authority and waits for approval."
    ),
    console="Rule",
)
def rule(
    *,
    dispute_id: int,
    actor: Actor,
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
        amount = 0 if kind == Remedy.NO_ACTION else default_amount(d, kind, amount)
        check_amount(d, kind, amount)
        value = remedy_value(d, kind, amount)
        needs_approval = not ctx.roles.mediator.rules_alone(value, d.order.currency)
        # An offer the shop made during the review is no longer the buyer's to accept.
        supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
        ruling = Ruling.objects.create(
            dispute=d,
            kind=kind,
            amount=amount,
            value=value,
            funded_by=funded_by,
            rationale=rationale,
            proposer=human(actor),
            status=RulingStatus.PENDING_APPROVAL if needs_approval else RulingStatus.APPROVED,
            decided_at=None if needs_approval else ctx.now,
        )
        d.rule(needs_approval=needs_approval, nothing_to_deliver=nothing_to_deliver(kind, amount))
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
        if value != amount:
            payload["value"] = value
        if needs_approval:
            payload["authority"] = ctx.roles.mediator.sole_limit_for(d.order.currency)
        ctx.record("rule", with_refund_due(ctx, payload))
    return Result(ctx.dispute, waiting_for_approval=needs_approval, created=ruling)


def _decide(ctx: Context, ruling: Ruling, status: str, note: str) -> None:
    """The second mediator's decision on a pending ruling."""
    ruling.status = status
    ruling.approver = human(ctx.actor)
    ruling.decision_note = note
    ruling.decided_at = ctx.now
    ruling.save(update_fields=["status", "approver", "decision_note", "decided_at"])


@action(
    "approve-ruling",
    summary="Approve a ruling",
    transition=Dispute.approve_ruling,
    guard=check_decide_ruling,
    steps={
        "approve_ruling": Step(
            "dispute.ruled", lambda w: f"{w.actor} approved the ruling", notification="ruled"
        ),
    },
    description="A second mediator whose authority covers the amount approves the ruling.",
    console="Approve ruling",
)
def approve_ruling(
    *, dispute_id: int, actor: Actor, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_decide_ruling(d, ctx.roles, ctx.now)
        ruling = pending_ruling(d)
        assert ruling is not None
        check_amount(d, ruling.kind, ruling.amount)
        _decide(ctx, ruling, RulingStatus.APPROVED, note)
        d.approve_ruling(nothing_to_deliver=nothing_to_deliver(ruling.kind, ruling.amount))
        _apply_ruling(ctx, ruling)
        _after_ruling(ctx)
        ctx.record("approve_ruling", with_refund_due(ctx, {"ruling": ruling.pk, "note": note}))
    return Result(ctx.dispute)


@action(
    "reject-ruling",
    summary="Send a ruling back",
    transition=Dispute.reject_ruling,
    guard=check_decide_ruling,
    steps={
        "reject_ruling": Step(
            "dispute.ruling_rejected", lambda w: f"{w.actor} sent the ruling back for review"
        ),
    },
    description="A second mediator sends the ruling back for review.",
    console="Reject ruling",
)
def reject_ruling(
    *, dispute_id: int, actor: Actor, note: str = "", expected_version: int | None = None
) -> Result:
    with locked_dispute(dispute_id, actor, expected_version=expected_version) as ctx:
        d = ctx.dispute
        check_decide_ruling(d, ctx.roles, ctx.now)
        ruling = pending_ruling(d)
        assert ruling is not None
        _decide(ctx, ruling, RulingStatus.REJECTED, note)
        d.reject_ruling()
        enter(ctx)
        ctx.record("reject_ruling", {"ruling": ruling.pk, "note": note})
    return Result(ctx.dispute)
