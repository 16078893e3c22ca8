"""The work queue's figures, apart from the admin's plumbing: how a case stands against its
deadline (on track, at risk, breached), which amount the queue shows, and the mediator's
own work on the console's home page.

- :func:`sla_status`: ``breached`` past the deadline; ``at_risk`` when less than
  :data:`AT_RISK_SHARE` of the state's allotted time (the deadline policy table) is left;
  ``on_track`` otherwise; ``None`` for a closed case.
- :func:`shown_amount`: a ruling waiting for approval shows its value (what the approver
  decides on), an agreed remedy its amount, any other case the buyer's request.
- :func:`my_work`: the home page's three lists (cases waiting for my approval, the cases I
  hold by deadline, the unassigned escalated cases of my tier), each a few rows read
  through an index, with a bounded count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from mediation.actors import mediator_profile
from mediation.models import (
    DEADLINE_STATES,
    Dispute,
    Ruling,
    RulingStatus,
    State,
)
from mediation.money import format_money
from workflows import policy
from workflows.review import awaiting_approval_by
from workflows.rules import not_a_party, within_tier

# A case is at risk once less than this share of its state's deadline is left.
AT_RISK_SHARE = 0.25

SLA_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
}


def sla_status(dispute: Dispute, now: datetime | None = None) -> str | None:
    if dispute.respond_by is None or dispute.state not in DEADLINE_STATES:
        return None
    now = now or timezone.now()
    left = dispute.respond_by - now
    if left.total_seconds() < 0:
        return "breached"
    allotted = policy.duration(dispute.state, dispute.reason)
    if allotted and left <= allotted * AT_RISK_SHARE:
        return "at_risk"
    return "on_track"


def with_pending_ruling(qs: QuerySet[Dispute]) -> QuerySet[Dispute]:
    """``pending_ruling_value``: the value of the ruling waiting for approval, if any (one
    indexed subquery per row of the page)."""
    pending = Ruling.objects.filter(
        dispute_id=OuterRef("pk"), status=RulingStatus.PENDING_APPROVAL
    ).order_by("-pk")
    return qs.annotate(pending_ruling_value=Subquery(pending.values("value")[:1]))


def shown_amount(dispute: Dispute) -> tuple[str, str]:
    """(label, money) of the amount the queue shows for the case."""
    currency = dispute.order.currency
    ruled = getattr(dispute, "pending_ruling_value", None)
    if dispute.state == State.PENDING_APPROVAL and ruled is not None:
        return "ruled", format_money(ruled, currency)
    if dispute.agreed_kind:
        return "agreed", format_money(dispute.agreed_amount, currency)
    return "requested", format_money(dispute.requested_amount, currency)


# --- The home page ----------------------------------------------------------------------------

# Rows of each list on the home page, and how far each is counted.
HOME_ROWS = 8
HOME_COUNT_LIMIT = 100


@dataclass
class WorkList:
    key: str
    title: str
    empty: str
    link: str
    rows: list[Dispute]
    count: int

    @property
    def count_label(self) -> str:
        return f"{HOME_COUNT_LIMIT}+" if self.count > HOME_COUNT_LIMIT else str(self.count)


def _bounded_count(qs: QuerySet[Dispute]) -> int:
    return qs.order_by()[: HOME_COUNT_LIMIT + 1].count()


def _page(qs: QuerySet[Dispute]) -> list[Dispute]:
    rows = with_pending_ruling(
        qs.select_related("order", "shop", "buyer", "assigned_to").order_by("respond_by", "pk")
    )
    return list(rows[:HOME_ROWS])


def tier_queue(user: Any) -> Q | None:
    """Escalated cases nobody holds that ``user`` may take: an appeal's required tier at
    most theirs, and never a case they are a party to (the assign action's rules)."""
    profile = mediator_profile(user)
    if profile is None:
        return None
    return (
        Q(state=State.ESCALATED, assigned_to__isnull=True)
        & within_tier(profile)
        & not_a_party(user.pk)
    )


def _work(key: str, title: str, empty: str, link: str, qs: QuerySet[Dispute]) -> WorkList:
    return WorkList(key, title, empty, link, _page(qs), _bounded_count(qs))


def my_work(user: Any) -> list[WorkList]:
    queue = reverse("admin:mediation_dispute_changelist")
    lists = []
    approvals = awaiting_approval_by(user)
    if approvals is not None:
        lists.append(
            _work(
                "approvals",
                "Waiting for my approval",
                "No ruling waits for your approval.",
                f"{queue}?approval=mine",
                Dispute.objects.filter(approvals),
            )
        )
    lists.append(
        _work(
            "mine",
            "My cases, by deadline",
            "You hold no open case.",
            f"{queue}?assigned=me",
            Dispute.objects.filter(~Q(state=State.CLOSED), assigned_to_id=user.pk),
        )
    )
    unassigned = tier_queue(user)
    if unassigned is not None:
        lists.append(
            _work(
                "unassigned",
                "Unassigned, for my tier",
                "No escalated case waits for a mediator.",
                f"{queue}?assigned=none",
                Dispute.objects.filter(unassigned),
            )
        )
    return lists
