"""What the platform learns from its disputes: the numbers behind the console's dashboard and
``GET /api/v1/stats/`` (issue 6, item 5).

:func:`dispute_stats` answers in a constant number of queries, whatever the number of
disputes: every figure is an aggregate computed by the database (conditional ``COUNT``,
``SUM``, ``AVG``, ``GROUP BY`` a truncated week, an ``ORDER BY ... OFFSET`` for the median);
Python only fills empty weeks and divides totals. It works on SQLite and PostgreSQL alike.

Definitions (the README's "Dashboard" section repeats them):

* **window**: ``since``/``until`` are dates, both inclusive, in the server's time zone; they
  select disputes by ``created_at`` (and orders by ``placed_at`` for the per-shop rates).
  Every figure is about the disputes of the window; without one, about all disputes.
* **median time to resolution**: over closed disputes, ``closed_at - created_at`` (a
  dispute reopened by an appeal counts once it closes again).
* **SLA breaches**: ``overdue_now`` counts disputes whose platform deadline has passed right
  now (``escalated``, ``under_review``, ``pending_approval`` with ``respond_by`` in the past,
  the states the sweeper flags); ``per_week`` counts the sweeper's ``sla_breached`` audit
  entries by the week they were written; ``disputes_breached`` the disputes flagged at least
  once.
* **resolved without the platform**: a closed dispute that never entered the platform's
  queue: ``escalation_reason`` is blank (it is set on every escalation, by a party, a
  deadline or an appeal, and never cleared) and no ruling was made. Its outcome is then
  ``agreement``, ``withdrawn`` or ``lapsed``. The share is over all closed disputes.
* **refunds by funder**: the refunds actually recorded (fulfilment rows of kind ``refund``),
  summed per currency (amounts in minor units are never added across currencies) and per
  funder of the remedy (``seller``, or ``platform`` for a goodwill ruling it pays).
* **per-shop rates**: disputes raised per order placed with the shop, and of the disputes a
  mediator ruled, the share ruled against the shop (``ruled_for_buyer`` or
  ``ruled_partial``). The :data:`TOP_SHOPS` shops with the highest dispute rate are listed.
* **feedback**: per party, the number of ratings, their average and the count of each
  rating from 1 to 5.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncWeek
from django.utils import timezone

from mediation.errors import InvalidInput
from mediation.models import (
    SLA_STATES,
    AuditEntry,
    Dispute,
    EscalationReason,
    Feedback,
    Fulfilment,
    FulfilmentKind,
    Order,
    Outcome,
    Party,
    Reason,
    Shop,
    State,
)

# How many shops the per-shop table lists (highest dispute rate first).
TOP_SHOPS = 10
# Outcomes a mediator decided, and those of them that went against the shop.
RULED = (Outcome.RULED_FOR_BUYER, Outcome.RULED_FOR_SELLER, Outcome.RULED_PARTIAL)
RULED_AGAINST_SHOP = (Outcome.RULED_FOR_BUYER, Outcome.RULED_PARTIAL)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_window(params: Any) -> tuple[date | None, date | None]:
    """``since`` and ``until`` from the query string; 400 ``invalid_date`` for a value that
    is not a calendar date ``YYYY-MM-DD``, 400 ``invalid_date_range`` when since > until."""
    values: dict[str, date | None] = {}
    for name in ("since", "until"):
        raw = params.get(name)
        if raw in (None, ""):
            values[name] = None
            continue
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError
            values[name] = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(
                f"{name} must be a date written YYYY-MM-DD.", code="invalid_date", field=name
            ) from None
    since, until = values["since"], values["until"]
    if since and until and since > until:
        raise InvalidInput("since is after until.", code="invalid_date_range")
    return since, until


def window_bounds(
    since: date | None, until: date | None
) -> tuple[datetime | None, datetime | None]:
    """The half-open datetime range ``[start, end)`` of the inclusive dates."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, tzinfo=tz) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until else None
    return start, end


