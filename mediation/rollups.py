"""The dashboard's figures kept as they change, so that reading them costs the same at a
million disputes as at ten (``reports.stats`` reads them).

Every change a figure counts writes its rollup rows in the change's own transaction: a
use case's dispute row (``workflows.base``: the row as locked against the row as saved),
the sweeper's batches, a new dispute, a refund recorded, a rating given, a new order (a
``post_save``
signal, so every way an order is created counts it). A change is a few deltas, written
with one ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`` per table, in key
order (two changes that touch the same rows lock them in the same order: no deadlock).

What is kept (the tables in ``mediation.models``):

* :class:`~mediation.models.DisputeDayCount`: disputes per day of creation and per
  combination of state, reason, outcome, escalation reason, and whether a ruling, an SLA
  breach and a close time were recorded: every count of the dashboard, for any window of
  days, from a few hundred rows a day.
* :class:`~mediation.models.OpenedDayCount`: disputes per day of creation (the weekly
  series).
* :class:`~mediation.models.ResolutionDayCount`: the times to resolution of closed
  disputes per day, in buckets 1 % wide (the median, within 1 %, past
  ``reports.stats.EXACT_MEDIAN_LIMIT`` closed disputes).
* :class:`~mediation.models.RefundDayTotal`: refunds recorded, per day, currency and the
  funder when recorded.
* :class:`~mediation.models.FeedbackDayCount`: ratings per day, party, rating, reason,
  outcome rated and mediator (the ratings' breakdowns).
* :class:`~mediation.models.ShopCount`: each shop's disputes, rulings, rulings against it,
  orders and ratings, ever (the per-shop tables without a window).

The dated tables keep each count twice: in the row of the day and in the row of its month
(``span``), so that a window reads its whole months' rows and the days of the months it
cuts at its ends (``reports.stats``): at a million disputes the dashboard without a window
reads a few thousand rows rather than hundreds of thousands.

Data written around the services (``bulk_create``, ``COPY``, ``.update()``, a restore) is
not counted: run ``manage.py rebuild_rollups`` afterwards (:func:`rebuild`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Model, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.signals import post_save
from django.utils import timezone

from mediation.models import (
    LOW_RATING,
    Dispute,
    DisputeDayCount,
    Feedback,
    FeedbackDayCount,
    Fulfilment,
    FulfilmentKind,
    OpenedDayCount,
    Order,
    Outcome,
    RefundDayTotal,
    ResolutionDayCount,
    ShopCount,
    Span,
    State,
)

RULED = frozenset({Outcome.RULED_FOR_BUYER, Outcome.RULED_FOR_SELLER, Outcome.RULED_PARTIAL})
RULED_AGAINST_SHOP = frozenset({Outcome.RULED_FOR_BUYER, Outcome.RULED_PARTIAL})
# The party history's win rate: closed disputes the buyer won, of those decided (a
# withdrawal decides nothing).
WON = frozenset({Outcome.RULED_FOR_BUYER, Outcome.RULED_PARTIAL, Outcome.AGREEMENT})
DECIDED = WON | {Outcome.RULED_FOR_SELLER, Outcome.LAPSED}

# Histogram buckets of the time to resolution: bucket b holds [1.01**b, 1.01**(b+1))
# seconds; -1 holds under a second.
STEP = 1.01
_LOG_STEP = math.log(STEP)

DAY_KEY = ("day", "state", "reason", "outcome", "escalation_reason", "ruled", "breached", "timed")
# The tables whose rows are dated (their key starts with ``day``): each delta is kept in the
# day's row and in its month's (``Span``).
DATED = frozenset({"day", "resolution", "refund", "feedback"})


def day_of(moment: datetime) -> date:
    """The day a dispute counts under: its creation date in ``TIME_ZONE`` (not the
    zone a request may have activated)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return -1
    return math.floor(math.log(seconds) / _LOG_STEP)


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for: the geometric middle of its range."""
    return 0.0 if bucket < 0 else STEP ** (bucket + 0.5)


# --- What one dispute contributes -------------------------------------------------------

SHOP_COUNTS = (
    "disputes",
    "disputed_orders",
    "ruled",
    "ruled_against",
    "decided",
    "won",
    "orders",
    "ratings",
    "rating_sum",
    "low_ratings",
)
FEEDBACK_KEY = ("day", "party", "rating", "reason", "outcome", "mediator_id")


def _shop_amounts(**counts: int | bool) -> tuple[int, ...]:
    """A shop row's amounts in :data:`SHOP_COUNTS` order, 0 for those not given."""
    return tuple(int(counts.get(name, 0)) for name in SHOP_COUNTS)


