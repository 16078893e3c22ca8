"""Who may be given a case, how busy each mediator is, and the system's automatic
assignment of newly escalated cases.

The console's bulk assignment lists mediators with :func:`candidates` (the rules the
``assign`` service enforces, computed for many cases in a fixed number of queries); the
service still decides each case. :func:`auto_assign` is the system's assignment: when the
marketplace's :class:`~mediation.models.AssignmentPolicy` has it on, a case that entered
the platform's queue goes to the eligible active mediator holding the fewest open cases.

It runs from the outbox (:func:`on_event`, a relay consumer registered in
``workflows.apps``), on the ``dispute.escalated`` event, not inside the escalation's
transaction: a case reaches the queue in six places (the parties' escalation, the
sweeper's deadline transitions in their batches, an overdue remedy, a disputed return,
abusive conduct, an appeal), and the sweeper's batches write a thousand transitions at
once; choosing a mediator (a count of every mediator's open cases) in each would slow
every one of them and serialise escalations on the same mediators. From the outbox the
case is assigned seconds after it was escalated, in its own transaction with its audit
entry and events, and a case a mediator took meanwhile is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count

from mediation.actors import SYSTEM
from mediation.models import (
    AssignmentPolicy,
    Dispute,
    MediatorProfile,
    OutboxEvent,
    ShopMember,
    State,
    Tier,
)
from mediation.money import format_money
from workflows.base import Result, enter, locked_dispute
from workflows.rules import remedy_value, tier_ok

logger = logging.getLogger(__name__)

# The cases a mediator holds and still has work on: their load.
HELD_STATES: tuple[str, ...] = (State.UNDER_REVIEW, State.AWAITING_INFO, State.PENDING_APPROVAL)


def auto_assign_enabled() -> bool:
    """Whether the marketplace has automatic assignment on (its policy row)."""
    return AssignmentPolicy.objects.filter(pk=1, auto_assign=True).exists()


def loads(user_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Open cases held per mediator (user id), in one grouped query; 0 when none."""
    qs = Dispute.objects.filter(state__in=HELD_STATES, assigned_to__isnull=False)
    ids = None if user_ids is None else list(user_ids)
    if ids is not None:
        qs = qs.filter(assigned_to_id__in=ids)
    rows = qs.values("assigned_to_id").annotate(n=Count("pk")).order_by()
    counts = {row["assigned_to_id"]: row["n"] for row in rows}
    return {uid: counts.get(uid, 0) for uid in ids} if ids is not None else counts


