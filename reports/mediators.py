"""Per-mediator SLA figures for the dashboard: first response time, time to ruling and SLA
breaches, for the disputes created in the dashboard's window.

Read from the audit log, each figure in one grouped query whatever the number of mediators
(never a query per mediator):

* **First response**: from the case's first entry into the platform's queue (its first
  audit entry with ``to_state = escalated``) to the first step a mediator took towards the
  parties (a message, a request for information or a ruling), counted for the mediator who
  took it.
* **Time to ruling**: from the same escalation to the first ruling proposed on the case,
  counted for its proposer (a ruling that waited for approval counts when proposed).
* **Breaches**: the sweeper's ``sla_breached`` flags, each counted for the mediator who held
  the case then (the last assignment before the flag); a flag raised while the case waited
  unassigned in the queue is counted under "not assigned".

Unlike the dashboard's other counts these are not kept in rollups: they read the audit
entries of the window's disputes (each lookup on the ``(dispute, seq)`` index), so their
cost grows with the window, not with the number of mediators.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT

from mediation.models import AuditEntry, Dispute, State
from reports.stats import window_bounds

# The steps that answer the parties: the mediator's first response.
RESPONSES = ("message", "request_info", "rule")
NOT_ASSIGNED = "(not assigned)"


def _window(relation: str, since: date | None, until: date | None) -> Q:
    """The disputes created in the window, seen from ``relation`` ("" for the dispute)."""
    start, end = window_bounds(since, until)
    prefix = f"{relation}__" if relation else ""
    q = Q()
    if start is not None:
        q &= Q(**{f"{prefix}created_at__gte": start})
    if end is not None:
        q &= Q(**{f"{prefix}created_at__lt": end})
    return q


def _entries(**lookups: Any) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(dispute_id=OuterRef("pk"), **lookups).order_by("seq")


def _timed(first: QuerySet[AuditEntry], disputes: QuerySet[Dispute]) -> list[dict[str, Any]]:
    """Per mediator (the actor of each dispute's entry ``first``), how many disputes and the
    average time from the dispute's first escalation to that entry (the first such entry
    after the escalation: a mediator's message while the parties still negotiated does not
    count)."""
    escalated = _entries(to_state=State.ESCALATED)
    after = first.filter(seq__gt=OuterRef("escalated_seq"))
    rows = (
        disputes.annotate(
            escalated_seq=Subquery(escalated.values("seq")[:1]),
            escalated_at=Subquery(escalated.values("created_at")[:1]),
        )
        .annotate(
            done_at=Subquery(after.values("created_at")[:1]),
            mediator=Subquery(after.values("actor__username")[:1]),
        )
        .filter(escalated_at__isnull=False, mediator__isnull=False)
        .values("mediator")
        .annotate(
            n=Count("pk"),
            average=Avg(
                ExpressionWrapper(F("done_at") - F("escalated_at"), output_field=DurationField())
            ),
        )
        .order_by()
    )
    return [dict(r) for r in rows]


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def mediator_sla(*, since: date | None = None, until: date | None = None) -> list[dict[str, Any]]:
    """One row per mediator with any figure in the window (three queries in all), by user
    name; "(not assigned)" last, for breaches of cases nobody held."""
    disputes = Dispute.objects.filter(_window("", since, until)).order_by()
    responses = _timed(
        _entries(actor_role="mediator", action__in=RESPONSES, actor__isnull=False), disputes
    )
    rulings = _timed(_entries(action="rule", actor__isnull=False), disputes)
    holder = Subquery(
        AuditEntry.objects.filter(
            dispute_id=OuterRef("dispute_id"), action="assign", seq__lt=OuterRef("seq")
        )
        .order_by("-seq")
        .annotate(name=KT("payload__mediator"))
        .values("name")[:1],
        output_field=CharField(),
    )
    breaches = (
        AuditEntry.objects.filter(_window("dispute", since, until), action="sla_breached")
        .annotate(
            mediator=Case(
                When(payload__state=State.ESCALATED, then=Value(None, output_field=CharField())),
                default=holder,
                output_field=CharField(),
            )
        )
        .values("mediator")
        .annotate(n=Count("pk"))
        .order_by()
    )
    table: dict[str, dict[str, Any]] = {}

    def row(name: str | None) -> dict[str, Any]:
        key = name or NOT_ASSIGNED
        return table.setdefault(
            key,
            {
                "mediator": key,
                "first_responses": 0,
                "first_response_seconds": None,
                "rulings": 0,
                "ruling_seconds": None,
                "breaches": 0,
            },
        )

    for r in responses:
        entry = row(r["mediator"])
        entry["first_responses"] = r["n"]
        entry["first_response_seconds"] = _seconds(r["average"])
    for r in rulings:
        entry = row(r["mediator"])
        entry["rulings"] = r["n"]
        entry["ruling_seconds"] = _seconds(r["average"])
    for b in breaches:
        row(b["mediator"])["breaches"] += b["n"]
    return sorted(table.values(), key=lambda e: (e["mediator"] == NOT_ASSIGNED, e["mediator"]))


__all__ = ["NOT_ASSIGNED", "RESPONSES", "mediator_sla"]