def _contributions(values: Mapping[str, Any]) -> dict[str, tuple[tuple[Any, ...], tuple[int, ...]]]:
    """The rollup rows a dispute (its ``__dict__``: column values by attname) counts in,
    with the amounts it adds to each."""
    day = day_of(values["created_at"])
    outcome, closed = values["outcome"], values["state"] == State.CLOSED
    rows: dict[str, tuple[tuple[Any, ...], tuple[int, ...]]] = {
        "day": (
            (
                day,
                values["state"],
                values["reason"],
                outcome,
                values["escalation_reason"],
                values["ruled_at"] is not None,
                values["overdue_flagged_for"] is not None,
                values["closed_at"] is not None,
            ),
            (1,),
        ),
        # Nets to nothing when a dispute changes: counts its creation only.
        "opened": ((day,), (1,)),
        # Disputed orders are counted when a dispute is raised (``first_on_order``).
        "shop": (
            (values["shop_id"],),
            _shop_amounts(
                disputes=1,
                ruled=outcome in RULED,
                ruled_against=outcome in RULED_AGAINST_SHOP,
                decided=closed and outcome in DECIDED,
                won=closed and outcome in WON,
            ),
        ),
    }
    if closed and values["closed_at"] is not None:
        seconds = (values["closed_at"] - values["created_at"]).total_seconds()
        rows["resolution"] = ((day, bucket_of(seconds)), (1,))
    return rows


class _Deltas:
    """Deltas per table and key, summed before they are written."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[Any, ...], list[int]]] = defaultdict(dict)

    def add(self, table: str, key: tuple[Any, ...], amounts: Iterable[int], sign: int) -> None:
        """Add ``amounts`` to the row ``key`` (for a dated table, a key that starts with the
        day: to the day's row and to its month's)."""
        amounts = tuple(amounts)
        if table in DATED:
            day, rest = key[0], key[1:]
            self._add(table, (Span.DAY, day, *rest), amounts, sign)
            self._add(table, (Span.MONTH, day.replace(day=1), *rest), amounts, sign)
        else:
            self._add(table, key, amounts, sign)

    def _add(self, table: str, key: tuple[Any, ...], amounts: tuple[int, ...], sign: int) -> None:
        current = self.rows[table].setdefault(key, [])
        for i, amount in enumerate(amounts):
            if i == len(current):
                current.append(0)
            current[i] += sign * amount

    def dispute(self, values: Mapping[str, Any] | None, sign: int) -> None:
        if values is None:
            return
        for table, (key, amounts) in _contributions(values).items():
            self.add(table, key, amounts, sign)


_TABLES: dict[str, tuple[type[Model], tuple[str, ...], tuple[str, ...]]] = {
    "day": (DisputeDayCount, ("span", *DAY_KEY), ("n",)),
    "opened": (OpenedDayCount, ("day",), ("n",)),
    "resolution": (ResolutionDayCount, ("span", "day", "bucket"), ("n",)),
    "refund": (RefundDayTotal, ("span", "day", "currency", "funded_by"), ("amount", "n")),
    "feedback": (FeedbackDayCount, ("span", *FEEDBACK_KEY), ("n",)),
    "shop": (ShopCount, ("shop_id",), SHOP_COUNTS),
}


def _write(deltas: _Deltas) -> None:
    qn = connection.ops.quote_name
    for table, rows in deltas.rows.items():
        changed = sorted((k, v) for k, v in rows.items() if any(v))
        if not changed:
            continue
        model, keys, values = _TABLES[table]
        name = qn(model._meta.db_table)
        columns = ", ".join(qn(c) for c in (*keys, *values))
        placeholders = "(" + ", ".join(["%s"] * (len(keys) + len(values))) + ")"
        sets = ", ".join(f"{qn(c)} = {name}.{qn(c)} + excluded.{qn(c)}" for c in values)
        sql = (
            f"INSERT INTO {name} ({columns}) VALUES {', '.join([placeholders] * len(changed))} "
            f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {sets}"
        )
        params: list[Any] = []
        for key, amounts in changed:
            params.extend(key)
            params.extend(amounts)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# --- Keeping them -------------------------------------------------------------------------


def disputes_changed(
    changes: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any]]],
    *,
    first_on_order: bool = False,
) -> None:
    """Count disputes that changed, each given as (its values before, or None for a new
    one; its values now), in the caller's transaction. ``first_on_order``: the new
    dispute is the first ever raised on its order (a disputed order more for its shop)."""
    deltas = _Deltas()
    for before, after in changes:
        deltas.dispute(before, -1)
        deltas.dispute(after, +1)
        if before is None and first_on_order:
            deltas.add("shop", (after["shop_id"],), _shop_amounts(disputed_orders=1), +1)
    _write(deltas)


def refund_recorded(dispute: Dispute, amount: int) -> None:
    """Count a refund of ``amount`` recorded on ``dispute`` (its order loaded)."""
    deltas = _Deltas()
    key = (day_of(dispute.created_at), dispute.order.currency, dispute.funded_by)
    deltas.add("refund", key, (amount, 1), +1)
    _write(deltas)


def feedback_given(dispute: Dispute, feedback: Feedback) -> None:
    """Count a rating given on ``dispute``: by day, party, rating, reason, outcome and
    mediator, and in its shop's row."""
    deltas = _Deltas()
    key = (
        day_of(dispute.created_at),
        feedback.party,
        feedback.rating,
        feedback.reason,
        feedback.outcome,
        feedback.mediator_id or 0,
    )
    deltas.add("feedback", key, (1,), +1)
    shop = _shop_amounts(
        ratings=1, rating_sum=feedback.rating, low_ratings=feedback.rating <= LOW_RATING
    )
    deltas.add("shop", (dispute.shop_id,), shop, +1)
    _write(deltas)


