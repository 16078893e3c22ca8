"""Email to the parties (DESIGN §6: "keep the customer in the loop"), an outbox consumer.

Who hears what
    One audit entry is one step, and a step is one email per person, even when it gives
    two events (a ruling that closes the case is ``dispute.ruled`` and ``dispute.closed``:
    one email, about the ruling, saying the case is closed). The buyer is the buyer; "the
    shop" is every member of the shop (owners and agents) with an email address. The
    person who took the step is never emailed about it, and mediator-only (internal)
    events, proposed rulings waiting for a second mediator, assignments and the like never
    reach the parties. See :data:`KINDS` and :func:`recipients`.

What can be turned off
    ``NotificationPreference.reminders`` (reminders before a deadline) and ``.updates``
    (routine steps: raised, offers, counters, replies, deliveries). Rulings, agreements,
    escalations, closures and a mediator's question (:data:`ALWAYS`) always go out.

Written here, sent by the sender
    The relay calls :func:`consume` inside its transaction, with the event row locked. It
    renders each recipient's email and writes it as a ``pending``
    :class:`~mediation.models.Notification` row (unique per event and user), with the
    Message-ID every attempt will carry; nothing is sent here, so the relay's transaction
    never waits for a mail server. A re-relay finds the rows and adds nothing. After the
    relay commits, :mod:`notifications.sender` claims each row in a committed step, sends
    it and records the result: at least once, and twice only if the sender dies between
    the server's acceptance and that record (then with the same Message-ID).

Failures
    A temporary failure (the mail server is down or answers 4xx) is retried on the
    sender's schedule (:data:`notifications.sender.RETRY_DELAYS`, about a day); an address
    the server refuses (5xx) fails that row for good and the others go on. Webhooks are
    another consumer and are never held up by mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from mediation.models import (
    AuditEntry,
    Dispute,
    EscalationReason,
    FulfilmentKind,
    MediatorProfile,
    Message,
    Notification,
    NotificationPreference,
    NotificationStatus,
    Outcome,
    Party,
    Reason,
    Remedy,
    ShopMember,
    ShopRole,
    State,
)
from mediation.money import format_money
from notifications import sender, tasks
from notifications.preferences import ALWAYS, REMINDERS, skip_reason
from workflows import events, steps, transitions
from workflows.base import deadline_for
from workflows.rules import pending_ruling, tier_ok

logger = logging.getLogger(__name__)

# Event type -> the kind of email (a template pair under notifications/), as each step
# declares it (workflows.steps, and the actions' steps in the registry).
KINDS: dict[str, str] = transitions.NOTIFICATION_KINDS
STATE_KINDS = {s.notification for s in steps.STATE_STEPS.values() if s.notification}
# These say themselves where the case went, so the state's own email is not sent as well.
CARRIES_STATE = {"ruled", "agreed", "fulfilment_recorded"}
BUYER, SELLER = Party.BUYER.value, Party.SELLER.value
MEDIATORS = "mediator"


@dataclass
class Plan:
    """The one email of an audit entry: carried by ``carrier`` (an event type)."""

    carrier: str
    kind: str
    kinds: set[str] = field(default_factory=set)  # every kind of the entry (for recipients)


def plan_for(entry: AuditEntry) -> Plan | None:
    types = events.types_for(entry)
    primary = KINDS.get(types[0])
    state_type = next((t for t in types[1:] if KINDS.get(t) in STATE_KINDS), None)
    if state_type is not None:
        state_kind = KINDS[state_type]
        if primary in CARRIES_STATE:
            assert primary is not None
            return Plan(types[0], primary, {primary, state_kind})
        return Plan(state_type, state_kind, {state_kind})
    if primary is None or primary in STATE_KINDS:
        return None
    return Plan(types[0], primary, {primary})


# --- Recipients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    user: Any
    party: str


def _parties(kind: str, entry: AuditEntry, dispute: Dispute, actor_party: str) -> set[str]:
    payload = entry.payload or {}
    if kind in {"raised", "countered"}:
        return {SELLER}
    if kind in {"offer_made", "contested", "return_acknowledged"}:
        return {BUYER}
    if kind == "offer_needs_approval":
        return {"owners"}
    if kind in {"info_requested", "reminder"}:
        party = str(payload.get("party", ""))
        if kind == "reminder" and party == "platform":
            return {MEDIATORS}  # a case of the platform's nears its service level
        return {party} if party in (BUYER, SELLER) else set()
    if kind == "conduct_reported":
        return {MEDIATORS}
    if kind == "feedback_reminder":
        # Those who had not rated when it was sent.
        return {str(p) for p in payload.get("parties", [])} & {BUYER, SELLER}
    if kind == "fulfilment_recorded":
        # The other side of whoever recorded it; both when the platform did.
        return {BUYER, SELLER} - {actor_party}
    return {BUYER, SELLER}  # agreed, escalated, ruled, closed


def recipients(plan: Plan, entry: AuditEntry, dispute: Dispute) -> list[Recipient]:
    """Who gets the entry's email: its parties, without the person who took the step."""
    members = list(ShopMember.objects.filter(shop_id=dispute.shop_id).select_related("user"))
    member_ids = {m.user_id for m in members}
    actor_id = entry.actor_id
    actor_party = (
        BUYER if actor_id == dispute.buyer_id else SELLER if actor_id in member_ids else ""
    )
    parties: set[str] = set()
    for kind in plan.kinds:
        parties |= _parties(kind, entry, dispute, actor_party)
    found: dict[int, Recipient] = {}
    if BUYER in parties:
        found[dispute.buyer_id] = Recipient(dispute.buyer, BUYER)
    for m in sorted(members, key=lambda m: (m.role != ShopRole.OWNER, m.user_id)):
        wanted = SELLER in parties or ("owners" in parties and m.role == ShopRole.OWNER)
        if wanted and m.user_id not in found:
            found[m.user_id] = Recipient(m.user, SELLER)
    if MEDIATORS in parties:
        work = "reminder" if "reminder" in plan.kinds else "on_duty"
        for user in mediators_for(work, dispute):
            found.setdefault(user.pk, Recipient(user, MEDIATORS))
    found.pop(actor_id, None)  # type: ignore[arg-type]
    return list(found.values())


