"""A readable history of a dispute, derived from its audit entries."""

from __future__ import annotations

from typing import Any

from mediation.models import Dispute, Visibility
from mediation.money import format_money
from mediation.selectors import audit_entries


def _money(payload: dict[str, Any], key: str, currency: str) -> str:
    value = payload.get(key)
    return format_money(int(value), currency) if isinstance(value, int) else ""


def summarize(action: str, payload: dict[str, Any], currency: str, actor: str) -> str:
    amount = _money(payload, "amount", currency)
    kind = str(payload.get("kind", "")).replace("_", " ")
    texts = {
        "raise": lambda: (
            f"{actor} opened a dispute ({str(payload.get('reason', '')).replace('_', ' ')}) "
            f"asking for {str(payload.get('requested_outcome', '')).replace('_', ' ')} "
            f"{_money(payload, 'requested_amount', currency)}".strip()
        ),
        "accept_request": lambda: f"{actor} accepted the buyer's request ({kind} {amount})".strip(),
        "offer": lambda: f"{actor} offered {kind} {amount}".strip(),
        "offer_pending_approval": lambda: (
            f"{actor} proposed {kind} {amount}; it waits for the shop owner"
        ),
        "offer_approved": lambda: f"{actor} approved the offer of {kind} {amount}",
        "contest": lambda: f"{actor} contested the dispute",
        "accept_offer": lambda: f"{actor} accepted the offer of {kind} {amount}".strip(),
        "counter": lambda: (
            f"{actor} asked instead for "
            f"{str(payload.get('requested_outcome', '')).replace('_', ' ')} "
            f"{_money(payload, 'requested_amount', currency)}".strip()
        ),
        "escalate": lambda: f"{actor} asked the platform to step in",
        "withdraw": lambda: f"{actor} withdrew the dispute",
        "assign": lambda: f"The case was assigned to {payload.get('mediator')}",
        "request_info": lambda: f"{actor} asked the {payload.get('party')} for more information",
        "provide_info": lambda: f"{actor} answered the mediator",
        "rule": lambda: f"{actor} ruled {kind} {amount}".strip(),
        "approve_ruling": lambda: f"{actor} approved the ruling",
        "reject_ruling": lambda: f"{actor} sent the ruling back for review",
        "fulfil": lambda: f"{actor} recorded {kind} {amount}".strip(),
        "acknowledge_return": lambda: f"{actor} received the returned item",
        "confirm_received": lambda: f"{actor} confirmed the replacement arrived",
        "appeal": lambda: f"{actor} appealed the ruling",
        "deadline_passed": lambda: "The deadline passed",
        "reminder": lambda: (
            f"The {payload.get('party')} was reminded of the deadline {payload.get('respond_by')}"
        ),
        "sla_breached": lambda: "The platform's deadline passed; the case is overdue",
        "message": lambda: f"{actor} wrote a message",
        "internal_note": lambda: f"{actor} added an internal note",
        "report_message": lambda: f"{actor} reported a message",
        "feedback": lambda: f"{actor} rated the handling {payload.get('rating')}/5",
    }
    text = texts.get(action)
    return text() if text else action.replace("_", " ")


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
                "summary": summarize(entry.action, entry.payload, currency, entry.actor_display),
            }
        )
    return events
