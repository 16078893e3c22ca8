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
* **feedback breakdown**: the same ratings (count, average, how many low: 1 or 2) per
  mediator (who held the case when it was rated; "no mediator" when the parties settled
  it alone), per outcome rated, and the low ratings per reason given; per shop, the
  :data:`TOP_SHOPS` shops with the most low ratings (then the lowest average). A rating
  counts under what the case was when it was given, even if an appeal changed it later.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from mediation.errors import InvalidInput, RuleViolation
from mediation.models import (
    LOW_RATING,
    SLA_STATES,
    AuditEntry,
    Dispute,
    DisputeDayCount,
    EscalationReason,
    Feedback,
    FeedbackDayCount,
    FeedbackReason,
    OpenedDayCount,
    Order,
    Outcome,
    Party,
    Reason,
    RefundDayTotal,
    ResolutionDayCount,
    Shop,
    ShopCount,
    Span,
    State,
)
from mediation.rollups import RULED, RULED_AGAINST_SHOP, bucket_value

# How many shops the per-shop table lists (highest dispute rate first).
TOP_SHOPS = 10


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_window(params: Any, *, allow_empty: bool = False) -> tuple[date | None, date | None]:
    """``since`` and ``until`` from the query string; 400 ``invalid_date`` for a value that
    is not a calendar date ``YYYY-MM-DD`` (or is given twice, or empty), 422
    ``invalid_date_range`` when since > until."""
    values: dict[str, date | None] = {}
    for name in ("since", "until"):
        if len(getattr(params, "getlist", lambda _: [])(name)) > 1:
            raise InvalidInput(f"Give {name} once.", code="invalid_date", field=name)
        raw = params.get(name)
        if raw is None or (allow_empty and raw == ""):  # a form's empty field: no bound
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
        raise RuleViolation("since is after until.", code="invalid_date_range")
    return since, until


def window_bounds(
    since: date | None, until: date | None
) -> tuple[datetime | None, datetime | None]:
    """The half-open datetime range ``[start, end)`` of the inclusive dates, in
    ``TIME_ZONE`` (the days of the rollups)."""
    tz = timezone.get_default_timezone()
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


# Up to this many closed disputes, the median is computed from their exact durations (one
# sort); past it, from the rollup's histogram of 1 % buckets (within 1 %).
EXACT_MEDIAN_LIMIT = 2_000