def mediators_for(work: str, dispute: Dispute) -> list[Any]:
    """The active mediators an email about ``dispute`` is for, never a party to it:

    - ``on_duty`` (a report of conduct): the mediator holding the case, or every active
      mediator while no one does;
    - ``reminder`` (the service level nears): as ``on_duty``, or while a ruling waits for
      approval, as ``approval_needed`` (its holder proposed it: the approvers must act);
    - ``queue_case``: while no one holds it, the mediators of the case's tier (for an
      appeal, the tier above);
    - ``approval_needed``: those who may approve the
      pending ruling, by the rule of ``check_decide_ruling``: not its proposer, and their
      authority covers what the ruling is worth."""
    profiles = list(
        MediatorProfile.objects.filter(active=True, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    if work == "reminder":
        work = "approval_needed" if dispute.state == State.PENDING_APPROVAL else "on_duty"
    if work == "on_duty" and dispute.assigned_to_id is not None:
        held = [p.user for p in profiles if p.user_id == dispute.assigned_to_id]
        if held:
            return held
    parties = {
        dispute.buyer_id,
        *ShopMember.objects.filter(shop_id=dispute.shop_id).values_list("user_id", flat=True),
    }
    impartial = [p for p in profiles if p.user_id not in parties]
    if work == "queue_case":
        if dispute.assigned_to_id is not None:
            return []
        return [p.user for p in impartial if tier_ok(p, dispute)]
    if work == "approval_needed":
        ruling = pending_ruling(dispute)
        if ruling is None:
            return []
        currency = dispute.order.currency
        return [
            p.user
            for p in impartial
            if p.user_id != ruling.proposer_id and p.covers(ruling.value, currency)
        ]
    return [p.user for p in impartial]


# --- The message -----------------------------------------------------------------------------


def dispute_url(dispute_id: int) -> str:
    return str(settings.STOREFRONT_DISPUTE_URL).replace("{id}", str(dispute_id))


def console_url(dispute_id: int) -> str:
    return str(settings.CONSOLE_CASE_URL).replace("{id}", str(dispute_id))


def human_time(value: datetime | str | None) -> str:
    """``Tuesday 14 May 2025, 16:00 UTC``."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    assert isinstance(value, datetime)
    value = value.astimezone(UTC) if timezone.is_aware(value) else value
    return f"{value:%A} {value.day} {value:%B %Y, %H:%M} UTC"


def describe_remedy(kind: str, amount: int, currency: str) -> str:
    money = format_money(amount, currency)
    descriptions: dict[str, str] = {
        Remedy.FULL_REFUND: f"a full refund of {money}",
        Remedy.PARTIAL_REFUND: f"a partial refund of {money}",
        Remedy.REPLACEMENT: "a replacement",
        Remedy.RETURN_AND_REFUND: f"a return and a refund of {money}",
        Remedy.STORE_CREDIT: f"store credit of {money}",
        Remedy.GOODWILL: f"a goodwill gesture of {money}" if amount else "a goodwill gesture",
        Remedy.NO_ACTION: "no further action",
    }
    return descriptions.get(kind, kind)


ESCALATION_WHY = {
    EscalationReason.BUYER_REQUEST: "the customer asked us to take a look",
    EscalationReason.SELLER_REQUEST: "the shop asked us to take a look",
    EscalationReason.ABUSIVE_CONDUCT: "one side asked us to step in and help keep things calm",
    EscalationReason.SELLER_NO_RESPONSE: "we had not received the shop's answer by the deadline",
    EscalationReason.FULFILMENT_OVERDUE: "the agreed remedy was not recorded as delivered in time",
    EscalationReason.APPEAL: "a decision was appealed, so a more senior mediator will review it",
    EscalationReason.RETURN_DISPUTED: (
        "the shop reported that the returned item did not arrive as expected, so the refund "
        "waits for a mediator's view"
    ),
}

CLOSED_WHY = {
    Outcome.AGREEMENT: "the agreed remedy has been delivered",
    Outcome.RULED_FOR_BUYER: "the remedy our mediator decided on has been delivered",
    Outcome.RULED_PARTIAL: "the remedy our mediator decided on has been delivered",
    Outcome.RULED_FOR_SELLER: "our mediator decided that no further action is needed",
    Outcome.WITHDRAWN: "the customer withdrew the dispute",
    Outcome.LAPSED: "the shop's offer was not answered before its deadline",
}

SUBJECTS: dict[str, dict[str, str]] = {
    "raised": {SELLER: "A customer has opened a dispute on order {order}"},
    "offer_made": {BUYER: "{shop} has made you an offer on order {order}"},
    "offer_needs_approval": {SELLER: "An offer on order {order} is waiting for your approval"},
    "contested": {BUYER: "{shop} has replied to your dispute on order {order}"},
    "countered": {SELLER: "The customer has replied to your offer on order {order}"},
    "agreed": {
        BUYER: "Agreed: what happens next with order {order}",
        SELLER: "Agreed: what happens next with order {order}",
    },
    "info_requested": {
        BUYER: "A question from our mediation team about order {order}",
        SELLER: "A question from our mediation team about order {order}",
    },
    "ruled": {
        BUYER: "A decision on your dispute about order {order}",
        SELLER: "A decision on the dispute about order {order}",
    },
    "fulfilment_recorded": {
        BUYER: "An update on the remedy for order {order}",
        SELLER: "An update on the remedy for order {order}",
    },
    "return_acknowledged": {BUYER: "{shop} has received your return for order {order}"},
    "escalated": {
        BUYER: "Our mediation team is now looking at order {order}",
        SELLER: "Our mediation team is now looking at order {order}",
    },
    "closed": {
        BUYER: "Your dispute about order {order} is closed",
        SELLER: "The dispute about order {order} is closed",
    },
    "conduct_reported": {
        MEDIATORS: "Reported conduct on dispute #{dispute_id} (order {order})",
    },
    "queue_case": {MEDIATORS: "A case for your queue: dispute #{dispute_id} (order {order})"},
    "approval_needed": {
        MEDIATORS: "A ruling waits for your approval: dispute #{dispute_id} (order {order})"
    },
    "feedback_reminder": {
        BUYER: "How did we do? Rate the handling of your dispute about order {order}",
        SELLER: "How did we do? Rate the handling of the dispute about order {order}",
    },
    "reminder": {
        MEDIATORS: "Due {deadline}: the platform's answer on dispute #{dispute_id} (order {order})",
        BUYER: "A reminder: your reply on order {order} is due {deadline}",
        SELLER: "A reminder: your reply on order {order} is due {deadline}",
    },
}


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def context_for(
    kind: str, recipient: Recipient, entry: AuditEntry, dispute: Dispute
) -> dict[str, Any]:
    """What the templates of ``kind`` need; every value is plain text (templates escape)."""
    payload: dict[str, Any] = dict(entry.payload or {})
    currency = dispute.order.currency
    user = recipient.user
    deadline = human_time(payload.get("respond_by")) or human_time(_deadline(entry, dispute))
    ctx: dict[str, Any] = {
        "kind": kind,
        "party": recipient.party,
        "is_buyer": recipient.party == BUYER,
        "name": _one_line(user.first_name or user.get_username(), 80),
        "shop": _one_line(dispute.shop.name, 120),
        "order": _one_line(dispute.order.external_id, 100),
        "dispute_id": dispute.pk,
        "url": (
            console_url(dispute.pk) if recipient.party == MEDIATORS else dispute_url(dispute.pk)
        ),
        "is_mediator": recipient.party == MEDIATORS,
        "reason": Reason(dispute.reason).label.lower() if dispute.reason in Reason.values else "",
        "description": dispute.description,
        "requested": describe_remedy(dispute.requested_outcome, dispute.requested_amount, currency),
        "deadline": deadline,
        "action": entry.action,
        "to_state": entry.to_state,
        "closes": entry.to_state == State.CLOSED and entry.from_state != State.CLOSED,
        "note": str(payload.get("note") or payload.get("statement") or ""),
        "payload": payload,
        "actor": _one_line(entry.actor_display, 80),
        "opt_out": "reminders" if kind in REMINDERS else "" if kind in ALWAYS else "updates",
        "can_appeal": not dispute.appealed,
    }
    if kind in {"offer_made", "offer_needs_approval"}:
        ctx["offer"] = describe_remedy(
            str(payload.get("kind", "")), int(payload.get("amount") or 0), currency
        )
        offer = dispute.offers.filter(pk=int(payload.get("offer") or 0)).first()
        if offer is not None and not ctx["note"]:
            ctx["note"] = offer.note
        ctx["limit"] = format_money(int(payload["limit"]), currency) if payload.get("limit") else ""
    if kind == "countered":
        ctx["counter"] = describe_remedy(
            str(payload.get("requested_outcome", "")),
            int(payload.get("requested_amount") or 0),
            currency,
        )
    if kind in {"agreed", "ruled", "fulfilment_recorded", "closed", "reminder"}:
        ctx["agreed"] = describe_remedy(dispute.agreed_kind, dispute.agreed_amount, currency)
        ctx["agreed_kind"] = dispute.agreed_kind
        ctx["platform_funds"] = dispute.funded_by == "platform"
        ctx["delivered"] = format_money(dispute.delivered_amount, currency)
        ctx["remaining"] = format_money(
            max(dispute.agreed_amount - dispute.delivered_amount, 0), currency
        )
    if kind == "agreed":
        ctx["accepted_by_buyer"] = entry.action == "accept_offer"
    if kind == "ruled":
        ruling = dispute.rulings.filter(pk=int(payload.get("ruling") or 0)).first()
        if ruling is not None:
            ctx["ruling"] = describe_remedy(ruling.kind, ruling.amount, currency)
            ctx["rationale"] = ruling.rationale
            ctx["no_action"] = ruling.kind == Remedy.NO_ACTION
            ctx["platform_funds"] = ruling.funded_by == "platform"
        ctx["appeal_days"] = settings.MEDIATION_APPEAL_WINDOW.days
    if kind == "fulfilment_recorded":
        fkind = str(payload.get("kind", ""))
        ctx["fulfilment"] = fkind
        ctx["amount"] = format_money(int(payload.get("amount") or 0), currency)
        ctx["reference"] = str(payload.get("reference", ""))
        ctx["carrier"] = str(payload.get("carrier", ""))
        ctx["tracking_number"] = str(payload.get("tracking_number", ""))
        ctx["is_refund"] = fkind == FulfilmentKind.REFUND
        ctx["is_credit"] = fkind == FulfilmentKind.STORE_CREDIT
        ctx["is_replacement"] = fkind == FulfilmentKind.REPLACEMENT_SHIPMENT
        ctx["is_label"] = fkind == FulfilmentKind.RETURN_LABEL
        ctx["is_return"] = fkind == FulfilmentKind.RETURN_SHIPMENT
    if kind == "escalated":
        reason = dispute.escalation_reason or str(payload.get("escalation_reason") or "")
        ctx["why"] = ESCALATION_WHY.get(reason, "the case needs a mediator's view")  # type: ignore[call-overload]
        ctx["appeal"] = entry.action == "appeal"
    if kind == "info_requested":
        ctx["question"] = str(payload.get("question", ""))
    if kind in {"queue_case", "approval_needed"}:
        reason = dispute.escalation_reason
        ctx["why"] = ESCALATION_WHY.get(reason, "the case needs a mediator's view")  # type: ignore[call-overload]
        ctx["tier"] = dispute.required_tier
        ctx["requested"] = describe_remedy(
            dispute.requested_outcome, dispute.requested_amount, currency
        )
        ruling = (
            dispute.rulings.filter(pk=int(payload.get("ruling") or 0)).first()
            if kind == "approval_needed"
            else None
        )
        if ruling is not None:
            ctx["ruling"] = describe_remedy(ruling.kind, ruling.amount, currency)
            ctx["rationale"] = ruling.rationale
            ctx["proposer"] = _one_line(entry.actor_display, 80)
    if kind == "conduct_reported":
        ctx["report_reason"] = _one_line(str(payload.get("reason", "")), 500)
        message = Message.objects.filter(
            dispute_id=dispute.pk, pk=int(payload.get("message") or 0)
        ).first()
        ctx["reported_text"] = _one_line(message.body, 500) if message is not None else ""
        ctx["reported_author"] = (
            _one_line(message.author_role.replace("_", " "), 40) if message is not None else ""
        )
        ctx["state"] = State(dispute.state).label.lower()
    if kind == "feedback_reminder" and dispute.closed_at is not None:
        closed = dispute.closed_at.astimezone(UTC)
        ctx["closed_on"] = f"{closed:%A} {closed.day} {closed:%B %Y}"
    if kind in {"closed", "feedback_reminder"}:
        outcome = dispute.outcome if dispute.state == State.CLOSED else ""
        ctx["outcome"] = outcome
        ctx["why"] = CLOSED_WHY.get(outcome, "")  # type: ignore[call-overload]
        ctx["withdrawn"] = outcome == Outcome.WITHDRAWN
        ctx["lapsed"] = outcome == Outcome.LAPSED
    if kind == "reminder":
        ctx["awaiting"] = {
            State.AWAITING_SELLER: "answer",
            State.AWAITING_BUYER: "offer",
            State.AWAITING_INFO: "info",
            State.AWAITING_FULFILMENT: "fulfilment",
        }.get(entry.to_state, "answer")  # type: ignore[call-overload]
    return ctx


def _deadline(entry: AuditEntry, dispute: Dispute) -> datetime | None:
    """The deadline the step set: the dispute's own while it is still in the state the step
    entered, else the one the state was given on entry (the relay ran late)."""
    if dispute.state == entry.to_state:
        return dispute.respond_by
    if entry.from_state != entry.to_state and entry.to_state:
        return deadline_for(entry.to_state, entry.created_at, reason=dispute.reason)
    return None


def subject_for(kind: str, party: str, ctx: dict[str, Any]) -> str:
    template = SUBJECTS[kind].get(party) or next(iter(SUBJECTS[kind].values()))
    text = template.format(
        shop=ctx["shop"],
        order=ctx["order"],
        deadline=ctx["deadline"] or "soon",
        dispute_id=ctx["dispute_id"],
    )
    return _one_line(text, 200)


def render(
    kind: str, recipient: Recipient, entry: AuditEntry, dispute: Dispute
) -> tuple[str, str, str]:
    """The subject, plain text and HTML of one email."""
    ctx = context_for(kind, recipient, entry, dispute)
    ctx["subject"] = subject = subject_for(kind, recipient.party, ctx)
    text = render_to_string(f"notifications/{kind}.txt", ctx)
    html = render_to_string(f"notifications/{kind}.html", ctx)
    return subject, _tidy(text), html


def _tidy(text: str) -> str:
    """Template tags leave blank lines; keep at most one between paragraphs."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out) + "\n"


# --- The consumer ----------------------------------------------------------------------------


# Mediators' work, by the event that brings it: a case entering the queue of their tier,
# a ruling waiting for a second mediator. (A report of conduct is the step's own email.)
MEDIATOR_WORK = {
    "dispute.escalated": "queue_case",
    "dispute.ruling_proposed": "approval_needed",
}


def consume(event: Any) -> None:
    """Write the emails of one outbox event, to be sent after commit (idempotent by event
    and recipient)."""
    if event.internal or (event.type not in KINDS and event.type not in MEDIATOR_WORK):
        return
    entry = AuditEntry.objects.filter(dispute_id=event.dispute_id, seq=event.audit_seq).first()
    if entry is None:
        return
    dispute = Dispute.objects.select_related("order", "shop", "buyer").get(pk=event.dispute_id)
    sends: list[tuple[str, Recipient]] = []
    plan = plan_for(entry)
    if plan is not None and plan.carrier == event.type:
        sends += [(plan.kind, person) for person in recipients(plan, entry, dispute)]
    work = MEDIATOR_WORK.get(event.type)
    if work is not None:
        told = {person.user.pk for _, person in sends} | {entry.actor_id}
        sends += [
            (work, Recipient(user, MEDIATORS))
            for user in mediators_for(work, dispute)
            if user.pk not in told
        ]
    if not sends:
        return
    written = set(Notification.objects.filter(event_id=event.pk).values_list("user_id", flat=True))
    preferences = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(
            user_id__in=[person.user.pk for _, person in sends]
        )
    }
    now = timezone.now()
    rows: list[Notification] = []
    for kind, person in sends:
        if person.user.pk in written:
            continue
        written.add(person.user.pk)
        row = Notification(
            event_id=event.pk,
            user=person.user,
            kind=kind,
            party=person.party,
            email=person.user.email or "",
        )
        why = skip_reason(kind, person.user, preferences.get(person.user.pk))
        if why:
            row.status, row.error = NotificationStatus.SKIPPED, why
        else:
            # Rendered now, in the relay's transaction: a template error writes nothing
            # (the relay offers the event again), and what is sent is what was written.
            subject, text, html = render(kind, person, entry, dispute)
            row.status, row.next_attempt_at = NotificationStatus.PENDING, now
            row.subject, row.body_text, row.body_html = subject[:300], text, html
            row.message_id = sender.message_id(event.pk, person.user.pk)
        rows.append(row)
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if any(r.status == NotificationStatus.PENDING for r in rows):
        tasks.send_soon()
