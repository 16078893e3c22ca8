"""Outgoing events (DESIGN §6): named from audit entries, written to the outbox in the
same transaction as the change.

Every audit entry produces one event named after what happened (``dispute.offer_made``),
and a second one when the entry moved the dispute into ``escalated`` or ``closed``
(``dispute.escalated``, ``dispute.closed``), the two states most consumers listen for.
Internal entries (mediator notes, internal evidence) give internal events, which never
reach the parties' webhooks or mail.
"""

from __future__ import annotations

from typing import Any

from mediation.models import AuditEntry, OutboxEvent, State, Visibility
from workflows import relay

# Audit action -> event type. Actions missing here are named "dispute.<action>".
NAMES: dict[str, str] = {
    "raise": "dispute.raised",
    "offer": "dispute.offer_made",
    "offer_pending_approval": "dispute.offer_pending_approval",
    "offer_approved": "dispute.offer_made",
    "contest": "dispute.contested",
    "counter": "dispute.countered",
    "accept_offer": "dispute.offer_accepted",
    "accept_request": "dispute.request_accepted",
    "escalate": "dispute.escalation_requested",
    "assign": "dispute.assigned",
    "request_info": "dispute.info_requested",
    "provide_info": "dispute.info_provided",
    "rule": "dispute.ruled",
    "approve_ruling": "dispute.ruled",
    "reject_ruling": "dispute.ruling_rejected",
    "fulfil": "dispute.fulfilment_recorded",
    "acknowledge_return": "dispute.return_acknowledged",
    "confirm_received": "dispute.receipt_confirmed",
    "withdraw": "dispute.withdrawn",
    "appeal": "dispute.appealed",
    "deadline_passed": "dispute.deadline_passed",
    "message": "dispute.message_posted",
    "internal_note": "dispute.internal_note_added",
    "report_message": "dispute.message_reported",
    "evidence": "dispute.evidence_added",
    "evidence_internal": "dispute.internal_evidence_added",
    "evidence_withdrawn": "dispute.evidence_withdrawn",
    "feedback": "dispute.feedback_given",
    "reminder": "dispute.reminder",
    "sla_breached": "dispute.overdue",
}
# Named above, not in NAMES: a ruling beyond its proposer's authority.
PROPOSED = "dispute.ruling_proposed"

# Entering these states is an event of its own.
STATE_EVENTS = {State.ESCALATED: "dispute.escalated", State.CLOSED: "dispute.closed"}

# Every type a webhook endpoint may subscribe to (besides "*").
EVENT_TYPES: tuple[str, ...] = tuple(sorted({*NAMES.values(), *STATE_EVENTS.values(), PROPOSED}))
INTERNAL_ONLY = {"dispute.internal_note_added", "dispute.internal_evidence_added"}
PARTY_EVENT_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in INTERNAL_ONLY)


def types_for(entry: AuditEntry) -> list[str]:
    types = [NAMES.get(entry.action, f"dispute.{entry.action}")]
    state_event = STATE_EVENTS.get(entry.to_state)  # type: ignore[call-overload]
    if state_event and entry.from_state != entry.to_state:
        types.append(state_event)
    if entry.action == "rule" and entry.to_state == State.PENDING_APPROVAL:
        # A ruling that waits for a second mediator is not yet a ruling for the parties.
        types[0] = PROPOSED
    return types


def events_for(entry: AuditEntry) -> list[OutboxEvent]:
    """The outbox rows for one audit entry (not saved)."""
    internal = entry.visibility == Visibility.MEDIATORS
    payload: dict[str, Any] = dict(entry.payload)
    return [
        OutboxEvent(
            dispute_id=entry.dispute_id,
            audit_seq=entry.seq,
            type=event_type,
            action=entry.action,
            from_state=entry.from_state,
            to_state=entry.to_state,
            payload=payload,
            internal=internal,
            created_at=entry.created_at,
        )
        for event_type in types_for(entry)
    ]


def outbox_rows(entries: list[AuditEntry]) -> list[OutboxEvent]:
    """The outbox rows of ``entries`` (not saved)."""
    return [event for entry in entries for event in events_for(entry)]


def emit(entries: list[AuditEntry]) -> list[OutboxEvent]:
    """Write the events of ``entries``; the caller's transaction commits them with the change."""
    rows = outbox_rows(entries)
    if rows:
        OutboxEvent.objects.bulk_create(rows)
        relay.relay_soon()  # after commit: a worker relays them at once (beat is the fallback)
    return rows
