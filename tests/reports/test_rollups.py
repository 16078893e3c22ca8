"""The dashboard's rollups (mediation.rollups) are kept in the transaction of every change
they count: after real use through the services they equal a computation from the data,
and the figures read from them equal the figures counted from the disputes."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from mediation import rollups
from mediation.models import Dispute, DisputeDayCount, ShopCount
from reports import stats
from reports.stats import dispute_stats
from tests.scenarios import dispute_in, make_cast, make_overdue, raise_dispute
from workflows.conversation import leave_feedback
from workflows.sweeper import sweep

pytestmark = pytest.mark.django_db

STATES = [
    "awaiting_seller",
    "awaiting_buyer",
    "escalated",
    "under_review",
    "pending_approval",
    "awaiting_fulfilment",
    "closed",
]


def _use(cast: Any) -> None:
    """A marketplace's day: disputes raised, negotiated, escalated, ruled, refunded,
    swept past their deadlines (the recipes of tests.scenarios, through the services)."""
    for state in STATES:
        dispute_in(state, cast=cast if state == "awaiting_seller" else None)
    agreed = dispute_in("closed", outcome="agreement")
    leave_feedback(dispute_id=agreed.id, actor=agreed["buyer"], rating=5)
    leave_feedback(dispute_id=agreed.id, actor=agreed["owner"], rating=3)
    dispute_in("closed", outcome="ruled_for_buyer")
    dispute_in("closed", outcome="ruled_for_seller", appealed=True)
    overdue = raise_dispute(cast, order=cast.new_order())
    make_overdue(overdue)
    flagged = dispute_in("escalated", cast=cast, order=cast.new_order())
    make_overdue(flagged.dispute)
    sweep()


def test_kept_rollups_equal_the_data_after_real_use(db: Any) -> None:
    cast = make_cast()
    _use(cast)
    assert rollups.snapshot() == rollups.expected()
    assert (
        ShopCount.objects.get(shop=cast.shop).disputes
        == Dispute.objects.filter(shop=cast.shop).count()
    )
    # And the command agrees.
    out = io.StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "match" in out.getvalue()


def test_the_check_names_a_rollup_that_drifted(db: Any) -> None:
    cast = make_cast()
    raise_dispute(cast, order=cast.new_order())
    DisputeDayCount.objects.update(n=F("n") + 1)  # written around the services
    with pytest.raises(Exception, match="day"):
        call_command("rebuild_rollups", "--check", stdout=io.StringIO())
    call_command("rebuild_rollups", stdout=io.StringIO())
    assert rollups.snapshot() == rollups.expected()


def test_figures_from_the_rollups_equal_a_count_of_the_disputes(db: Any) -> None:
    cast = make_cast()
    _use(cast)
    s = dispute_stats()
    disputes = Dispute.objects.all()
    assert s["totals"]["disputes"] == disputes.count()
    assert s["totals"]["closed"] == disputes.filter(state="closed").count()
    by_state = {row["state"]: row["count"] for row in s["by_state"]}
    for state in STATES:
        assert by_state[state] == disputes.filter(state=state).count(), state
    assert s["sla"]["disputes_breached"] == disputes.exclude(overdue_flagged_for=None).count()
    assert s["sla"]["disputes_breached"] >= 1
    ratings = {row["party"]: (row["count"], row["average"]) for row in s["feedback"]}
    assert ratings == {"buyer": (1, 5.0), "seller": (1, 3.0)}
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    week = (today - timedelta(days=today.weekday())).isoformat()
    assert s["opened_per_week"] == [{"week": week, "count": disputes.count()}]
    shop = next(row for row in s["shops"] if row["id"] == cast.shop.pk)
    assert shop["disputes"] == disputes.filter(shop=cast.shop).count()
    # The same figures for a window that holds every dispute (counted, not rolled up).
    windowed = dispute_stats(since=today, until=today)
    for key in ("totals", "by_state", "by_reason", "outcomes", "resolution", "refunds", "feedback"):
        assert windowed[key] == s[key], key
    assert [(r["id"], r["disputes"]) for r in windowed["shops"]] == [
        (r["id"], r["disputes"]) for r in s["shops"]
    ]


def test_the_median_from_the_histogram_is_within_one_percent(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hours in (2, 10, 4):
        d = dispute_in("closed").dispute
        assert d.closed_at is not None
        Dispute.objects.filter(pk=d.pk).update(created_at=d.closed_at - timedelta(hours=hours))
    rollups.rebuild()  # the creation times were moved around the services
    exact = dispute_stats()["resolution"]
    assert exact == {"closed": 3, "median_seconds": 4 * 3600}
    monkeypatch.setattr(stats, "EXACT_MEDIAN_LIMIT", 0)
    approximate = dispute_stats()["resolution"]
    assert approximate["closed"] == 3
    assert approximate["median_seconds"] == pytest.approx(exact["median_seconds"], rel=0.01)


def test_buckets_hold_what_they_stand_for() -> None:
    for seconds in (0.5, 1, 59, 3600, 86400 * 3, 86400 * 400):
        bucket = rollups.bucket_of(seconds)
        assert rollups.bucket_value(bucket) == pytest.approx(seconds, rel=0.01, abs=0.5)


def test_a_breach_flagged_outside_a_batch_is_counted(db: Any) -> None:
    """flag_overdue records an audit entry without marking the dispute changed: its
    breached flag still moves the day's count."""
    from workflows.sweeper import flag_overdue

    flagged = dispute_in("escalated")
    make_overdue(flagged.dispute)
    flag_overdue(dispute_id=flagged.id)
    assert Dispute.objects.get(pk=flagged.id).overdue_flagged_for is not None
    assert rollups.snapshot() == rollups.expected()
    assert dispute_stats()["sla"]["disputes_breached"] == 1
