"""What happens when a state's deadline passes (DESIGN §4, "on deadline"), applied by the
sweeper with the system actor."""

from __future__ import annotations

from typing import Any

from mediation.actors import SYSTEM, Actor
from mediation.errors import (
    Forbidden,
    InvalidTransition,
    RuleViolation,
)
from mediation.models import (
    TRANSITION_STATES,
    EscalationReason,
    OfferStatus,
    Outcome,
    Remedy,
    State,
)
from workflows.base import (
    Result,
    enter,
    locked_dispute,
)
from workflows.rules import (
    deadline_passed,
    require,
    supersede_open_offers,
)

S = State


def apply_deadline(*, dispute_id: int, actor: Actor = SYSTEM) -> Result:
    """Apply the system transition of the dispute's state once its deadline passed (§4)."""
    with locked_dispute(dispute_id, actor) as ctx:
        d = ctx.dispute
        require(ctx.roles.system, Forbidden("Deadlines are applied by the system."))
        require(
            d.state in TRANSITION_STATES,
            InvalidTransition(f"Nothing happens when a deadline passes in {d.state}."),
        )
        require(
            deadline_passed(d, ctx.now),
            RuleViolation("The deadline has not passed.", code="deadline_not_reached"),
        )
        payload: dict[str, Any] = {"respond_by": d.respond_by}
        if d.state == S.AWAITING_SELLER:
            # An agent's offer still waiting for the owner goes with the case to the platform.
            supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
            d.escalate()
            d.escalation_reason = EscalationReason.SELLER_NO_RESPONSE
        elif d.state == S.AWAITING_BUYER:
            supersede_open_offers(d, now=ctx.now, status=OfferStatus.SUPERSEDED)
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
