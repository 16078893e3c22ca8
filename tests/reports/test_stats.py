"""The dashboard's figures (reports.stats): exact numbers on a small known dataset, the
date window, real disputes made through the services, and a query count that does not
grow with the number of disputes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.management.commands.bench_stats import _own_timestamps, seed_disputes
from mediation import rollups
from mediation.models import AuditEntry, Dispute, Feedback, Fulfilment, Order, Shop
from reports.stats import dispute_stats
from tests.factories import UserFactory
from tests.scenarios import dispute_in

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def known() -> dict[str, Any]:
    """Shop A: 4 orders, 3 disputes (one agreed, one ruled for the buyer, one escalated and
    overdue); shop B: 2 orders, 1 withdrawn dispute."""
    buyer: Any = UserFactory()
    a = Shop.objects.create(slug="shop-a", name="Shop A")
    b = Shop.objects.create(slug="shop-b", name="Shop B")

    def order(shop: Shop, n: int, placed: datetime) -> Order:
        return Order.objects.create(
            external_id=f"K-{n}",
            buyer=buyer,
            shop=shop,
            currency="USD",
            total=5000,
            placed_at=placed,
        )

    orders = [
        order(a, 1, at(2)),
        order(a, 2, at(3)),
        order(a, 3, at(11)),
        order(b, 4, at(19)),
    ]
    order(a, 5, at(11))  # no dispute
    order(b, 6, at(25))  # no dispute
    base = {"buyer": buyer, "requested_outcome": "full_refund", "description": "x"}
    rows = [
        Dispute(
            order=orders[0],
            shop=a,
            reason="not_received",
            state="closed",
            outcome="agreement",
            created_at=at(3),
            closed_at=at(3, 12),
            funded_by="seller",
            **base,
        ),
        Dispute(
            order=orders[1],
            shop=a,
            reason="damaged_or_defective",
            state="closed",
            outcome="ruled_for_buyer",
            escalation_reason="buyer_request",
            ruled_at=at(4, 15),
            created_at=at(4),
            closed_at=at(4, 20),
            funded_by="platform",
            **base,
        ),
        Dispute(
            order=orders[2],
            shop=a,
            reason="damaged_or_defective",
            state="escalated",
            escalation_reason="seller_no_response",
            created_at=at(12),
            respond_by=NOW - timedelta(hours=1),
            overdue_flagged_for=at(13),
            **base,
        ),
        Dispute(
            order=orders[3],
            shop=b,
            reason="wrong_item",
            state="closed",
            outcome="withdrawn",
            created_at=at(20),
            closed_at=at(20, 14),
            **base,
        ),
    ]
    with _own_timestamps(Dispute):
        d1, d2, d3, d4 = Dispute.objects.bulk_create(rows)
    Fulfilment.objects.create(dispute=d1, kind="refund", amount=1000, recorded_by=buyer)
    Fulfilment.objects.create(dispute=d2, kind="refund", amount=2000, recorded_by=buyer)
    Fulfilment.objects.create(dispute=d2, kind="replacement_shipment", recorded_by=buyer)
    Feedback.objects.create(dispute=d1, party="buyer", author=buyer, rating=5)
    Feedback.objects.create(dispute=d1, party="seller", author=buyer, rating=4)
    Feedback.objects.create(dispute=d2, party="buyer", author=buyer, rating=2)
    AuditEntry.objects.create(
        dispute=d3,
        seq=1,
        actor_display="system",
        actor_role="system",
        action="sla_breached",
        created_at=at(13),
        hash="0" * 64,
    )
    # Written around the services: the rollups are rebuilt, as after a bulk import.
    rollups.rebuild()
    return {"disputes": (d1, d2, d3, d4), "shops": (a, b)}


def counts(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {row[key]: row["count"] for row in rows if row["count"]}


def test_exact_figures(known: dict[str, Any]) -> None:
    s = dispute_stats(now=NOW)
    assert s["totals"] == {"disputes": 4, "open": 1, "closed": 3}
    assert s["opened_per_week"] == [
        {"week": "2025-03-03", "count": 2},
        {"week": "2025-03-10", "count": 1},
        {"week": "2025-03-17", "count": 1},
    ]
    assert counts(s["by_reason"], "reason") == {
        "not_received": 1,
        "damaged_or_defective": 2,
        "wrong_item": 1,
    }
    assert len(s["by_reason"]) == 8  # every reason, zeros included, for a stable chart
    assert counts(s["by_state"], "state") == {"closed": 3, "escalated": 1}
    assert counts(s["outcomes"], "outcome") == {
        "agreement": 1,
        "ruled_for_buyer": 1,
        "withdrawn": 1,
    }
    assert counts(s["escalation_reasons"], "reason") == {
        "buyer_request": 1,
        "seller_no_response": 1,
    }
    # Durations 2 h, 10 h and 4 h: the median is 4 h.
    assert s["resolution"] == {"closed": 3, "median_seconds": 4 * 3600}
    assert s["sla"]["overdue_now"] == 1
    assert counts(s["sla"]["overdue_now_by_state"], "state") == {"escalated": 1}
    assert s["sla"]["disputes_breached"] == 1
    assert s["sla"]["breaches_flagged"] == 1
    assert s["sla"]["breaches_per_week"] == [{"week": "2025-03-10", "count": 1}]
    wp = s["without_platform"]
    assert (wp["closed"], wp["resolved"], wp["share"]) == (3, 2, 0.6667)
    assert counts(wp["by_outcome"], "outcome") == {"agreement": 1, "withdrawn": 1}
    assert s["refunds"] == [
        {"currency": "USD", "funded_by": "platform", "amount": 2000, "count": 1},
        {"currency": "USD", "funded_by": "seller", "amount": 1000, "count": 1},
    ]
    assert [(x["slug"], x["orders"], x["disputes"], x["dispute_rate"]) for x in s["shops"]] == [
        ("shop-a", 4, 3, 0.75),
        ("shop-b", 2, 1, 0.5),
    ]
    assert [(x["ruled"], x["ruled_against"], x["ruled_against_share"]) for x in s["shops"]] == [
        (1, 1, 1.0),
        (0, 0, None),
    ]
    assert s["feedback"] == [
        {
            "party": "buyer",
            "label": "Buyer",
            "count": 2,
            "average": 3.5,
            "distribution": [0, 1, 0, 0, 1],
        },
        {
            "party": "seller",
            "label": "Seller",
            "count": 1,
            "average": 4.0,
            "distribution": [0, 0, 0, 1, 0],
        },
    ]


def test_window_selects_disputes_by_creation_day(known: dict[str, Any]) -> None:
    s = dispute_stats(since=date(2025, 3, 10), until=date(2025, 3, 12), now=NOW)
    assert s["window"] == {"since": "2025-03-10", "until": "2025-03-12"}
    assert s["totals"] == {"disputes": 1, "open": 1, "closed": 0}  # until is inclusive
    assert s["resolution"] == {"closed": 0, "median_seconds": None}
    assert s["without_platform"]["share"] is None
    assert s["sla"]["breaches_flagged"] == 1
    assert s["refunds"] == []
    # Shop A's orders placed in the window: 2 (one disputed).
    assert [(x["slug"], x["orders"], x["disputes"]) for x in s["shops"]] == [("shop-a", 2, 1)]
    assert dispute_stats(since=date(2025, 3, 21), now=NOW)["totals"]["disputes"] == 0


def test_empty() -> None:
    s = dispute_stats()
    assert s["totals"] == {"disputes": 0, "open": 0, "closed": 0}
    assert s["opened_per_week"] == [] and s["shops"] == [] and s["refunds"] == []
    assert s["resolution"]["median_seconds"] is None


def test_even_number_of_closed_disputes_averages_the_middle_two(known: dict[str, Any]) -> None:
    # Without shop B's 4 h: 2 h and 10 h.
    s = dispute_stats(until=date(2025, 3, 19), now=NOW)
    assert s["resolution"] == {"closed": 2, "median_seconds": 6 * 3600}


def test_disputes_made_through_the_services() -> None:
    agreed = dispute_in("closed", outcome="agreement")
    dispute_in("closed", outcome="ruled_for_seller", cast=agreed.cast)
    s = dispute_stats()
    assert s["totals"]["closed"] == 2
    wp = s["without_platform"]
    assert (wp["resolved"], wp["share"]) == (1, 0.5)
    assert counts(s["outcomes"], "outcome") == {"agreement": 1, "ruled_for_seller": 1}
    assert s["resolution"]["median_seconds"] is not None
    shop = next(x for x in s["shops"] if x["slug"] == agreed.cast.shop.slug)
    assert (shop["disputes"], shop["ruled"], shop["ruled_against"]) == (2, 1, 0)


def _queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        dispute_stats()
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_disputes() -> None:
    seed_disputes(10)
    small = _queries()
    seed_disputes(2000)
    assert Dispute.objects.count() == 2010
    large = _queries()
    # 9 for the figures, and the feedback breakdown: its rollup, the shops' ranking (and,
    # when there are ratings, the mediators' and the shops' names).
    assert small == large <= 13
