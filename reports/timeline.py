"""A readable history of a dispute, derived from its audit entries (each step's sentence is
declared with the step, in ``workflows.steps``)."""

from __future__ import annotations

from typing import Any

from mediation.models import Dispute, Visibility
from mediation.selectors import audit_entries
from workflows.steps import summary


def timeline(dispute: Dispute, *, include_internal: bool) -> list[dict[str, Any]]:
    events = []
    currency = dispute.order.currency
    for entry in audit_entries(dispute):
        if entry.visibility == Visibility.MEDIATORS and not include_internal:
            continue
        events.append(
            {
                "seq": entry.seq,
                "at": entry.created_at,
                "actor": entry.actor_display,
                "actor_role": entry.actor_role,
                "action": entry.action,
                "from_state": entry.from_state,
                "to_state": entry.to_state,
                "summary": summary(entry.action, entry.payload, currency, entry.actor_display),
            }
        )
    return events
