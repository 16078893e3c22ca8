"""An appeal: a party asks, once and within the appeal window, for a ruling to be heard
again by a mediator of a higher tier than those who made it."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from mediation.actors import Actor, Roles, mediator_profile
from mediation.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
)
from mediation.models import (
    TIER_RANK,
    Dispute,
    EscalationReason,
    State,
    Tier,
)
from workflows.actions import action
from workflows.base import (
    Result,
    enter,
    locked_dispute,
)
from workflows.rules import (
    deciding_ruling,
    require,
    require_state,
)
from workflows.steps import Step

S = State


def check_appeal(dispute: Dispute, roles: Roles, now: datetime) -> None:
    require_state(dispute, S.AWAITING_FULFILMENT, S.CLOSED)
    require(roles.buyer or roles.seller, Forbidden("Only the buyer or the shop may appeal."))
    ruling = deciding_ruling(dispute) if dispute.ruled_at else None
    require(ruling is not None, InvalidTransition("There is no ruling to appeal."))
    require(
        not dispute.appealed,
        RuleViolation("A ruling can be appealed once.", code="already_appealed"),
    )
    if dispute.state == S.CLOSED:
        require(
            not _other_open_dispute(dispute),
            Conflict(
                "Another dispute is open on this order; the appeal can follow once it closes.",
                code="dispute_already_open",
            ),
        )
    assert dispute.ruled_at is not None
    require(
        now <= dispute.ruled_at + settings.MEDIATION_APPEAL_WINDOW,
        RuleViolation(
            f"The {settings.MEDIATION_APPEAL_WINDOW.days}-day window to appeal has passed.",
            code="deadline_passed",
        ),
    )
    require(
        _appeal_tier(dispute) is not None,
        RuleViolation("A lead mediator ruled; there is no higher tier.", code="no_higher_tier"),
    )


def _other_open_dispute(dispute: Dispute) -> bool:
    """Another open dispute on the same order (annotated by the selectors, else queried)."""
    known = getattr(dispute, "has_other_open_dispute", None)
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


@action(
    "appeal",
    summary="Appeal a ruling",
    transition=Dispute.appeal,
    guard=check_appeal,
    steps={
        "appeal": Step("dispute.appealed", lambda w: f"{w.actor} appealed the ruling"),
    },
    description="A party appeals a ruling, once, within 10 days; a higher tier hears it.",
)
def appeal(
    *, dispute_id: int, actor: Actor, reason: str, expected_version: int | None = None
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