def _median_seconds(
    disputes: QuerySet[Dispute],
    n: int,
    since: date | None,
    until: date | None,
) -> float | None:
    """The median of ``closed_at - created_at`` over the closed disputes: the middle one
    or two durations."""
    if n == 0:
        return None
    middle = [(n - 1) // 2, n // 2]
    if n <= EXACT_MEDIAN_LIMIT:
        duration = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
        values = list(
            disputes.filter(state=State.CLOSED, closed_at__isnull=False)
            .annotate(duration=duration)
            .order_by("duration", "pk")
            .values_list("duration", flat=True)[middle[0] : middle[1] + 1]
        )
        seconds = [d.total_seconds() for d in values]
    else:
        buckets = (
            _window(ResolutionDayCount.objects.all(), since, until)
            .values_list("bucket")
            .annotate(count=Sum("n"))
            .order_by("bucket")
        )
        seconds, seen = [], 0
        for bucket, count in buckets:
            while len(seconds) < 2 and middle[len(seconds)] < seen + count:
                seconds.append(bucket_value(bucket))
            seen += count
            if len(seconds) == 2:
                break
        if not seconds:
            return None
    return round(sum(seconds) / len(seconds), 1)


def _days(rows: QuerySet[Any], since: date | None, until: date | None) -> QuerySet[Any]:
    """Day rows of a dated rollup for the days in the window (both inclusive)."""
    rows = rows.filter(span=Span.DAY)
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    return rows.order_by()


def _opened(since: date | None, until: date | None) -> QuerySet[Any]:
    """(day, disputes created) of the window's days, from the opened rollup."""
    rows = OpenedDayCount.objects.all()
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    return rows.order_by().values_list("day", "n")


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _window(rows: QuerySet[Any], since: date | None, until: date | None) -> QuerySet[Any]:
    """Rows of a dated rollup that count each day of the window (both inclusive) once:
    the month rows of the months wholly inside it, and the day rows of the days it takes
    from the months at its ends. Without a window, the month rows alone."""
    # Whole months: from ``first`` (a month's first day) up to ``end`` (excluded).
    first = None if since is None else since if since.day == 1 else _next_month(since)
    end: date | None = None
    if until is not None:
        after = until + timedelta(days=1)
        end = after if after.day == 1 else until.replace(day=1)
    if first is not None and end is not None and first >= end:
        return _days(rows, since, until)
    months = Q(span=Span.MONTH)
    if first is not None:
        months &= Q(day__gte=first)
    if end is not None:
        months &= Q(day__lt=end)
    edges = Q(pk__in=[])
    if since is not None and first is not None and since < first:
        edges |= Q(span=Span.DAY, day__gte=since, day__lt=first)
    if until is not None and end is not None and end <= until:
        edges |= Q(span=Span.DAY, day__gte=end, day__lte=until)
    return rows.filter(months | edges).order_by()


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

    # 1. Every count over the disputes, from the day rollup (mediation.rollups): a few
    # hundred rows a day, whatever the number of disputes.
    groups = list(
        _window(DisputeDayCount.objects.all(), since, until)
        .values("state", "reason", "outcome", "escalation_reason", "ruled", "breached", "timed")
        .annotate(count=Sum("n"))
        .order_by()
    )
    totals = _totals(groups)
    # Past the platform's deadline right now: open disputes in the SLA states, few, on the
    # (state, respond_by) index.
    overdue = dict(
        disputes.filter(state__in=SLA_STATES, respond_by__lt=now)
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    for value in SLA_STATES:
        totals[f"overdue:{value}"] = overdue.get(value, 0)
    totals["overdue_now"] = sum(overdue.values())

    def prefixed(prefix: str) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in totals.items() if k.startswith(prefix + ":")}

    # 2. Opened per week (weeks start on Monday, as TruncWeek's).
    opened = _weeks(
        {"week": day - timedelta(days=day.weekday()), "count": count}
        for day, count in _opened(since, until)
    )

    # 3. Median time to resolution.
    median = _median_seconds(disputes, totals["closed_timed"], since, until)

    # 4. SLA breaches flagged by the sweeper, per week.
    breaches = _weeks(
        AuditEntry.objects.filter(_via("dispute", in_window), action="sla_breached")
        .order_by()
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("pk"))
    )

    # 5. Refunds recorded, per currency and funder (when recorded), from the rollup.
    refunds = [
        {
            "currency": row["currency"],
            "funded_by": row["funded_by"] or "unspecified",
            "amount": row["amount"],
            "count": row["count"],
        }
        for row in _window(RefundDayTotal.objects.all(), since, until)
        .values("currency", "funded_by")
        .annotate(amount=Sum("amount"), count=Sum("n"))
        .order_by("currency", "funded_by")
    ]

    # 6. Per-shop rates: ever, from the shops' rollup; in a window, counted over the
    # window's disputes and orders.
    if since is None and until is None:
        shops = _shops_ever()
    else:
        shops = _shops(in_window, _range("placed_at", start, end))

    # 7. Feedback per party, and broken down (8), from one read of the rollup.
    rated = list(
        _window(FeedbackDayCount.objects.all(), since, until)
        .values_list("party", "mediator_id", "outcome", "reason", "rating")
        .annotate(count=Sum("n"))
        .order_by()
    )
    feedback_rows: dict[str, dict[str, Any]] = {}
    for party, _, _, _, rating, count in rated:
        row = feedback_rows.setdefault(party, {"count": 0, "total": 0})
        row["count"] += count
        row["total"] += rating * count
        row[f"r{rating}"] = row.get(f"r{rating}", 0) + count
    for row in feedback_rows.values():
        row["average"] = row["total"] / row["count"] if row["count"] else None
    feedback = []
    for value, label in Party.choices:
        given: dict[str, Any] = feedback_rows.get(value, {})
        feedback.append(
            {
                "party": value,
                "label": str(label),
                "count": given.get("count", 0),
                "average": (
                    round(given["average"], 2) if given.get("average") is not None else None
                ),
                "distribution": [given.get(f"r{r}", 0) for r in range(1, 6)],
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
        "feedback_breakdown": _feedback_breakdown(
            rated, since is None and until is None, in_window
        ),
    }


def _totals(groups: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The figures of :func:`dispute_stats` summed from the day rollup's groups (state,
    reason, outcome, escalation reason, ruled, breached, timed) with their counts."""
    totals: dict[str, int] = defaultdict(int)
    for key in ("total", "closed", "closed_timed", "breached", "without_platform"):
        totals[key] = 0
    for prefix, choices in (
        ("reason", Reason),
        ("state", State),
        ("outcome", Outcome),
        ("alone", Outcome),
        ("escalation", EscalationReason),
    ):
        for value in choices.values:
            totals[f"{prefix}:{value}"] = 0
    for row in groups:
        n = row["count"]
        totals["total"] += n
        totals[f"reason:{row['reason']}"] += n
        totals[f"state:{row['state']}"] += n
        if row["breached"]:
            totals["breached"] += n
        if row["escalation_reason"]:
            totals[f"escalation:{row['escalation_reason']}"] += n
        if row["state"] != State.CLOSED:
            continue
        totals["closed"] += n
        if row["timed"]:
            totals["closed_timed"] += n
        if row["outcome"]:
            totals[f"outcome:{row['outcome']}"] += n
        # Never in the platform's queue, and never ruled on.
        if not row["escalation_reason"] and not row["ruled"]:
            totals["without_platform"] += n
            if row["outcome"]:
                totals[f"alone:{row['outcome']}"] += n
    return dict(totals)


def _shops_ever() -> list[dict[str, Any]]:
    """The shops with the highest dispute rate ever, from the shops' rollup (one row a
    shop), ranked by the database."""
    # The first rows of the ranking's index (shop_count_rate_rank), then the names of the
    # few listed.
    rows = list(
        ShopCount.objects.filter(disputes__gt=0)
        .order_by("-dispute_rate", "-disputes", "shop_id")
        .values("shop_id", "disputes", "ruled", "ruled_against", "orders", "dispute_rate")[
            :TOP_SHOPS
        ]
    )
    names = {
        shop["id"]: shop
        for shop in Shop.objects.filter(pk__in=[row["shop_id"] for row in rows]).values(
            "id", "slug", "name"
        )
    }
    return [
        _shop_row(
            names[row["shop_id"]],
            orders=row["orders"],
            disputes=row["disputes"],
            ruled=row["ruled"],
            ruled_against=row["ruled_against"],
            rate=row["dispute_rate"] if row["dispute_rate"] >= 0 else None,
        )
        for row in rows
    ]


def _shop_row(
    shop: Mapping[str, Any],
    *,
    orders: int,
    disputes: int,
    ruled: int,
    ruled_against: int,
    rate: float | None,
) -> dict[str, Any]:
    """One line of the per-shop table."""
    return {
        **shop,
        "orders": orders,
        "disputes": disputes,
        "dispute_rate": round(rate, 4) if rate is not None else None,
        "ruled": ruled,
        "ruled_against": ruled_against,
        "ruled_against_share": _share(ruled_against, ruled),
    }


def _shops(in_window: Q, orders_in_window: Q) -> list[dict[str, Any]]:
    """The shops with the highest dispute rate (disputes per order): two GROUP BY shop
    queries (disputes, orders), ranked here, and the names of the :data:`TOP_SHOPS`."""
    per_shop = {
        row["shop_id"]: row
        for row in Dispute.objects.filter(in_window)
        .order_by()
        .values("shop_id")
        .annotate(
            disputes_n=Count("pk"),
            ruled_n=Count("pk", filter=Q(outcome__in=RULED)),
            against_n=Count("pk", filter=Q(outcome__in=RULED_AGAINST_SHOP)),
        )
    }
    orders = dict(
        Order.objects.filter(orders_in_window, shop_id__in=_ids_or_all(per_shop))
        .order_by()
        .values_list("shop_id")
        .annotate(n=Count("pk"))
    )

    def rate(shop_id: int) -> float | None:
        placed = orders.get(shop_id, 0)
        return per_shop[shop_id]["disputes_n"] / placed if placed else None

    # Highest rate first (shops without orders in the window last), then most disputes.
    ranked = sorted(
        per_shop,
        key=lambda pk: (
            rate(pk) is None,
            -(rate(pk) or 0.0),
            -per_shop[pk]["disputes_n"],
            pk,
        ),
    )[:TOP_SHOPS]
    shops = Shop.objects.filter(pk__in=ranked).values("id", "slug", "name")
    names = {row["id"]: row for row in shops}
    return [
        _shop_row(
            names[pk],
            orders=orders.get(pk, 0),
            disputes=per_shop[pk]["disputes_n"],
            ruled=per_shop[pk]["ruled_n"],
            ruled_against=per_shop[pk]["against_n"],
            rate=rate(pk),
        )
        for pk in ranked
    ]


def _ids_or_all(per_shop: dict[int, Any]) -> Any:
    """Orders are counted for the shops with disputes only; past a few thousand shops an
    ``IN`` list costs more than counting every shop's orders."""
    if len(per_shop) <= 2000:
        return sorted(per_shop)
    return Shop.objects.values("pk")


