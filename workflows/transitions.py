"""Every use case of the dispute lifecycle (DESIGN §4), in one index.

The services live in a module per stage: :mod:`workflows.raising`,
:mod:`workflows.negotiation`, :mod:`workflows.review`, :mod:`workflows.fulfilment`,
:mod:`workflows.appeal` and :mod:`workflows.deadlines`, with their shared rules in
:mod:`workflows.rules`; every action, with its guard and its service, is declared in the
registry, :mod:`workflows.actions`. Each service takes keyword arguments and an explicit
``actor`` (a user or ``mediation.actors.SYSTEM``), runs in one transaction (lock, guards,
transition, audit, events, save) and returns a :class:`workflows.base.Result`.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from mediation.actors import Actor, roles_for
from mediation.errors import DomainError
from mediation.models import Dispute
from workflows import steps
from workflows.actions import Action, Guard, registered
from workflows.appeal import appeal
from workflows.deadlines import apply_deadline
from workflows.fulfilment import acknowledge_return, confirm_received, fulfil
from workflows.negotiation import (
    accept_offer,
    accept_request,
    approve_offer,
    contest,
    counter,
    escalate,
    make_offer,
    reject_offer,
    withdraw,
)
from workflows.raising import raise_dispute
from workflows.review import (
    approve_ruling,
    assign,
    provide_info,
    reject_ruling,
    request_info,
    rule,
)
from workflows.rules import (
    MONEY_REMEDIES,
    REFUND_REMEDIES,
    deciding_ruling,
    open_offer,
    pending_ruling,
)

# --- The registry, complete: every stage module above has declared its actions ---------------

ACTIONS: dict[str, Action] = registered()
# The actions routed by slug (POST /disputes/{id}/<slug>/); the others act on one of the
# dispute's offers (POST /disputes/{id}/offers/{offer}/<approve|reject>/).
OFFERED: dict[str, Action] = {slug: a for slug, a in ACTIONS.items() if a.offered}
# Every guarded action, by the names allowed_actions lists.
CHECKS: dict[str, Guard] = {slug: a.guard for slug, a in ACTIONS.items() if a.guard is not None}

# Every event type a webhook endpoint may subscribe to (besides "*"), those a party's may,
# and the email about each event that has one.
EVENT_TYPES: tuple[str, ...] = steps.event_types()
PARTY_EVENT_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in steps.INTERNAL_EVENTS)
NOTIFICATION_KINDS: dict[str, str] = steps.notification_kinds()


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


__all__ = [
    "ACTIONS",
    "CHECKS",
    "EVENT_TYPES",
    "MONEY_REMEDIES",
    "NOTIFICATION_KINDS",
    "OFFERED",
    "PARTY_EVENT_TYPES",
    "REFUND_REMEDIES",
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
    "deciding_ruling",
    "escalate",
    "fulfil",
    "make_offer",
    "open_offer",
    "pending_ruling",
    "provide_info",
    "raise_dispute",
    "reject_offer",
    "reject_ruling",
    "request_info",
    "rule",
    "withdraw",
]
