"""The queue's bulk actions: assign the selected cases to me, to a chosen mediator, or add
an internal note to each.

Each case goes through the same service as its button on the case page (``assign``,
``post_message``), one case at a time, each in its own transaction: a case is done whole
(its change, its audit entry and its events) or refused whole, and a refusal of one case
never stops the others. The result is one message naming each refusal with the service's
reason ("3 assigned to mia_agent; #7 refused: ...").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from mediation.actors import mediator_profile
from mediation.errors import DomainError
from mediation.models import Dispute, MediatorProfile, Tier
from workflows import assignment, conversation
from workflows import transitions as t

# At most this many cases in one bulk action: each is its own transaction.
MAX_CASES = 100


@dataclass
class Outcome:
    """What a bulk action did to each case."""

    verb: str
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)

    def message(self) -> str:
        notes = {pk: f"#{pk} unchanged: {why}" for pk, why in self.skipped.items()}
        notes |= {pk: f"#{pk} refused: {why.rstrip('.')}" for pk, why in self.refused.items()}
        return (
            "; ".join([f"{len(self.done)} {self.verb}", *(notes[pk] for pk in sorted(notes))]) + "."
        )

    @property
    def level(self) -> int:
        if self.refused and not self.done:
            return messages.ERROR
        if self.refused or self.skipped:
            return messages.WARNING
        return messages.SUCCESS


def each(
    disputes: list[Dispute], outcome: Outcome, run: Callable[[Dispute], str | None]
) -> Outcome:
    """``run`` each case; a domain refusal is recorded against its case and the next goes on.
    ``run`` returns a reason to report the case unchanged, or None when done."""
    for d in disputes:
        try:
            skipped = run(d)
        except DomainError as exc:
            outcome.refused[d.pk] = str(exc)
        else:
            if skipped:
                outcome.skipped[d.pk] = skipped
            else:
                outcome.done.append(d.pk)
    return outcome


def _selected(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Dispute]
) -> list[Dispute] | None:
    disputes = list(
        queryset.select_related("assigned_to", "order")
        .prefetch_related("items")
        .order_by("pk")[: MAX_CASES + 1]
    )
    if len(disputes) > MAX_CASES:
        modeladmin.message_user(
            request,
            f"Select at most {MAX_CASES} cases at a time; nothing was changed.",
            messages.ERROR,
        )
        return None
    return disputes


def assign_to(user: Any, disputes: list[Dispute], mediator: MediatorProfile | None) -> Outcome:
    """Assign each case to ``mediator`` (None: to ``user``) through the ``assign`` service."""
    target = mediator.user if mediator is not None else user
    name = target.get_username()

    def run(d: Dispute) -> str | None:
        if d.assigned_to_id == target.pk:
            return f"already assigned to {name}"
        t.assign(dispute_id=d.pk, actor=user, mediator=None if mediator is None else target.pk)
        return None

    return each(disputes, Outcome(f"assigned to {name}"), run)


def note_each(user: Any, disputes: list[Dispute], body: str) -> Outcome:
    """Add the internal note ``body`` to each case (``post_message``, internal)."""

    def run(d: Dispute) -> str | None:
        conversation.post_message(dispute_id=d.pk, actor=user, body=body, internal=True)
        return None

    return each(disputes, Outcome("noted"), run)


def _report(modeladmin: Any, request: HttpRequest, outcome: Outcome) -> None:
    modeladmin.message_user(request, outcome.message(), outcome.level)


def _page(
    modeladmin: Any,
    request: HttpRequest,
    disputes: list[Dispute],
    *,
    action: str,
    title: str,
    form: forms.Form,
    extra: dict[str, Any] | None = None,
) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.opts,
        "title": title,
        "subtitle": None,
        "disputes": disputes,
        "action": action,
        "form": form,
        "selected_name": helpers.ACTION_CHECKBOX_NAME,
        **(extra or {}),
    }
    return TemplateResponse(request, f"admin/mediation/dispute/bulk_{action}.html", context)


@admin.action(description="Assign the selected cases to me")
def assign_to_me(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Dispute]) -> None:
    disputes = _selected(modeladmin, request, queryset)
    if disputes is not None:
        _report(modeladmin, request, assign_to(request.user, disputes, None))


class MediatorChoiceForm(forms.Form):
    mediator = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Assign to")

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["mediator"]).choices = choices


@admin.action(description="Assign the selected cases to a mediator…")
def assign_to_mediator(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Dispute]
) -> HttpResponse | None:
    """A page listing the active mediators (their tier, open cases, and which of the
    selected cases they may be given), then each case assigned by the ``assign`` service."""
    profile = mediator_profile(request.user)
    if profile is None or profile.tier != Tier.LEAD:
        modeladmin.message_user(
            request, "Only a lead mediator assigns cases to others.", messages.ERROR
        )
        return None
    disputes = _selected(modeladmin, request, queryset)
    if disputes is None:
        return None
    listed = assignment.candidates(disputes)
    choices = [(c.profile.user_id, c.profile.user.get_username()) for c in listed if c.eligible]
    form = MediatorChoiceForm(request.POST if "apply" in request.POST else None, choices=choices)
    if "apply" in request.POST and form.is_valid():
        chosen = next(
            c.profile for c in listed if c.profile.user_id == form.cleaned_data["mediator"]
        )
        _report(modeladmin, request, assign_to(request.user, disputes, chosen))
        return None
    return _page(
        modeladmin,
        request,
        disputes,
        action="assign_to_mediator",
        title=f"Assign {len(disputes)} case(s) to a mediator",
        form=form,
        extra={"candidates": listed},
    )


class BulkNoteForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=conversation.MAX_BODY,
        label="Internal note",
        strip=True,
    )


@admin.action(description="Add an internal note to the selected cases…")
def add_note(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Dispute]
) -> HttpResponse | None:
    disputes = _selected(modeladmin, request, queryset)
    if disputes is None:
        return None
    form = BulkNoteForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        _report(modeladmin, request, note_each(request.user, disputes, form.cleaned_data["body"]))
        return None
    return _page(
        modeladmin,
        request,
        disputes,
        action="add_note",
        title=f"Add an internal note to {len(disputes)} case(s)",
        form=form,
    )


def actions_for(request: HttpRequest) -> list[Callable[..., Any]]:
    """The bulk actions ``request.user`` is offered on the queue: mediators only, and the
    assignment to someone else for leads (the rule of the ``assign`` service)."""
    profile = mediator_profile(request.user)
    if profile is None:
        return []
    if profile.tier == Tier.LEAD:
        return [assign_to_me, assign_to_mediator, add_note]
    return [assign_to_me, add_note]


__all__ = [
    "MAX_CASES",
    "Outcome",
    "actions_for",
    "add_note",
    "assign_to",
    "assign_to_me",
    "assign_to_mediator",
    "note_each",
]
