"""The dated rollups keep a row per month beside the rows per day, and a window reads its
whole months from the month rows and its cut months' days from the day rows: every window
counts each dispute of its days once, as a count of the disputes does."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation import rollups
from mediation.models import Dispute, DisputeDayCount, Span
from reports.stats import dispute_stats
from tests.scenarios import make_cast, raise_dispute
from workflows import transitions as t

pytestmark = pytest.mark.django_db

# Month ends and starts, a leap day, a year's turn.
DAYS = [
    date(2024, 1, 31),
    date(2024, 2, 1),
    date(2024, 2, 29),
    date(2024, 3, 1),
    date(2024, 3, 15),
    date(2024, 3, 31),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 1, 20),
]
BOUNDS: list[date | None] = [
    None,
    date(2024, 1, 1),
    date(2024, 1, 31),
    date(2024, 2, 1),
    date(2024, 2, 28),
    date(2024, 2, 29),
    date(2024, 3, 2),
    date(2024, 3, 31),
    date(2024, 4, 1),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 1, 31),
]


@pytest.fixture
def spread() -> list[Dispute]:
    """A dispute created on each of DAYS (every other one withdrawn), the creation times
    moved around the services and the rollups rebuilt from the data."""
    cast = make_cast()
    tz = timezone.get_default_timezone()
    disputes = []
    for i, day in enumerate(DAYS):
        d = raise_dispute(cast, order=cast.new_order())
        if i % 2:
            t.withdraw(dispute_id=d.pk, actor=cast.buyer, note="Sorted.")
        created = datetime.combine(day, time(12), tzinfo=tz)
        Dispute.objects.filter(pk=d.pk).update(created_at=created)
        disputes.append(d)
    rollups.rebuild()
    return disputes


def _counted(since: date | None, until: date | None) -> dict[str, int]:
    tz = timezone.get_default_timezone()
    qs = Dispute.objects.all()
    if since is not None:
        qs = qs.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
        qs = qs.filter(created_at__lt=end)
    return {"disputes": qs.count(), "closed": qs.filter(state="closed").count()}


def test_every_window_counts_each_day_once(spread: list[Dispute]) -> None:
    checked = 0
    for since in BOUNDS:
        for until in BOUNDS:
            if since is not None and until is not None and since > until:
                continue
            s = dispute_stats(since=since, until=until)
            totals = {"disputes": s["totals"]["disputes"], "closed": s["totals"]["closed"]}
            assert totals == _counted(since, until), (since, until)
            weeks = sum(w["count"] for w in s["opened_per_week"])
            assert weeks == totals["disputes"], (since, until)
            checked += 1
    assert checked > 60


def test_the_month_rows_are_the_sums_of_their_days(spread: list[Dispute]) -> None:
    months = DisputeDayCount.objects.filter(span=Span.MONTH)
    assert {row.day for row in months} == {day.replace(day=1) for day in DAYS}
    assert sum(row.n for row in months) == len(DAYS)
    assert rollups.snapshot() == rollups.expected()


def test_a_change_keeps_the_day_and_the_month(spread: list[Dispute]) -> None:
    open_one = next(d for d in spread if Dispute.objects.get(pk=d.pk).state != "closed")
    t.withdraw(dispute_id=open_one.pk, actor=open_one.buyer, note="Sorted now.")
    assert rollups.snapshot() == rollups.expected()
    assert dispute_stats()["totals"]["closed"] == Dispute.objects.filter(state="closed").count()


def test_without_a_window_only_month_rows_are_summed(spread: list[Dispute]) -> None:
    with CaptureQueriesContext(connection) as queries:
        dispute_stats()
    summed = [
        q["sql"]
        for q in queries.captured_queries
        if "SUM(" in q["sql"] and ("daycount" in q["sql"] or "daytotal" in q["sql"])
    ]
    # The counts, the refunds and the feedback read month rows (and the median's
    # histogram, past EXACT_MEDIAN_LIMIT closed disputes); the weekly series reads the
    # disputes opened per day (a row a day), not the day rows.
    months = [sql for sql in summed if "\"span\" = 'm'" in sql]
    assert len(months) == len(summed) >= 3
    assert not [sql for sql in summed if "\"span\" = 'd'" in sql]
    assert [q for q in queries.captured_queries if "openeddaycount" in q["sql"]]
    assert DisputeDayCount.objects.filter(span=Span.MONTH).count() < len(DAYS)