def _scores(count: int, total: int, low: int) -> dict[str, Any]:
    return {
        "count": count,
        "average": round(total / count, 2) if count else None,
        "low": low,
    }


def _feedback_breakdown(rated: Iterable[Any], ever: bool, in_window: Q) -> dict[str, Any]:
    """The ratings per mediator, outcome and reason (``rated``: the feedback rollup's rows
    of the window, per party, mediator, outcome, reason and rating, with their count) and
    per shop (the shops' rollup ever; in a window, one GROUP BY shop over the window's
    ratings)."""
    by_mediator: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_outcome: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_reason: dict[str, int] = defaultdict(int)
    for _, mediator_id, outcome, reason, rating, n in rated:
        low = n if rating <= LOW_RATING else 0
        for acc in (by_mediator[mediator_id], by_outcome[outcome]):
            acc[0] += n
            acc[1] += rating * n
            acc[2] += low
        if low:
            by_reason[reason] += low
    names = {
        u.pk: u.get_full_name() or u.get_username()
        for u in get_user_model().objects.filter(pk__in=[k for k in by_mediator if k])
    }
    mediators = [
        {
            "mediator_id": pk or None,
            "name": names.get(pk, f"user {pk}") if pk else "No mediator (settled by the parties)",
            **_scores(*acc),
        }
        for pk, acc in by_mediator.items()
    ]
    mediators.sort(key=lambda row: (row["mediator_id"] is None, -row["count"], row["name"]))
    outcomes = [
        {"outcome": value, "label": str(label), **_scores(*by_outcome.get(value, [0, 0, 0]))}
        for value, label in Outcome.choices
    ]
    reasons = [
        {"reason": value, "label": str(label), "count": by_reason.get(value, 0)}
        for value, label in [*FeedbackReason.choices, ("", "No reason given")]
    ]
    return {
        "by_mediator": mediators,
        "by_outcome": outcomes,
        "by_reason": reasons,
        "by_shop": _rated_shops(ever, in_window),
    }