def _range(field: str, start: datetime | None, end: datetime | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{field}__lt": end})
    return q


def _via(relation: str, q: Q) -> Q:
    """The window's condition (a plain AND of lookups), seen through ``relation``."""
    lookups = cast(list[tuple[str, Any]], q.children)
    return Q(*[(f"{relation}__{k}", v) for k, v in lookups])


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _weeks(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """``[{week, count}]`` for every week from the first to the last, empty ones as 0."""
    counts: dict[date, int] = {}
    for row in rows:
        week = row["week"]
        week = week.date() if isinstance(week, datetime) else week
        counts[week] = counts.get(week, 0) + row["count"]
    if not counts:
        return []
    series = []
    week, last = min(counts), max(counts)
    while week <= last:
        series.append({"week": week.isoformat(), "count": counts.get(week, 0)})
        week += timedelta(days=7)
    return series


def _median_seconds(closed: QuerySet[Dispute], n: int) -> float | None:
    """The median of ``closed_at - created_at``: the middle one or two rows of the sorted
    durations (one ``ORDER BY ... LIMIT/OFFSET`` query, on any database)."""
    if n == 0:
        return None
    duration = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    middle = list(
        closed.annotate(duration=duration)
        .order_by("duration", "pk")
        .values_list("duration", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    seconds = [d.total_seconds() for d in middle]
    return round(sum(seconds) / len(seconds), 1)


def _choices(counts: dict[str, int], key: str, choices: Any) -> list[dict[str, Any]]:
    return [
        {key: value, "label": str(label), "count": counts.get(value, 0)}
        for value, label in choices.choices
    ]


def dispute_stats(
    *, since: date | None = None, until: date | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Every figure of the dashboard, for the disputes created in the window."""
    now = now or timezone.now()
    start, end = window_bounds(since, until)
    in_window = _range("created_at", start, end)
    disputes = Dispute.objects.filter(in_window).order_by()

    # 1. One row of conditional counts: totals, reasons, states, outcomes, SLA, platform.
    closed_q = Q(state=State.CLOSED)
    never_escalated = Q(escalation_reason="", ruled_at__isnull=True)
    counts: dict[str, Any] = {
        "total": Count("pk"),
        "closed": Count("pk", filter=closed_q),
        "closed_timed": Count("pk", filter=closed_q & Q(closed_at__isnull=False)),
        "overdue_now": Count("pk", filter=Q(state__in=SLA_STATES, respond_by__lt=now)),
        "breached": Count("pk", filter=Q(overdue_flagged_for__isnull=False)),
        "without_platform": Count("pk", filter=closed_q & never_escalated),
    }
    for value in Reason.values:
        counts[f"reason:{value}"] = Count("pk", filter=Q(reason=value))
    for value in State.values:
        counts[f"state:{value}"] = Count("pk", filter=Q(state=value))
        if value in SLA_STATES:
            counts[f"overdue:{value}"] = Count("pk", filter=Q(state=value, respond_by__lt=now))
    for value in Outcome.values:
        counts[f"outcome:{value}"] = Count("pk", filter=closed_q & Q(outcome=value))
        counts[f"alone:{value}"] = Count("pk", filter=closed_q & never_escalated & Q(outcome=value))
    for value in EscalationReason.values:
        counts[f"escalation:{value}"] = Count("pk", filter=Q(escalation_reason=value))
    totals = disputes.aggregate(**counts)

    def prefixed(prefix: str) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in totals.items() if k.startswith(prefix + ":")}

    # 2. Opened per week.
    opened = _weeks(
        disputes.annotate(week=TruncWeek("created_at")).values("week").annotate(count=Count("pk"))
    )

    # 3. Median time to resolution.
    closed = disputes.filter(closed_q, closed_at__isnull=False)
    median = _median_seconds(closed, totals["closed_timed"])

    # 4. SLA breaches flagged by the sweeper, per week.
    breaches = _weeks(
        AuditEntry.objects.filter(_via("dispute", in_window), action="sla_breached")
        .order_by()
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("pk"))
    )

    # 5. Refunds recorded, per currency and funder.
    refunds = [
        {
            "currency": row["currency"],
            "funded_by": row["funded_by"] or "unspecified",
            "amount": row["amount"],
            "count": row["count"],
        }
        for row in Fulfilment.objects.filter(_via("dispute", in_window), kind=FulfilmentKind.REFUND)
        .order_by()
        .values(currency=F("dispute__order__currency"), funded_by=F("dispute__funded_by"))
        .annotate(amount=Sum("amount"), count=Count("pk"))
        .order_by("currency", "funded_by")
    ]

    # 6. Per-shop rates.
    shops = _shops(in_window, _range("placed_at", start, end))

    # 7. Feedback per party.
    ratings = {f"r{r}": Count("pk", filter=Q(rating=r)) for r in range(1, 6)}
    feedback_rows: dict[str, dict[str, Any]] = {
        row["party"]: dict(row)
        for row in Feedback.objects.filter(_via("dispute", in_window))
        .order_by()
        .values("party")
        .annotate(count=Count("pk"), average=Avg("rating"), **ratings)
    }
    feedback = []
    for value, label in Party.choices:
        row: dict[str, Any] = feedback_rows.get(value, {})
        feedback.append(
            {
                "party": value,
                "label": str(label),
                "count": row.get("count", 0),
                "average": round(row["average"], 2) if row.get("average") is not None else None,
                "distribution": [row.get(f"r{r}", 0) for r in range(1, 6)],
            }
        )

    closed_n = totals["closed"]
    return {
        "window": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
        "generated_at": now,
        "totals": {
            "disputes": totals["total"],
            "open": totals["total"] - closed_n,
            "closed": closed_n,
        },
        "opened_per_week": opened,
        "by_reason": _choices(prefixed("reason"), "reason", Reason),
        "by_state": _choices(prefixed("state"), "state", State),
        "outcomes": _choices(prefixed("outcome"), "outcome", Outcome),
        "escalation_reasons": _choices(prefixed("escalation"), "reason", EscalationReason),
        "resolution": {"closed": totals["closed_timed"], "median_seconds": median},
        "sla": {
            "overdue_now": totals["overdue_now"],
            "overdue_now_by_state": [
                {"state": s, "label": str(State(s).label), "count": totals[f"overdue:{s}"]}
                for s in SLA_STATES
            ],
            "disputes_breached": totals["breached"],
            "breaches_flagged": sum(w["count"] for w in breaches),
            "breaches_per_week": breaches,
        },
        "without_platform": {
            "closed": closed_n,
            "resolved": totals["without_platform"],
            "share": _share(totals["without_platform"], closed_n),
            "by_outcome": [
                {"outcome": o, "label": str(Outcome(o).label), "count": c}
                for o, c in prefixed("alone").items()
                if o in (Outcome.AGREEMENT, Outcome.WITHDRAWN, Outcome.LAPSED)
            ],
        },
        "refunds": refunds,
        "shops": shops,
        "feedback": feedback,
    }


def _shops(in_window: Q, orders_in_window: Q) -> list[dict[str, Any]]:
    """The shops with the highest dispute rate (disputes per order), one query: a counting
    subquery per shop (each an index range on ``shop_id``), no join fanning out."""

    def count(model: Any, condition: Q) -> Coalesce:
        rows = (
            model.objects.filter(condition, shop_id=OuterRef("pk"))
            .order_by()
            .values("shop_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    qs = (
        Shop.objects.annotate(
            disputes_n=count(Dispute, in_window),
            ruled_n=count(Dispute, in_window & Q(outcome__in=RULED)),
            against_n=count(Dispute, in_window & Q(outcome__in=RULED_AGAINST_SHOP)),
            orders_n=count(Order, orders_in_window),
        )
        .filter(disputes_n__gt=0)
        .annotate(
            rate=Cast("disputes_n", FloatField()) / NullIf(Cast("orders_n", FloatField()), 0.0)
        )
        .order_by(F("rate").desc(nulls_last=True), "-disputes_n", "pk")
        .values("pk", "slug", "name", "disputes_n", "ruled_n", "against_n", "orders_n", "rate")
    )[:TOP_SHOPS]
    return [
        {
            "id": row["pk"],
            "slug": row["slug"],
            "name": row["name"],
            "orders": row["orders_n"],
            "disputes": row["disputes_n"],
            "dispute_rate": round(row["rate"], 4) if row["rate"] is not None else None,
            "ruled": row["ruled_n"],
            "ruled_against": row["against_n"],
            "ruled_against_share": _share(row["against_n"], row["ruled_n"]),
        }
        for row in qs
    ]
