"""The party history of the console, in the API and the queue: a mediator's
``GET /disputes/{id}/`` carries ``party_history`` (rates, flags and their thresholds), and
the console's queue filters "flagged parties" by the same rule."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import Dispute
from mediation.party_history import flagged_buyer_ids, flagged_shop_ids
from tests.console.helpers import browser
from tests.scenarios import Scenario, as_user, dispute_in, make_cast

pytestmark = pytest.mark.django_db


def serial_claimant(settings: Any) -> tuple[Scenario, Scenario]:
    """A buyer with three disputes on their one order, in a marketplace of eleven orders;
    and an unflagged dispute of another buyer with another shop."""
    cast = make_cast()
    for _ in range(10):
        cast.new_order(buyer=cast.other_buyer, shop=cast.other_shop)
    dispute_in("closed", outcome="agreement", cast=cast)
    dispute_in("closed", outcome="withdrawn", cast=cast)
    current = dispute_in("escalated", cast=cast)
    settings.SERIAL_CLAIMANT_MIN_DISPUTES = 3
    settings.SERIAL_CLAIMANT_RATE_FACTOR = 2
    settings.PROBLEM_SELLER_MIN_DISPUTES = 50
    other = dispute_in("escalated")
    return current, other


def test_a_mediator_reads_the_party_history_with_the_dispute(settings: Any) -> None:
    current, _ = serial_claimant(settings)
    body = as_user(current["mediator_agent"]).get(f"/api/v1/disputes/{current.id}/").json()
    history = body["party_history"]
    assert history["buyer"]["disputes"] == 3 and history["buyer"]["disputed_orders"] == 1
    assert history["buyer"]["dispute_rate"] == 1.0
    assert (
        len(history["buyer_flags"]) >= 1 and "disputed 1 of 1 orders" in history["buyer_flags"][0]
    )
    assert history["shop_flags"] == []
    assert history["thresholds"]["serial_claimant"] == {
        "min_disputes": 3,
        "dispute_rate_factor": 2,
        "win_rate_factor": settings.SERIAL_CLAIMANT_WIN_RATE_FACTOR,
    }
    assert history["marketplace"]["orders"] >= 11


def test_the_parties_and_lists_do_not_carry_it(settings: Any) -> None:
    current, _ = serial_claimant(settings)
    for who in ("buyer", "owner", "platform"):
        body = as_user(current[who]).get(f"/api/v1/disputes/{current.id}/").json()
        assert body["party_history"] is None, who
    listed = as_user(current["mediator_agent"]).get("/api/v1/disputes/").json()["results"]
    assert {d["party_history"] is None for d in listed} == {True}


def test_the_queue_filters_flagged_parties(settings: Any) -> None:
    current, other = serial_claimant(settings)
    assert current.dispute.buyer_id in flagged_buyer_ids()
    assert other.dispute.buyer_id not in flagged_buyer_ids()
    queue = browser(current["mediator_agent"]).get("/admin/mediation/dispute/?flagged=yes")
    page = queue.content.decode()
    assert f"/admin/mediation/dispute/{current.id}/change/" in page
    assert f"/admin/mediation/dispute/{other.id}/change/" not in page
    assert "Flagged parties" in page


def test_flagged_shops_follow_the_problem_seller_rule(settings: Any) -> None:
    cast = make_cast()
    for _ in range(10):
        cast.new_order(buyer=cast.other_buyer, shop=cast.other_shop)
    dispute_in("closed", outcome="agreement", cast=cast)
    current = dispute_in("escalated", cast=cast)
    settings.PROBLEM_SELLER_MIN_DISPUTES = 2
    settings.PROBLEM_SELLER_RATE_FACTOR = 2
    assert flagged_shop_ids() == [cast.shop.pk]
    body = as_user(cast.mediator_agent).get(f"/api/v1/disputes/{current.id}/").json()
    assert body["party_history"]["shop_flags"]
    settings.PROBLEM_SELLER_MIN_DISPUTES = 5
    assert flagged_shop_ids() == []
    assert Dispute.objects.filter(shop=cast.shop).count() == 2
