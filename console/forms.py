"""The console's action forms: what a mediator types, turned into a service's arguments.

Amounts are typed in major units ("240.00") and become integer minor units of the order's
currency; more decimals than the currency has are refused, never rounded. Every form
carries the dispute's ``version`` as read when the page was drawn, so a second submit of
the same form (or a change by someone else meanwhile) is refused by the service's version
check instead of applied twice.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from console.timezones import zone_label
from mediation.models import FulfilmentKind, Funder, Party, Remedy
from mediation.money import MINOR_UNITS


def parse_amount(text: str, currency: str) -> int:
    """``parse_amount("240.00", "USD") == 24000``; raises ValidationError when not an amount."""
    digits = MINOR_UNITS.get(currency, 2)
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError(f"{text!r} is not an amount, e.g. 24.00.") from None
    if not value.is_finite() or value < 0:
        raise forms.ValidationError("The amount must be zero or more.")
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise forms.ValidationError(f"{currency} has {digits} decimal places at most.")
    return int(minor)


class ConsoleForm(forms.Form):
    """A form of the case view, for a dispute in ``currency``."""

    def __init__(self, *args: Any, currency: str = "USD", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency


class ActionForm(ConsoleForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def minor_amount(self, name: str = "amount") -> int | None:
        text = self.cleaned_data.get(name) or ""
        return parse_amount(text, self.currency) if text.strip() else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "amount" in self.fields and data.get("amount"):
            try:
                parse_amount(data["amount"], self.currency)
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
        return data


class AssignForm(ActionForm):
    # A user id (or user name); the service checks it is an active mediator and that only a
    # lead assigns to someone else. Blank: the mediator takes the case.
    mediator = forms.CharField(required=False, max_length=150, label="Assign to")

    def __init__(self, *args: Any, mediators: list[tuple[str, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["mediator"].widget = forms.Select(choices=[("", "me"), *(mediators or [])])


class RequestInfoForm(ActionForm):
    party = forms.ChoiceField(choices=Party.choices, label="Ask")
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000)
    respond_by = forms.DateTimeField(
        required=False,
        label="Answer by",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read in the mediator's time zone (console.timezones), which the picker names.
        self.fields[
            "respond_by"
        ].help_text = f"In your time zone, {zone_label()}. Blank: the default information deadline."


class RuleForm(ActionForm):
    kind = forms.ChoiceField(choices=Remedy.choices, label="Remedy")
    amount = forms.CharField(
        required=False,
        max_length=30,
        help_text="In major units, e.g. 24.00. Blank for a full refund: the refundable rest.",
    )
    funded_by = forms.ChoiceField(choices=Funder.choices, initial=Funder.SELLER)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)


class DecideRulingForm(ActionForm):
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000
    )


class FulfilForm(ActionForm):
    kind = forms.ChoiceField(choices=FulfilmentKind.choices)
    amount = forms.CharField(required=False, max_length=30, help_text="Major units, e.g. 24.00.")
    reference = forms.CharField(required=False, max_length=200, label="Refund id or code")
    carrier = forms.CharField(required=False, max_length=100)
    tracking_number = forms.CharField(required=False, max_length=100)


class NoteForm(ConsoleForm):
    # Notes do not change the dispute's version: the audit sequence guards a double submit.
    audit_seq = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000, label="Internal note"
    )


class MessageForm(ConsoleForm):
    # Like a note, guarded by the audit sequence; the parties read it.
    audit_seq = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000, label="Message to the parties"
    )


__all__ = [
    "ActionForm",
    "AssignForm",
    "ConsoleForm",
    "DecideRulingForm",
    "FulfilForm",
    "MessageForm",
    "NoteForm",
    "RequestInfoForm",
    "RuleForm",
    "parse_amount",
]
