"""The action registry: every action of the dispute lifecycle, declared once.

An action's entry names its API slug (``POST /api/v1/disputes/{id}/<slug>/``, and its
name in ``allowed_actions`` and the console), the django-fsm transition of
``Dispute.state`` it runs (named like the action, so the state diagram reads like the
API), its guard (body-independent, so the same function computes ``allowed_actions``),
its service, the audit steps it records (their events, timeline sentences and emails are
declared in :mod:`workflows.steps`), the API's description of it and the console's button.

Read by the API (one view per entry, ``api.views``), the console (its buttons,
``console.case``), ``allowed_actions`` and the transition-matrix test.

Adding an action: the transition on ``Dispute`` (mediation/models.py), its guard and
service in the module of its stage, an entry here and its steps in workflows/steps.py,
and its input serializer (api/serializers.py, ``@input_for``); plus email templates when
a step sends one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from mediation.actors import Actor, Roles, roles_for
from mediation.errors import DomainError
from mediation.models import Dispute
from workflows import appeal, fulfilment, negotiation, review
from workflows.base import Result

Guard = Callable[[Dispute, Roles, datetime], None]


@dataclass(frozen=True)
class Action:
    slug: str  # the API path segment, the name in allowed_actions and in the console
    transition: Callable[..., Any]  # the Dispute.state transition, named like the action
    guard: Guard | None  # body-independent refusals (None: the service checks all)
    service: Callable[..., Result]
    records: tuple[str, ...]  # the audit steps it may write (workflows.steps)
    description: str  # for the API's documentation
    console: str | None = None  # the console's button, when mediators take it there
    # Offered in allowed_actions and routed as POST /disputes/{id}/<slug>/; an action on one
    # of the dispute's offers has a route of its own (``offers/{offer}/approve/``).
    offered: bool = True

    @property
    def transition_name(self) -> str:
        return str(self.transition.__name__)


ACTIONS: dict[str, Action] = {
    a.slug: a
    for a in (
        Action(
            "accept-request",
            Dispute.accept_request,
            negotiation.check_accept_request,
            negotiation.accept_request,
            ("accept_request",),
            "The shop accepts the buyer's request as it stands (within the member's offer limit).",
        ),
        Action(
            "offer",
            Dispute.offer,
            negotiation.check_answer,
            negotiation.make_offer,
            ("offer", "offer_pending_approval"),
            "The shop offers a remedy (202 while an agent's offer above their limit awaits the "
            "owner).",
        ),
        Action(
            "approve-offer",
            Dispute.approve_offer,
            None,
            negotiation.approve_offer,
            ("offer_approved",),
            "The shop owner approves an agent's offer above the agent's limit.",
            offered=False,
        ),
        Action(
            "contest",
            Dispute.contest,
            negotiation.check_answer,
            negotiation.contest,
            ("contest",),
            "The shop disagrees, with a statement.",
        ),
        Action(
            "accept-offer",
            Dispute.accept_offer,
            negotiation.check_accept_offer,
            negotiation.accept_offer,
            ("accept_offer",),
            "The buyer accepts the shop's open offer.",
        ),
        Action(
            "counter",
            Dispute.counter,
            negotiation.check_counter,
            negotiation.counter,
            ("counter",),
            "The buyer asks for something else (at most 3 rounds).",
        ),
        Action(
            "escalate",
            Dispute.escalate,
            negotiation.check_escalate,
            negotiation.escalate,
            ("escalate",),
            "Hand the dispute to the platform's mediators.",
        ),
        Action(
            "withdraw",
            Dispute.withdraw,
            negotiation.check_withdraw,
            negotiation.withdraw,
            ("withdraw",),
            "The buyer withdraws the dispute (before any ruling).",
        ),
        Action(
            "assign",
            Dispute.assign,
            review.check_assign,
            review.assign,
            ("assign",),
            "A mediator takes the case; a lead may give it to another mediator.",
            console="Assign",
        ),
        Action(
            "request-info",
            Dispute.request_info,
            review.check_request_info,
            review.request_info,
            ("request_info",),
            "The mediator asks a party for something, by a deadline.",
            console="Request information",
        ),
        Action(
            "provide-info",
            Dispute.provide_info,
            review.check_provide_info,
            review.provide_info,
            ("provide_info",),
            "The asked party answers the mediator.",
        ),
        Action(
            "rule",
            Dispute.rule,
            review.check_rule,
            review.rule,
            ("rule",),
            "The mediator rules. 202 when the amount is beyond their authority and waits for "
            "approval.",
            console="Rule",
        ),
        Action(
            "approve-ruling",
            Dispute.approve_ruling,
            review.check_decide_ruling,
            review.approve_ruling,
            ("approve_ruling",),
            "A second mediator whose authority covers the amount approves the ruling.",
            console="Approve ruling",
        ),
        Action(
            "reject-ruling",
            Dispute.reject_ruling,
            review.check_decide_ruling,
            review.reject_ruling,
            ("reject_ruling",),
            "A second mediator sends the ruling back for review.",
            console="Reject ruling",
        ),
        Action(
            "fulfil",
            Dispute.fulfil,
            fulfilment.check_fulfil,
            fulfilment.fulfil,
            ("fulfil",),
            "Record a delivery: refund, replacement shipment, return label or shipment, store "
            "credit.",
            console="Record fulfilment",
        ),
        Action(
            "acknowledge-return",
            Dispute.acknowledge_return,
            fulfilment.check_acknowledge_return,
            fulfilment.acknowledge_return,
            ("acknowledge_return",),
            "The shop acknowledges the returned item; the refund may then be recorded.",
        ),
        Action(
            "confirm-received",
            Dispute.confirm_received,
            fulfilment.check_confirm_received,
            fulfilment.confirm_received,
            ("confirm_received",),
            "The buyer confirms the replacement arrived; the dispute closes.",
        ),
        Action(
            "appeal",
            Dispute.appeal,
            appeal.check_appeal,
            appeal.appeal,
            ("appeal",),
            "A party appeals a ruling, once, within 10 days; a higher tier hears it.",
        ),
    )
}

# The actions offered in allowed_actions (and routed by slug), with their guards.
OFFERED: dict[str, Action] = {slug: a for slug, a in ACTIONS.items() if a.offered}
CHECKS: dict[str, Guard] = {slug: a.guard for slug, a in OFFERED.items() if a.guard is not None}


def allowed_actions(dispute: Dispute, actor: Actor, *, now: datetime | None = None) -> list[str]:
    """What ``actor`` may do to ``dispute`` now, by the guards the services run."""
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
