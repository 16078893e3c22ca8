"""What each kind of audit entry means outside the log, declared once: the outbox event it
gives (webhooks subscribe to these names), its sentence in the timeline, and the email
the parties get about it.

Every step of a dispute is one audit entry, named by its audit action (``accept_request``,
``message``, ``deadline_passed``, ...). The lifecycle's actions (:mod:`workflows.actions`)
say which steps they record; the steps that are no action of a party (messages, evidence,
reminders, deadlines) are here too. Read by :mod:`workflows.events` (event names),
``reports.timeline`` (the sentences) and ``notifications.emails`` (which email).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mediation.models import State
from mediation.money import format_money


@dataclass(frozen=True)
class Words:
    """What a timeline sentence is made of: who, and the entry's payload in words."""

    actor: str
    payload: Mapping[str, Any]
    currency: str

    def money(self, key: str = "amount") -> str:
        value = self.payload.get(key)
        return format_money(int(value), self.currency) if isinstance(value, int) else ""

    def text(self, key: str) -> str:
        return str(self.payload.get(key, "")).replace("_", " ")

    @property
    def kind(self) -> str:
        return self.text("kind")


Summary = Callable[[Words], str]


@dataclass(frozen=True)
class Step:
    event: str  # the outbox event type ("dispute.offer_made")
    summary: Summary | None = None  # the timeline's sentence (None: the action's name)
    notification: str | None = None  # the email (templates notifications/<kind>.txt|html)
    # The event instead when the step leaves the dispute pending approval (a ruling beyond
    # its proposer's authority is not yet a ruling for the parties).
    pending_approval_event: str | None = None


STEPS: dict[str, Step] = {
    "raise": Step(
        "dispute.raised",
        lambda w: (
            f"{w.actor} opened a dispute ({w.text('reason')}) asking for "
            f"{w.text('requested_outcome')} {w.money('requested_amount')}".strip()
        ),
        notification="raised",
    ),
    "accept_request": Step(
        "dispute.request_accepted",
        lambda w: f"{w.actor} accepted the buyer's request ({w.kind} {w.money()})".strip(),
        notification="agreed",
    ),
    "offer": Step(
        "dispute.offer_made",
        lambda w: f"{w.actor} offered {w.kind} {w.money()}".strip(),
        notification="offer_made",
    ),
    "offer_pending_approval": Step(
        "dispute.offer_pending_approval",
        lambda w: f"{w.actor} proposed {w.kind} {w.money()}; it waits for the shop owner",
        notification="offer_needs_approval",
    ),
    "offer_approved": Step(
        "dispute.offer_made",
        lambda w: f"{w.actor} approved the offer of {w.kind} {w.money()}",
        notification="offer_made",
    ),
    "contest": Step(
        "dispute.contested",
        lambda w: f"{w.actor} contested the dispute",
        notification="contested",
    ),
    "accept_offer": Step(
        "dispute.offer_accepted",
        lambda w: f"{w.actor} accepted the offer of {w.kind} {w.money()}".strip(),
        notification="agreed",
    ),
    "counter": Step(
        "dispute.countered",
        lambda w: (
            f"{w.actor} asked instead for {w.text('requested_outcome')} "
            f"{w.money('requested_amount')}".strip()
        ),
        notification="countered",
    ),
    "escalate": Step(
        "dispute.escalation_requested", lambda w: f"{w.actor} asked the platform to step in"
    ),
    "withdraw": Step("dispute.withdrawn", lambda w: f"{w.actor} withdrew the dispute"),
    "assign": Step(
        "dispute.assigned", lambda w: f"The case was assigned to {w.payload.get('mediator')}"
    ),
    "request_info": Step(
        "dispute.info_requested",
        lambda w: f"{w.actor} asked the {w.payload.get('party')} for more information",
        notification="info_requested",
    ),
    "provide_info": Step("dispute.info_provided", lambda w: f"{w.actor} answered the mediator"),
    "rule": Step(
        "dispute.ruled",
        lambda w: f"{w.actor} ruled {w.kind} {w.money()}".strip(),
        notification="ruled",
        pending_approval_event="dispute.ruling_proposed",
    ),
    "approve_ruling": Step(
        "dispute.ruled", lambda w: f"{w.actor} approved the ruling", notification="ruled"
    ),
    "reject_ruling": Step(
        "dispute.ruling_rejected", lambda w: f"{w.actor} sent the ruling back for review"
    ),
    "fulfil": Step(
        "dispute.fulfilment_recorded",
        lambda w: f"{w.actor} recorded {w.kind} {w.money()}".strip(),
        notification="fulfilment_recorded",
    ),
    "acknowledge_return": Step(
        "dispute.return_acknowledged",
        lambda w: f"{w.actor} received the returned item",
        notification="return_acknowledged",
    ),
    "confirm_received": Step(
        "dispute.receipt_confirmed", lambda w: f"{w.actor} confirmed the replacement arrived"
    ),
    "appeal": Step("dispute.appealed", lambda w: f"{w.actor} appealed the ruling"),
    # --- Steps of the system
    "deadline_passed": Step("dispute.deadline_passed", lambda w: "The deadline passed"),
    "reminder": Step(
        "dispute.reminder",
        lambda w: (
            f"The {w.payload.get('party')} was reminded of the deadline "
            f"{w.payload.get('respond_by')}"
        ),
        notification="reminder",
    ),
    "sla_breached": Step(
        "dispute.overdue", lambda w: "The platform's deadline passed; the case is overdue"
    ),
    # --- The conversation, evidence and feedback
    "message": Step("dispute.message_posted", lambda w: f"{w.actor} wrote a message"),
    "internal_note": Step(
        "dispute.internal_note_added", lambda w: f"{w.actor} added an internal note"
    ),
    "report_message": Step("dispute.message_reported", lambda w: f"{w.actor} reported a message"),
    "evidence": Step("dispute.evidence_added"),
    "evidence_internal": Step("dispute.internal_evidence_added"),
    "evidence_withdrawn": Step("dispute.evidence_withdrawn"),
    "feedback": Step(
        "dispute.feedback_given",
        lambda w: f"{w.actor} rated the handling {w.payload.get('rating')}/5",
    ),
}

