"""The stats break the ratings down by mediator, outcome, reason and shop (issue 12, item
12): from the rollups kept with each rating, equal to a count of the ratings themselves."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from mediation import rollups
from mediation.models import Feedback
from reports.stats import TOP_SHOPS, dispute_stats
from tests.console.helpers import browser
from tests.scenarios import Scenario, _rule, as_user, dispute_in, make_cast
from workflows import transitions as t
from workflows.conversation import leave_feedback

pytestmark = pytest.mark.django_db


def rate(sc: Scenario, who: str, rating: int, reason: str = "") -> None:
    leave_feedback(dispute_id=sc.id, actor=sc[who], rating=rating, reason=reason)


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


@pytest.fixture
def rated() -> dict[str, Scenario]:
    """A ruling the buyer rated low (the agent mediator held it), a second ruling by the
    same mediator rated well, and an agreement the parties settled alone."""
    ruled = dispute_in("closed", outcome="ruled_for_seller")
    rate(ruled, "buyer", 1, "unfair_outcome")
    rate(ruled, "owner", 5)
    again = dispute_in("closed", outcome="ruled_for_buyer", cast=make_cast())
    rate(again, "buyer", 4)
    agreed = dispute_in("closed", outcome="agreement", cast=make_cast())
    rate(agreed, "buyer", 2)
    rate(agreed, "owner", 2, "too_slow")
    return {"ruled": ruled, "again": again, "agreed": agreed}


def test_a_rating_records_what_was_rated(rated: dict[str, Scenario]) -> None:
    ruled = rated["ruled"]
    f = Feedback.objects.get(dispute_id=ruled.id, party="buyer")
    assert (f.outcome, f.mediator_id) == ("ruled_for_seller", ruled["mediator_agent"].pk)
    f = Feedback.objects.get(dispute_id=rated["agreed"].id, party="seller")
    assert (f.outcome, f.mediator_id) == ("agreement", None)


def test_ratings_by_mediator_outcome_reason_and_shop(rated: dict[str, Scenario]) -> None:
    fb = dispute_stats()["feedback_breakdown"]
    mediator = rated["ruled"]["mediator_agent"]
    mediators = by(fb["by_mediator"], "mediator_id")
    # Both rulings were made by the same agent mediator (every cast shares the mediators).
    assert mediators[mediator.pk]["count"] == 2
    assert mediators[mediator.pk]["average"] == 3.0 and mediators[mediator.pk]["low"] == 1
    assert mediators[mediator.pk]["name"] == (mediator.get_full_name() or mediator.username)
    nobody = mediators[None]
    assert (nobody["count"], nobody["average"], nobody["low"]) == (2, 2.0, 2)
    assert nobody["name"] == "No mediator (settled by the parties)"
    assert fb["by_mediator"][-1]["mediator_id"] is None  # listed last

    outcomes = by(fb["by_outcome"], "outcome")
    assert (outcomes["ruled_for_seller"]["count"], outcomes["ruled_for_seller"]["low"]) == (2, 1)
    assert outcomes["agreement"]["average"] == 2.0
    assert outcomes["withdrawn"] == {
        "outcome": "withdrawn",
        "label": "Withdrawn",
        "count": 0,
        "average": None,
        "low": 0,
    }

    reasons = {row["reason"]: row["count"] for row in fb["by_reason"]}
    assert reasons == {
        "too_slow": 1,
        "unfair_outcome": 1,
        "poor_communication": 0,
        "not_resolved": 0,
        "other": 0,
        "": 1,  # the buyer's 2 on the agreement gave no reason
    }

    # The shop with two low ratings first, then the one with one, then the one with none.
    slugs = [row["slug"] for row in fb["by_shop"]]
    assert slugs == [
        rated["agreed"].cast.shop.slug,
        rated["ruled"].cast.shop.slug,
        rated["again"].cast.shop.slug,
    ]
    assert fb["by_shop"][0] | {"id": 0} == {
        "id": 0,
        "slug": rated["agreed"].cast.shop.slug,
        "name": rated["agreed"].cast.shop.name,
        "count": 2,
        "average": 2.0,
        "low": 2,
    }


def test_a_window_gives_the_same_breakdown_counted_from_the_ratings(
    rated: dict[str, Scenario],
) -> None:
    today = timezone.localdate()
    ever = dispute_stats()["feedback_breakdown"]
    window = dispute_stats(since=today - timedelta(days=1), until=today)["feedback_breakdown"]
    assert window == ever
    before = dispute_stats(until=date(2020, 1, 1))["feedback_breakdown"]
    assert before["by_mediator"] == [] and before["by_shop"] == []


def test_the_rollups_equal_the_ratings(rated: dict[str, Scenario]) -> None:
    assert rollups.snapshot() == rollups.expected()
    assert rollups.snapshot()["feedback"]  # the new dimensions are kept, not left empty


def test_an_appeal_does_not_move_a_rating_given_before_it() -> None:
    sc = dispute_in("closed", outcome="ruled_for_seller")
    rate(sc, "buyer", 1, "unfair_outcome")
    t.appeal(dispute_id=sc.id, actor=sc["buyer"], reason="Please look again.")
    sc.dispute.refresh_from_db()
    hearing = "mediator_lead" if sc.dispute.required_tier == "lead" else "mediator_senior"
    _rule(sc.cast, sc.dispute, kind="full_refund", amount=None, ruled_by=hearing)
    outcomes = by(dispute_stats()["feedback_breakdown"]["by_outcome"], "outcome")
    assert outcomes["ruled_for_seller"]["low"] == 1
    assert rollups.snapshot() == rollups.expected()


def test_the_shops_listed_are_bounded() -> None:
    for _ in range(TOP_SHOPS + 2):
        sc = dispute_in("closed", outcome="withdrawn", cast=make_cast())
        rate(sc, "buyer", 3)
    assert len(dispute_stats()["feedback_breakdown"]["by_shop"]) == TOP_SHOPS


def test_the_api_and_the_dashboard_show_the_breakdown(rated: dict[str, Scenario]) -> None:
    mediator = rated["ruled"]["mediator_agent"]
    r = as_user(mediator).get("/api/v1/stats/")
    assert r.status_code == 200
    fb = r.json()["feedback_breakdown"]
    assert {row["mediator_id"] for row in fb["by_mediator"]} >= {mediator.pk, None}
    assert fb["by_shop"][0]["slug"] == rated["agreed"].cast.shop.slug

    page = browser(mediator).get("/admin/dashboard/").content.decode()
    section = page[page.index('id="dashboard-ratings"') :].split('id="dashboard-shops"')[0]
    for table in (
        "ratings-by-mediator",
        "ratings-by-outcome",
        "ratings-by-reason",
        "ratings-by-shop",
    ):
        assert f'id="{table}"' in section
    assert "No mediator (settled by the parties)" in section
    assert "The outcome was unfair" in section and rated["agreed"].cast.shop.name in section


def test_no_ratings_says_so() -> None:
    mediator = make_cast().mediator_agent
    page = browser(mediator).get("/admin/dashboard/").content.decode()
    assert "No ratings in this window." in page