def _order_created(sender: Any, instance: Order, created: bool, raw: bool, **kwargs: Any) -> None:
    if created and not raw:
        deltas = _Deltas()
        deltas.add("shop", (instance.shop_id,), _shop_amounts(orders=1), +1)
        _write(deltas)


post_save.connect(_order_created, sender=Order, dispatch_uid="rollups_order_created")


# --- Rebuilding them from the data --------------------------------------------------------


def computed() -> dict[str, list[Model]]:
    """Every rollup row, computed from the disputes, orders and fulfilments (nothing is
    written): what the kept rollups must equal."""
    tz = timezone.get_default_timezone()
    flags = {
        "ruled": ExpressionWrapper(Q(ruled_at__isnull=False), output_field=BooleanField()),
        "breached": ExpressionWrapper(
            Q(overdue_flagged_for__isnull=False), output_field=BooleanField()
        ),
        "timed": ExpressionWrapper(Q(closed_at__isnull=False), output_field=BooleanField()),
    }
    days = (
        Dispute.objects.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=tz), **flags)
        .values(*DAY_KEY)
        .annotate(n=Count("pk"))
    )

    resolution: dict[tuple[date, int], int] = defaultdict(int)
    closed = (
        Dispute.objects.filter(state=State.CLOSED, closed_at__isnull=False)
        .order_by()
        .values_list("created_at", "closed_at")
    )
    for created_at, closed_at in closed.iterator(chunk_size=5000):
        assert closed_at is not None
        key = (day_of(created_at), bucket_of((closed_at - created_at).total_seconds()))
        resolution[key] += 1

    refunds = (
        Fulfilment.objects.filter(kind=FulfilmentKind.REFUND)
        .order_by()
        .values(
            day=TruncDate("dispute__created_at", tzinfo=tz),
            currency=F("dispute__order__currency"),
            funded_by=F("dispute__funded_by"),
        )
        .annotate(amount=Sum("amount"), n=Count("pk"))
    )

    feedback = (
        Feedback.objects.order_by()
        .values(
            "party",
            "rating",
            "reason",
            "outcome",
            day=TruncDate("dispute__created_at", tzinfo=tz),
            mediator_key=Coalesce("mediator", 0),
        )
        .annotate(n=Count("pk"))
    )

    shops: dict[int, ShopCount] = {}
    per_shop = (
        Dispute.objects.order_by()
        .values("shop_id")
        .annotate(
            disputes=Count("pk"),
            disputed_orders=Count("order_id", distinct=True),
            ruled=Count("pk", filter=Q(outcome__in=RULED)),
            ruled_against=Count("pk", filter=Q(outcome__in=RULED_AGAINST_SHOP)),
            decided=Count("pk", filter=Q(state=State.CLOSED, outcome__in=DECIDED)),
            won=Count("pk", filter=Q(state=State.CLOSED, outcome__in=WON)),
        )
    )
    for row in per_shop:
        shops[row["shop_id"]] = ShopCount(**row)
    for shop_id, n in Order.objects.order_by().values_list("shop_id").annotate(Count("pk")):
        shops.setdefault(shop_id, ShopCount(shop_id=shop_id)).orders = n
    rated = (
        Feedback.objects.order_by()
        .values_list("dispute__shop_id")
        .annotate(
            n=Count("pk"), total=Sum("rating"), low=Count("pk", filter=Q(rating__lte=LOW_RATING))
        )
    )
    for shop_id, ratings, rating_sum, low in rated:
        shop = shops.setdefault(shop_id, ShopCount(shop_id=shop_id))
        shop.ratings, shop.rating_sum, shop.low_ratings = ratings, rating_sum, low
    dated: dict[str, list[Model]] = {
        "day": [DisputeDayCount(**row) for row in days.iterator()],
        "resolution": [
            ResolutionDayCount(day=d, bucket=b, n=n) for (d, b), n in resolution.items()
        ],
        "refund": [RefundDayTotal(**row) for row in refunds],
        "feedback": [
            FeedbackDayCount(
                day=row["day"],
                party=row["party"],
                rating=row["rating"],
                reason=row["reason"],
                outcome=row["outcome"],
                mediator_id=row["mediator_key"],
                n=row["n"],
            )
            for row in feedback
        ],
    }
    rows = {table: [*objs, *_months(table, objs)] for table, objs in dated.items()}
    rows["shop"] = list(shops.values())
    opened: dict[date, int] = defaultdict(int)
    for obj in dated["day"]:
        opened[obj.__dict__["day"]] += obj.__dict__["n"]
    rows["opened"] = [OpenedDayCount(day=day, n=n) for day, n in opened.items()]
    return rows