def conflicts(disputes: list[Dispute], user_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(dispute id, user id) pairs where the user is the dispute's buyer or a member of
    its shop (the conflict of interest the services refuse), in one query."""
    ids = set(user_ids)
    pairs = {(d.pk, d.buyer_id) for d in disputes if d.buyer_id in ids}
    shops = {d.shop_id for d in disputes}
    members: dict[int, set[int]] = {}
    for shop_id, user_id in ShopMember.objects.filter(
        shop_id__in=shops, user_id__in=ids
    ).values_list("shop_id", "user_id"):
        members.setdefault(shop_id, set()).add(user_id)
    for d in disputes:
        pairs |= {(d.pk, uid) for uid in members.get(d.shop_id, ())}
    return pairs


def refusal(profile: MediatorProfile, dispute: Dispute, conflicted: set[tuple[int, int]]) -> str:
    """Why ``profile`` may not be given ``dispute`` by a lead ("" when they may): the rules
    of the ``assign`` service (state, conflict of interest, an appeal's tier)."""
    if dispute.state not in (State.ESCALATED, State.UNDER_REVIEW, State.AWAITING_INFO):
        return f"it is {dispute.get_state_display().lower()}"
    if (dispute.pk, profile.user_id) in conflicted:
        return "a party to it (its buyer or a member of its shop)"
    if not tier_ok(profile, dispute):
        return f"the appeal needs a {dispute.required_tier} or higher"
    return ""


@dataclass
class Candidate:
    """A mediator as the bulk assignment page lists them."""

    profile: MediatorProfile
    load: int
    eligible: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    # Their authority in each currency of the cases ("no limit" for a lead), and the cases
    # whose request is beyond it: they may take them, but such a ruling waits for approval.
    authority: list[str] = field(default_factory=list)
    beyond: list[int] = field(default_factory=list)


def candidates(disputes: list[Dispute]) -> list[Candidate]:
    """Every active mediator, their load and which of ``disputes`` they may be given, in
    three queries whatever the number of cases or mediators (``disputes`` loaded with their
    order and items)."""
    profiles = list(
        MediatorProfile.objects.filter(active=True)
        .select_related("user")
        .order_by("user__username")
    )
    user_ids = [p.user_id for p in profiles]
    load = loads(user_ids)
    conflicted = conflicts(disputes, user_ids)
    result = []
    for p in profiles:
        c = Candidate(profile=p, load=load[p.user_id])
        currencies = sorted({d.order.currency for d in disputes})
        c.authority = (
            ["no limit"]
            if p.tier == Tier.LEAD
            else [format_money(p.authority_for(cur) or 0, cur) for cur in currencies]
        )
        for d in disputes:
            why = refusal(p, d, conflicted)
            if why:
                c.refused[d.pk] = why
            else:
                c.eligible.append(d.pk)
                value = remedy_value(d, d.requested_outcome, d.requested_amount)
                if not p.covers(value, d.order.currency):
                    c.beyond.append(d.pk)
        result.append(c)
    return result


def choose(dispute: Dispute) -> MediatorProfile | None:
    """The mediator the system gives ``dispute`` to: among active mediators of the tier the
    case needs (an appeal's), whose authority covers what the buyer asks for and who are no
    party to it, the one holding the fewest open cases; on a tie the lower tier (seniors and
    leads stay free for what only they may hear), then the earlier account."""
    profiles = list(MediatorProfile.objects.filter(active=True).select_related("user"))
    currency = dispute.order.currency
    value = remedy_value(dispute, dispute.requested_outcome, dispute.requested_amount)
    conflicted = conflicts([dispute], [p.user_id for p in profiles])
    eligible = [
        p
        for p in profiles
        if not refusal(p, dispute, conflicted) and p.covers(value, currency) and p.user.is_active
    ]
    if not eligible:
        return None
    load = loads(p.user_id for p in eligible)
    return min(eligible, key=lambda p: (load[p.user_id], p.rank, p.user_id))


def auto_assign(*, dispute_id: int) -> Result | None:
    """The system gives a case waiting in the queue to a mediator (see :func:`choose`).

    Nothing happens (None) when automatic assignment is off, when the case is no longer
    waiting unassigned in ``escalated`` (a mediator took it, or it moved on), or when no
    mediator is eligible: it then waits in the queue as before. The assignment is the
    ``assign`` step, by the ``system`` actor, with its audit entry (``auto`` and the
    chosen mediator's load in the payload) and its ``dispute.assigned`` event."""
    if not auto_assign_enabled():
        return None
    with locked_dispute(dispute_id, SYSTEM) as ctx:
        d = ctx.dispute
        if d.state != State.ESCALATED or d.assigned_to_id is not None:
            return None
        chosen = choose(d)
        if chosen is None:
            logger.info("No eligible mediator for dispute %s; it waits in the queue.", d.pk)
            return None
        held = loads([chosen.user_id])[chosen.user_id]
        d.assign()
        d.assigned_to = chosen.user
        enter(ctx)
        ctx.record(
            "assign",
            {
                "mediator": chosen.user.get_username(),
                "previous": None,
                "auto": True,
                "open_cases": held,
            },
        )
    return Result(ctx.dispute)


def on_event(event: OutboxEvent) -> None:
    """The relay's consumer: a case that entered the queue is offered to :func:`auto_assign`.
    Safe to run twice: a case already assigned is left alone."""
    if event.type != "dispute.escalated" or event.dispute_id is None:
        return
    auto_assign(dispute_id=event.dispute_id)


__all__ = [
    "HELD_STATES",
    "Candidate",
    "auto_assign",
    "auto_assign_enabled",
    "candidates",
    "choose",
    "conflicts",
    "loads",
    "on_event",
    "refusal",
]
