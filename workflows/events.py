"""Outgoing events (DESIGN §6): named from audit entries, written to the outbox in the
same transaction as the change.

Every audit entry produces one event named after what happened (``dispute.offer_made``),
and a second one when the entry moved the dispute into ``escalated`` or ``closed``
(``dispute.escalated``, ``dispute.closed``), the two states most consumers listen for.
Internal entries (mediator notes, internal evidence) give internal events, which never
reach the parties' webhooks or mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediation.models import AuditEntry, OutboxEvent, State, Visibility
from workflows import relay, steps

# Called with the rows of each change before they are written, in its transaction: a
# consumer that must show the dispute as it was then (the webhooks' body) keeps a snapshot
# in ``OutboxEvent.snapshot``. Registered by the consumer's app (webhooks.apps).
Snapshotter = Callable[[list[OutboxEvent]], None]
_snapshotters: dict[str, Snapshotter] = {}


def register_snapshot(name: str, snapshot: Snapshotter) -> None:
    _snapshotters[name] = snapshot


def types_for(entry: AuditEntry) -> list[str]:
    step = steps.STEPS.get(entry.action)
    if step is None:
        types = [steps.event_name(entry.action)]
    elif step.pending_approval_event and entry.to_state == State.PENDING_APPROVAL:
        types = [step.pending_approval_event]
    else:
        types = [step.event]
    state_step = steps.STATE_STEPS.get(entry.to_state)
    if state_step is not None and entry.from_state != entry.to_state:
        types.append(state_step.event)
    if isinstance(entry.payload, dict) and entry.payload.get("refund_due"):
        types.append(steps.REFUND_DUE_EVENT)
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
    """The outbox rows of ``entries`` (not saved), with their consumers' snapshots of the
    disputes as the change left them (the caller has written the change)."""
    rows = [event for entry in entries for event in events_for(entry)]
    if rows:
        for snapshot in _snapshotters.values():
            snapshot(rows)
    return rows


def emit(entries: list[AuditEntry]) -> list[OutboxEvent]:
    """Write the events of ``entries``; the caller's transaction commits them with the change."""
    rows = outbox_rows(entries)
    if rows:
        OutboxEvent.objects.bulk_create(rows)
        relay.relay_soon()  # after commit: a worker relays them at once (beat is the fallback)
    return rows