# Entering these states is an event of its own (the two most consumers listen for), with
# its email.
STATE_STEPS: dict[str, Step] = {
    State.ESCALATED: Step("dispute.escalated", notification="escalated"),
    State.CLOSED: Step("dispute.closed", notification="closed"),
}

# Events only mediators hear of (internal notes and evidence): never to a party's webhook.
INTERNAL_EVENTS = frozenset({"dispute.internal_note_added", "dispute.internal_evidence_added"})


def event_name(action: str) -> str:
    """The event of an audit action; one not declared is ``dispute.<action>``."""
    step = STEPS.get(action)
    return step.event if step is not None else f"dispute.{action}"


def summary(action: str, payload: Mapping[str, Any], currency: str, actor: str) -> str:
    """The timeline's sentence for an entry."""
    step = STEPS.get(action)
    if step is None or step.summary is None:
        return action.replace("_", " ")
    return step.summary(Words(actor=actor, payload=payload, currency=currency))


def _every_event() -> set[str]:
    names = {s.event for s in (*STEPS.values(), *STATE_STEPS.values())}
    return names | {s.pending_approval_event for s in STEPS.values() if s.pending_approval_event}


# Every type a webhook endpoint may subscribe to (besides "*"), and those a party may.
EVENT_TYPES: tuple[str, ...] = tuple(sorted(_every_event()))
PARTY_EVENT_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in INTERNAL_EVENTS)

# Event type -> the email about it. One event, one kind of email (tests/workflows checks
# that steps sharing an event share its email).
NOTIFICATIONS: dict[str, str] = {
    s.event: s.notification
    for s in (*STEPS.values(), *STATE_STEPS.values())
    if s.notification is not None
}
