"""What the mediator console shows and does, apart from the admin's plumbing.

- :func:`time_left` and :func:`humanize`: the queue's deadline column.
- :func:`load_case` and :func:`case_context`: the case view, loaded in a fixed number of
  queries whatever the size of the case.
- :data:`ACTIONS`: each console button (the registry's actions with a console label, and
  the internal note), the action of ``allowed_actions`` it needs, its form, and the call of
  the same service the API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from console import forms as cf
from console.picker import pickers
from console.queue import SLA_LABELS, sla_status
from console.timezones import shown
from mediation.actors import mediator_profile, with_joined_membership
from mediation.audit import verify_entries
from mediation.models import (
    DEADLINE_STATES,
    Dispute,
    Evidence,
    Fulfilment,
    MediatorProfile,
    Message,
    Tier,
)
from mediation.money import format_money
from mediation.party_history import party_history
from mediation.selectors import audit_entries, detail_prefetches
from workflows import conversation
from workflows import transitions as t
from workflows.images import within_limits
from workflows.steps import note_of, summary
from workflows.transitions import ACTIONS as REGISTRY
from workflows.transitions import pending_ruling

# Evidence types a browser draws in an <img>; HEIC and PDFs are offered as links.
THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def shows_thumbnail(item: Evidence) -> bool:
    """Whether the case view draws the item inline: an image type browsers draw, whose
    dimensions were recorded at upload and are within today's limits. An image stored
    before dimensions were recorded, or beyond a limit lowered since, is a link only: a
    mediator's browser never decodes a pixel bomb unasked."""
    return item.content_type in THUMBNAIL_TYPES and within_limits(item.width, item.height)


# --- The queue --------------------------------------------------------------------------------


