"""What each kind of audit entry means outside the log, declared once: the outbox event it
gives (webhooks subscribe to these names), its sentence in the timeline, and the email
the parties get about it.

Every step of a dispute is one audit entry, named by its audit action (``accept_request``,
``message``, ``deadline_passed``, ...). Each action of the registry declares the steps it
records with it (``workflows.actions.action``); the steps that are no action (the raise,
messages, evidence, reminders, deadlines) are declared here. Read by
:mod:`workflows.events` (event names), ``reports.timeline`` (the sentences) and
``notifications.emails`` (which email); the complete catalogue of event types is
``workflows.transitions.EVENT_TYPES``.
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


def _asked_to_rate(w: Words) -> str:
    who = ["the shop" if p == "seller" else "the buyer" for p in w.payload.get("parties", [])]
    subject = " and ".join(who) or "no one"
    verb = "were" if len(who) > 1 else "was"
    return f"{subject[0].upper()}{subject[1:]} {verb} asked to rate how the case was handled"


# The steps that are no action of the registry's, declared here; each action declares its
# own with it (``workflows.actions.action``), which adds them to this table.
STEPS: dict[str, Step] = {
    "raise": Step(
        "dispute.raised",
        lambda w: (
            f"{w.actor} opened a dispute ({w.text('reason')}) asking for "
            f"{w.text('requested_outcome')} {w.money('requested_amount')}".strip()
        ),
        notification="raised",
    ),
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
    "feedback_reminder": Step(
        "dispute.feedback_requested", _asked_to_rate, notification="feedback_reminder"
    ),
    "sla_breached": Step(
        "dispute.overdue", lambda w: "The platform's deadline passed; the case is overdue"
    ),
    # --- The conversation, evidence and feedback
    "message": Step("dispute.message_posted", lambda w: f"{w.actor} wrote a message"),
    "internal_note": Step(
        "dispute.internal_note_added", lambda w: f"{w.actor} added an internal note"
    ),
    "report_message": Step(
        "dispute.message_reported",
        lambda w: f"{w.actor} reported a message",
        notification="conduct_reported",
    ),
    "evidence": Step(
        "dispute.evidence_added",
        lambda w: f"{w.actor} added evidence: {w.payload.get('file_name', 'a file')}",
    ),
    "evidence_internal": Step(
        "dispute.internal_evidence_added",
        lambda w: f"{w.actor} added internal evidence: {w.payload.get('file_name', 'a file')}",
    ),
    "evidence_withdrawn": Step(
        "dispute.evidence_withdrawn",
        lambda w: f"{w.actor} withdrew evidence: {w.payload.get('file_name', 'a file')}",
    ),
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

# The second event of a step that leaves a refund to pay (its payload's ``refund_due``:
# amount, currency, order, who funds it): the platform, which executes refunds, listens.
REFUND_DUE_EVENT = "dispute.refund_due"

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


# Where a step keeps what its author wrote with it (besides "note"); the thread's own
# messages are read in the thread, not repeated here.
_WRITTEN = {
    "contest": "statement",
    "provide_info": "answer",
    "request_info": "question",
    "rule": "rationale",
    "appeal": "reason",
    "report_message": "reason",
    "feedback": "comment",
}
_UNWRITTEN = frozenset({"message", "internal_note"})


def note_of(action: str, payload: Mapping[str, Any], *, staff: bool) -> str:
    """What the person who took the step wrote with it (a buyer's escalation note, a
    shop's statement, a mediator's question or rationale), for the timeline: "" for none.
    A ruling waiting for approval is not yet a ruling: its rationale stays with the staff."""
    if action in _UNWRITTEN:
        return ""
    if action == "rule" and "authority" in payload and not staff:
        return ""
    value = payload.get(_WRITTEN.get(action, "note")) or payload.get("note") or ""
    return str(value) if isinstance(value, str) else ""


def event_types() -> tuple[str, ...]:
    """Every event type (of the steps declared so far: ``workflows.transitions`` has the
    complete catalogue)."""
    names = {s.event for s in (*STEPS.values(), *STATE_STEPS.values())}
    names |= {s.pending_approval_event for s in STEPS.values() if s.pending_approval_event}
    names.add(REFUND_DUE_EVENT)
    return tuple(sorted(names))


def notification_kinds() -> dict[str, str]:
    """Event type -> the email about it (one event, one kind of email)."""
    return {
        s.event: s.notification
        for s in (*STEPS.values(), *STATE_STEPS.values())
        if s.notification is not None
    }
