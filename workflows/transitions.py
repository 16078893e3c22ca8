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

from workflows.actions import CHECKS, allowed_actions
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

__all__ = [
    "CHECKS",
    "MONEY_REMEDIES",
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
    "reject_ruling",
    "request_info",
    "rule",
    "withdraw",
]
