"""Template filters of the mediator console."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from console import case
from console.queue import shown_amount
from mediation.money import format_money

register = template.Library()


@register.filter
def money(amount: Any, currency: str) -> str:
    """``{{ ruling.amount|money:order.currency }}`` -> ``240.00 USD``."""
    if amount is None or amount == "":
        return "-"
    return format_money(int(amount), currency)


@register.filter
def percent(rate: Any) -> str:
    return "-" if rate is None else f"{float(rate) * 100:.0f}%"


@register.filter
def label(value: Any) -> str:
    """``not_as_described`` -> ``not as described``."""
    return str(value or "").replace("_", " ")


@register.simple_tag
def time_left(dispute: Any) -> Any:
    """The deadline cell of the queue, with its SLA colour."""
    return case.time_left(dispute)


@register.simple_tag
def queue_amount(dispute: Any) -> Any:
    """``ruled 45.00 USD``, ``agreed ...`` or ``requested ...`` (console.queue.shown_amount)."""
    kind, amount = shown_amount(dispute)
    return format_html('<span class="amount-{}">{} <small>{}</small></span>', kind, amount, kind)