def humanize(delta: timedelta) -> str:
    """``3 h 12 min``, ``2 d 5 h``, ``12 min``, ``< 1 min``."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "< 1 min"


def time_left(dispute: Dispute, now: datetime | None = None) -> str | SafeString:
    """The time left to the deadline, coloured by how the case stands against it
    (:func:`console.queue.sla_status`: on track, at risk, breached); ``-`` when closed."""
    if dispute.respond_by is None or dispute.state not in DEADLINE_STATES:
        return "-"
    now = now or timezone.now()
    status = sla_status(dispute, now) or "on_track"
    css = f"sla sla-{status.replace('_', '-')}"
    if status == "breached":
        css, text, note = (
            f"console-overdue {css}",
            f"overdue {humanize(now - dispute.respond_by)}",
            "",
        )
    else:
        text = humanize(dispute.respond_by - now)
        note = " <small>at risk</small>" if status == "at_risk" else ""
    return format_html(
        '<span class="{}" title="{}">{}{}</span>', css, SLA_LABELS[status], text, mark_safe(note)
    )


# --- The case view ----------------------------------------------------------------------------


def case_queryset(user: Any) -> QuerySet[Dispute]:
    """Every dispute (mediators and superusers see all), with everything the case shows."""
    qs = Dispute.objects.select_related(
        "order", "shop", "buyer", "assigned_to", "policy_version"
    ).prefetch_related(
        "items",
        "order__items",
        *detail_prefetches(),
        Prefetch("messages", queryset=Message.objects.select_related("author", "reported_by")),
        Prefetch("fulfilments", queryset=Fulfilment.objects.select_related("recorded_by")),
        Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
    )
    return with_joined_membership(qs, user)


def load_case(object_id: Any, user: Any) -> Dispute | None:
    try:
        dispute = case_queryset(user).get(pk=int(object_id))
    except (Dispute.DoesNotExist, TypeError, ValueError):
        return None
    return dispute


def evidence_url(item: Evidence) -> str:
    return reverse(
        "api:evidence-download", kwargs={"dispute_id": item.dispute_id, "evidence_id": item.pk}
    )


def _mediator_choices(user: Any) -> list[tuple[str, str]]:
    profiles = MediatorProfile.objects.filter(active=True).select_related("user")
    return [
        (str(p.user_id), f"{p.user.get_username()} ({p.tier})")
        for p in profiles.order_by("user__username")
        if p.user_id != user.pk
    ]


def case_context(dispute: Dispute, user: Any, *, allowed: list[str]) -> dict[str, Any]:
    """Everything the case view shows, for ``user`` (a mediator or a superuser)."""
    now = timezone.now()
    currency = dispute.order.currency
    entries = audit_entries(dispute)
    verification = verify_entries(dispute, entries)
    timeline = [
        {
            "entry": e,
            "summary": summary(e.action, e.payload, currency, e.actor_display),
            "note": note_of(e.action, e.payload, staff=True),
            "internal": e.visibility == "mediators",
        }
        for e in entries
    ]
    evidence = [
        {
            "item": item,
            "url": evidence_url(item),
            "thumbnail": shows_thumbnail(item),
        }
        for item in dispute.evidence.all()
    ]
    profile = mediator_profile(user)
    is_lead = profile is not None and profile.tier == Tier.LEAD
    action_forms = []
    replies = pickers(dispute, user) if profile is not None else {}
    for name, action in ACTIONS.items():
        if not action.allowed(allowed, profile):
            continue
        kwargs: dict[str, Any] = {"currency": currency}
        label = action.label
        if name == "assign":
            if is_lead:
                kwargs["mediators"] = _mediator_choices(user)
            else:
                label = "Assign to me"
        initial = (
            {"audit_seq": dispute.audit_seq}
            if name in ("note", "message")
            else {"version": dispute.version}
        )
        form = action.form(initial=initial, auto_id=f"id_{name}_%s", **kwargs)
        if name == "assign" and not is_lead:
            del form.fields["mediator"]
        action_forms.append(
            {
                "name": name,
                "label": label,
                "form": form,
                "url": reverse("admin:mediation_dispute_act", args=[dispute.pk, name]),
                "picker": replies.get(name),
            }
        )
    return {
        "dispute": dispute,
        "order": dispute.order,
        "currency": currency,
        "order_items": list(dispute.order.items.all()),
        "disputed_items": {i.pk for i in dispute.items.all()},
        "time_left": time_left(dispute, now),
        "messages_": list(dispute.messages.all()),
        "offers": list(dispute.offers.all()),
        "rulings": list(dispute.rulings.all()),
        "pending_ruling": pending_ruling(dispute),
        "fulfilments": list(dispute.fulfilments.all()),
        "evidence": evidence,
        "timeline": timeline,
        "verification": verification,
        "history": party_history(dispute),
        "allowed_actions": allowed,
        "is_mediator": profile is not None,
        "action_forms": action_forms,
        "is_lead": is_lead,
        "authority": (
            None
            if profile is None
            else "no limit"
            if profile.authority_for(currency) is None
            else format_money(profile.authority_for(currency) or 0, currency)
        ),
    }


# --- Actions ----------------------------------------------------------------------------------


def _assign(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    mediator: Any = (data.get("mediator") or "").strip() or None
    if mediator is not None and mediator.isdigit():
        mediator = int(mediator)
    result = t.assign(
        dispute_id=d.pk, actor=user, mediator=mediator, expected_version=data["version"]
    )
    who = result.dispute.assigned_to.get_username() if result.dispute.assigned_to else "?"
    return f"Assigned to {who}; the dispute is {result.dispute.get_state_display().lower()}."


def _request_info(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    result = t.request_info(
        dispute_id=d.pk,
        actor=user,
        party=data["party"],
        question=data["question"],
        respond_by=data.get("respond_by"),
        expected_version=data["version"],
    )
    by = result.dispute.respond_by
    due = shown(by) if by else "the default deadline"
    return f"Asked the {data['party']}; the answer is due by {due}."


def _rule(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    result = t.rule(
        dispute_id=d.pk,
        actor=user,
        kind=data["kind"],
        amount=form.minor_amount(),
        funded_by=data["funded_by"],
        rationale=data["rationale"],
        expected_version=data["version"],
    )
    ruling = result.created
    text = f"{ruling.get_kind_display()} {format_money(ruling.amount, d.order.currency)}"
    if result.waiting_for_approval:
        raise WaitingForApproval(
            f"The ruling ({text}) is beyond your authority: the dispute is now pending "
            "approval and waits for a second mediator whose authority covers it."
        )
    return f"Ruled: {text}. The dispute is {result.dispute.get_state_display().lower()}."


def _approve(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    result = t.approve_ruling(
        dispute_id=d.pk, actor=user, note=data.get("note", ""), expected_version=data["version"]
    )
    return f"Ruling approved. The dispute is {result.dispute.get_state_display().lower()}."


def _reject(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    t.reject_ruling(
        dispute_id=d.pk, actor=user, note=data.get("note", ""), expected_version=data["version"]
    )
    return "Ruling rejected; the case is back under review."


def _fulfil(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    result = t.fulfil(
        dispute_id=d.pk,
        actor=user,
        kind=data["kind"],
        amount=form.minor_amount() or 0,
        reference=data.get("reference", ""),
        carrier=data.get("carrier", ""),
        tracking_number=data.get("tracking_number", ""),
        expected_version=data["version"],
    )
    return f"Fulfilment recorded. The dispute is {result.dispute.get_state_display().lower()}."


def _message(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    conversation.post_message(
        dispute_id=d.pk, actor=user, body=data["body"], expected_audit_seq=data["audit_seq"]
    )
    return "Message sent to the parties."


def _note(d: Dispute, user: Any, data: dict[str, Any], form: Any) -> str:
    conversation.post_message(
        dispute_id=d.pk,
        actor=user,
        body=data["body"],
        internal=True,
        expected_audit_seq=data["audit_seq"],
    )
    return "Internal note added."


class WaitingForApproval(Exception):
    """Not a refusal: the service accepted the ruling, and it waits for a second mediator."""


# A submitted form's call of the action's service; returns the message to show.
Run = Callable[[Dispute, Any, dict[str, Any], Any], str]


@dataclass(frozen=True)
class Action:
    label: str
    form: type[cf.ConsoleForm]
    run: Run
    # The name in allowed_actions that offers this button; None: any mediator (notes).
    needs: str | None

    def allowed(self, allowed: list[str], profile: MediatorProfile | None) -> bool:
        if self.needs is None:
            return profile is not None
        return self.needs in allowed


# The console's form for each action a mediator takes here, and how a submission calls the
# action's service. Which actions have a button, and its label, is the registry's
# (``workflows.actions``: the entries with a ``console`` label).
FORMS: dict[
    str, tuple[type[cf.ConsoleForm], Callable[[Dispute, Any, dict[str, Any], Any], str]]
] = {
    "assign": (cf.AssignForm, _assign),
    "request-info": (cf.RequestInfoForm, _request_info),
    "rule": (cf.RuleForm, _rule),
    "approve-ruling": (cf.DecideRulingForm, _approve),
    "reject-ruling": (cf.DecideRulingForm, _reject),
    "fulfil": (cf.FulfilForm, _fulfil),
}

ACTIONS: dict[str, Action] = {
    **{
        slug: Action(str(spec.console), *FORMS[slug], needs=slug)
        for slug, spec in REGISTRY.items()
        if spec.console is not None
    },
    # Not lifecycle actions: any mediator may write to the parties or add a note at any time.
    "message": Action("Message the parties", cf.MessageForm, _message, None),
    "note": Action("Add internal note", cf.NoteForm, _note, None),
}


__all__ = [
    "ACTIONS",
    "Action",
    "WaitingForApproval",
    "case_context",
    "case_queryset",
    "humanize",
    "load_case",
    "time_left",
]
