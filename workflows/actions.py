"""The lifecycle's actions: each one's body-independent guard, by the name the API, the
console and ``allowed_actions`` use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from mediation.actors import Actor, Roles, roles_for
from mediation.errors import DomainError
from mediation.models import Dispute
from workflows.fulfilment import check_acknowledge_return, check_confirm_received, check_fulfil
from workflows.negotiation import (
    check_accept_offer,
    check_accept_request,
    check_answer,
    check_counter,
    check_escalate,
    check_withdraw,
)
from workflows.review import (
    check_appeal,
    check_assign,
    check_decide_ruling,
    check_provide_info,
    check_request_info,
    check_rule,
)

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


def allowed_actions(dispute: Dispute, actor: Actor, *, now: datetime | None = None) -> list[str]:
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