def _rated_shops(ever: bool, in_window: Q) -> list[dict[str, Any]]:
    """The :data:`TOP_SHOPS` shops whose cases got the most low ratings, then the lowest
    average, then the most ratings."""
    low = Count("pk", filter=Q(rating__lte=LOW_RATING))
    if ever:
        # The first rows of the ranking's index (shop_count_rating_rank).
        ranked = (
            ShopCount.objects.filter(ratings__gt=0)
            .order_by("-low_ratings", "average_rating", "-ratings", "shop_id")
            .values_list("shop_id", "ratings", "rating_sum", "low_ratings")[:TOP_SHOPS]
        )
        found = [(row[0], row[1], row[2], row[3]) for row in ranked]
    else:
        grouped = (
            Feedback.objects.filter(_via("dispute", in_window))
            .values_list("dispute__shop_id")
            .annotate(n=Count("pk"), total=Sum("rating"), low=low)
            .annotate(avg=Cast(F("total"), FloatField()) / Cast(F("n"), FloatField()))
            .order_by("-low", "avg", "-n", "dispute__shop_id")[:TOP_SHOPS]
        )
        found = [(row[0], row[1], row[2], row[3]) for row in grouped]
    shops = {
        row["id"]: row
        for row in Shop.objects.filter(pk__in=[r[0] for r in found]).values("id", "slug", "name")
    }
    return [
        {**shops[shop_id], **_scores(n, total, lows)}
        for shop_id, n, total, lows in found
        if shop_id in shops
    ]


def low_ratings(limit: int = 20) -> list[dict[str, Any]]:
    """The latest low ratings (``LOW_RATING`` or less), newest first, for the mediators'
    follow-up: the case, who rated it, the score, the reason and the comment. Read on the
    partial index of low ratings, whatever the number of ratings."""
    rows = (
        Feedback.objects.filter(rating__lte=LOW_RATING)
        .select_related("dispute__shop", "dispute__order")
        .order_by("-created_at")[:limit]
    )
    return [
        {
            "dispute_id": f.dispute_id,
            "order": f.dispute.order.external_id,
            "shop": f.dispute.shop.name,
            "party": f.party,
            "rating": f.rating,
            "reason": f.get_reason_display() if f.reason else "",
            "comment": f.comment,
            "at": f.created_at,
            "outcome": f.dispute.get_outcome_display(),
        }
        for f in rows
    ]
