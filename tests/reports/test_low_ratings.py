"""Feedback with a low score carries an optional reason, and the dashboard lists the low
ratings for the mediators' follow-up."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import AuditEntry, Feedback
from tests.console.helpers import browser
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db


def rate(sc: Scenario, who: str, **body: Any) -> Any:
    return as_user(sc[who]).post(f"/api/v1/disputes/{sc.id}/feedback/", body, format="json")


def test_a_low_rating_may_say_why_and_reaches_the_dashboard() -> None:
    sc = dispute_in("closed", outcome="ruled_for_seller")
    r = rate(sc, "buyer", rating=1, comment="Nobody looked at my photos.", reason="unfair_outcome")
    assert r.status_code == 201, r.json()
    assert r.json()["reason"] == "unfair_outcome"
    entry = AuditEntry.objects.filter(dispute_id=sc.id, action="feedback").get()
    assert entry.payload["reason"] == "unfair_outcome"
    assert rate(sc, "owner", rating=5).status_code == 201
    page = browser(sc["mediator_agent"]).get("/admin/dashboard/").content.decode()
    section = page[page.index('id="dashboard-low-ratings"') :]
    assert f"/admin/mediation/dispute/{sc.id}/change/" in section
    assert "The outcome was unfair" in section and "Nobody looked at my photos." in section
    assert "1/5" in section and "5/5" not in section.split("</table>")[0]


def test_a_reason_goes_with_a_low_rating_only() -> None:
    sc = dispute_in("closed", outcome="agreement")
    r = rate(sc, "buyer", rating=4, reason="too_slow")
    assert (r.status_code, r.json()["code"]) == (422, "reason_needs_low_rating")
    r = rate(sc, "buyer", rating=2, reason="because")
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert not Feedback.objects.filter(dispute_id=sc.id).exists()
    assert rate(sc, "buyer", rating=2).status_code == 201  # the reason is optional


def test_no_low_ratings_says_so() -> None:
    sc = dispute_in("escalated")
    page = browser(sc["mediator_agent"]).get("/admin/dashboard/").content.decode()
    assert "No low ratings" in page
