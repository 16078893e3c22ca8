"""Saved replies (macros): placeholders, their check when a reply is saved, and their
rendering for one case.

A reply's body is plain text with placeholders written ``{{ name }}``. The text is never
run as a template: each placeholder is replaced by its value as plain text (the thread
shows it escaped like every message), and a name that is not in :data:`PLACEHOLDERS` is
refused when the reply is saved, so no message ever goes out with a stray ``{{ ... }}``.
A value a case does not have (no offer yet, no ruling) makes the reply unavailable on that
case, with the reason, rather than inserting an empty or made-up value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from mediation.models import Dispute, OfferStatus, Party, RulingStatus
from mediation.money import format_money

# {{ name }}, spaces inside the braces optional.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True)
class Case:
    """What the placeholders read: the dispute (loaded with its order, shop, buyer, offers
    and rulings), the party asked (a request for information) and the writer."""

    dispute: Dispute
    writer: Any
    party: str | None = None


def _buyer_name(c: Case) -> str:
    buyer = c.dispute.buyer
    return buyer.get_full_name().strip() or buyer.get_username()


def _party_name(c: Case) -> str | None:
    if c.party == Party.BUYER:
        return _buyer_name(c)
    if c.party == Party.SELLER:
        return c.dispute.shop.name
    return None


def _money(amount: int, c: Case) -> str:
    return format_money(amount, c.dispute.order.currency)


def _offered(c: Case) -> str | None:
    offers = [o for o in c.dispute.offers.all() if o.status != OfferStatus.PENDING_APPROVAL]
    if not offers:
        return None
    return _money(max(offers, key=lambda o: (o.created_at, o.pk)).amount, c)


def _ruled(c: Case) -> str | None:
    rulings = [r for r in c.dispute.rulings.all() if r.status != RulingStatus.REJECTED]
    if not rulings:
        return None
    return _money(max(rulings, key=lambda r: r.pk).amount, c)


@dataclass(frozen=True)
class Placeholder:
    help: str
    value: Callable[[Case], str | None]
    # Why a case may lack the value (None: every case has it).
    missing: str = ""


PLACEHOLDERS: dict[str, Placeholder] = {
    "party_name": Placeholder(
        "the name of the party asked (the buyer's name, or the shop's); requests for "
        "information only",
        _party_name,
        "only a request for information names the party asked",
    ),
    "buyer_name": Placeholder("the buyer's name", _buyer_name),
    "shop_name": Placeholder("the shop's name", lambda c: c.dispute.shop.name),
    "order": Placeholder("the order's marketplace id", lambda c: c.dispute.order.external_id),
    "case": Placeholder("the case number, e.g. #12", lambda c: f"#{c.dispute.pk}"),
    "requested_amount": Placeholder(
        "what the buyer asks for, e.g. 40.00 USD",
        lambda c: _money(c.dispute.requested_amount, c),
    ),
    "offered_amount": Placeholder(
        "the shop's or buyer's latest offer", _offered, "no offer has been made on this case"
    ),
    "ruled_amount": Placeholder(
        "the latest ruling's amount", _ruled, "no ruling has been made on this case"
    ),
    "mediator_name": Placeholder(
        "your name", lambda c: c.writer.get_full_name().strip() or c.writer.get_username()
    ),
}


def names(body: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(body)]


def check(body: str, *, kind: str) -> None:
    """Raise ValidationError naming every unknown or malformed placeholder of ``body``."""
    unknown = sorted({n for n in names(body) if n not in PLACEHOLDERS})
    problems = []
    if unknown:
        problems.append(
            "Unknown placeholder(s): "
            + ", ".join(f"{{{{ {n} }}}}" for n in unknown)
            + ". Use one of: "
            + ", ".join(f"{{{{ {n} }}}}" for n in PLACEHOLDERS)
            + "."
        )
    rest = PLACEHOLDER.sub("", body)
    if "{{" in rest or "}}" in rest:
        problems.append("A placeholder is not closed: write it as {{ name }}.")
    if kind != "request_info" and "party_name" in names(body):
        problems.append(
            "{{ party_name }} is for requests for information, where one party is asked; "
            "use {{ buyer_name }} or {{ shop_name }} in a message."
        )
    if problems:
        raise ValidationError(problems)


class Unavailable(Exception):
    """The case lacks a value the reply uses."""


def render(body: str, case: Case) -> str:
    """The reply for one case, as plain text; Unavailable names what the case lacks."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        spec = PLACEHOLDERS.get(name)
        if spec is None:  # saved before a placeholder was retired: never sent broken
            raise Unavailable(f"{{{{ {name} }}}} is not a placeholder")
        text = spec.value(case)
        if text is None:
            raise Unavailable(spec.missing)
        return text

    return PLACEHOLDER.sub(value, body)


def help_text() -> str:
    return (
        "Placeholders: "
        + "; ".join(f"{{{{ {n} }}}} {p.help}" for n, p in PLACEHOLDERS.items())
        + "."
    )


__all__ = ["PLACEHOLDERS", "Case", "Unavailable", "check", "help_text", "names", "render"]