def _months(table: str, days: Iterable[Model]) -> list[Model]:
    """The month rows of a dated table: its day rows summed per month and the rest of
    the key."""
    model, keys, values = _TABLES[table]
    rest = keys[2:]  # after span and day
    sums: dict[tuple[Any, ...], list[int]] = {}
    for obj in days:
        key = (obj.__dict__["day"].replace(day=1), *(getattr(obj, k) for k in rest))
        acc = sums.setdefault(key, [0] * len(values))
        for i, name in enumerate(values):
            acc[i] += getattr(obj, name)
    return [
        model(
            span=Span.MONTH,
            day=key[0],
            **dict(zip(rest, key[1:], strict=True)),
            **dict(zip(values, amounts, strict=True)),
        )
        for key, amounts in sums.items()
    ]


def rebuild() -> dict[str, int]:
    """Replace every rollup by :func:`computed` (in one transaction); the number of rows
    written per table."""
    with transaction.atomic():
        rows = computed()
        written: dict[str, int] = {}
        for table, objs in rows.items():
            model = _TABLES[table][0]
            model._default_manager.all().delete()
            model._default_manager.bulk_create(objs, batch_size=2000)
            written[str(model._meta.verbose_name_plural)] = len(objs)
    return written


def _rows(table: str, objs: Iterable[Model]) -> set[tuple[Any, ...]]:
    _, keys, values = _TABLES[table]
    return {
        row
        for row in (tuple(getattr(o, f) for f in (*keys, *values)) for o in objs)
        if any(row[len(keys) :])
    }


def snapshot() -> dict[str, set[tuple[Any, ...]]]:
    """The kept rollups, every row with a count, as tuples."""
    return {
        table: _rows(table, model._default_manager.all())
        for table, (model, _, _) in _TABLES.items()
    }


def expected() -> dict[str, set[tuple[Any, ...]]]:
    """:func:`computed` as :func:`snapshot` gives it: the two are equal when the rollups
    were kept right."""
    return {table: _rows(table, objs) for table, objs in computed().items()}
