"""Template filters of the mediator console."""

from __future__ import annotations

from typing import Any

from django import template

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
