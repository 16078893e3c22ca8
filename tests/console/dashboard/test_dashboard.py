"""``GET /api/v1/stats/`` (mediators only, a validated date window) and the console's
dashboard and state machine pages (mediators only, charts from local static files)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import MediatorProfileFactory, UserFactory
from tests.scenarios import as_user, dispute_in

pytestmark = pytest.mark.django_db

CHART_IDS = [
    "chart-opened-per-week",
    "chart-by-reason",
    "chart-by-state",
    "chart-outcomes",
    "chart-without-platform",
    "chart-escalation-reasons",
    "chart-sla-breaches",
    "chart-refunds",
    "chart-feedback",
    "chart-shops",
    "chart-shops-ruled",
]


@pytest.fixture
def mediator() -> Any:
    user: Any = MediatorProfileFactory().user
    user.is_staff = True  # whatever the admin site asks of staff, the mediator passes
    user.save(update_fields=["is_staff"])
    return user


# --- API --------------------------------------------------------------------------------------


def test_stats_for_a_mediator(mediator: Any) -> None:
    dispute_in("closed", outcome="agreement")
    r = as_user(mediator).get("/api/v1/stats/")
    assert r.status_code == 200
    body = r.json()
    assert body["totals"]["closed"] == 1
    assert body["window"] == {"since": None, "until": None}
    assert set(body) >= {"opened_per_week", "sla", "without_platform", "refunds", "shops"}


def test_stats_window(mediator: Any) -> None:
    r = as_user(mediator).get("/api/v1/stats/?since=2025-01-01&until=2025-01-31")
    assert r.status_code == 200
    assert r.json()["window"] == {"since": "2025-01-01", "until": "2025-01-31"}
    assert r.json()["totals"]["disputes"] == 0


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("since=2025-13-01", 400, "invalid_date", "since"),
        ("until=yesterday", 400, "invalid_date", "until"),
        ("since=2025-2-1", 400, "invalid_date", "since"),
        ("since=2025-02-30", 400, "invalid_date", "since"),
        # Two good dates in the wrong order: the schema cannot say so, a rule does.
        ("since=2025-03-02&until=2025-03-01", 422, "invalid_date_range", None),
    ],
)
def test_stats_window_is_validated(
    mediator: Any, query: str, status: int, code: str, field: str
) -> None:
    r = as_user(mediator).get(f"/api/v1/stats/?{query}")
    assert r.status_code == status
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert r.json().get("field") == field


def test_stats_refused_to_parties_and_anonymous() -> None:
    sc = dispute_in("awaiting_seller")
    for role in ("buyer", "owner", "agent", "platform"):
        r = as_user(sc[role]).get("/api/v1/stats/")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    r = as_user(None).get("/api/v1/stats/")
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")


# --- Console ----------------------------------------------------------------------------------


def _page(user: Any, path: str) -> Any:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(path)


def test_dashboard_renders_for_a_mediator(mediator: Any) -> None:
    dispute_in("closed", outcome="agreement")
    r = _page(mediator, "/admin/dashboard/")
    assert r.status_code == 200
    html = r.content.decode()
    for chart in CHART_IDS:
        assert f'<canvas id="{chart}"' in html
    for kpi in ("kpi-disputes", "kpi-median", "kpi-overdue", "kpi-without-platform"):
        assert f'id="{kpi}"' in html
    data = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html)
    assert data is not None
    assert json.loads(data.group(1))["totals"]["closed"] == 1
    # Charts come from local static files: no CDN, nothing fetched from elsewhere.
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/mediation/vendor/chart.js/chart.umd.min.js" in scripts
    assert "/static/mediation/dashboard.js" in scripts
    assert all(s.startswith("/static/") for s in scripts)
    assert "cdn" not in html.lower()


def test_chart_library_is_served_locally() -> None:
    library = finders.find("mediation/vendor/chart.js/chart.umd.min.js")
    assert library is not None
    with open(library, encoding="utf-8") as f:
        assert f.read(200).startswith("/*!\n * Chart.js v4.")
    assert finders.find("mediation/vendor/chart.js/LICENSE.md") is not None
    assert finders.find("mediation/dashboard.js") is not None


def test_dashboard_window_from_the_form(mediator: Any) -> None:
    r = _page(mediator, "/admin/dashboard/?since=2025-01-01&until=2025-01-31")
    assert r.status_code == 200
    assert 'value="2025-01-01"' in r.content.decode()
    r = _page(mediator, "/admin/dashboard/?since=not-a-date")
    assert r.status_code == 400
    assert 'id="dashboard-error"' in r.content.decode()
    # The form's empty fields mean no bound (the API refuses an empty one).
    r = _page(mediator, "/admin/dashboard/?since=&until=")
    assert r.status_code == 200 and 'id="dashboard-error"' not in r.content.decode()
    r = _page(mediator, "/admin/dashboard/?since=2025-03-02&until=2025-03-01")
    assert r.status_code == 400 and "since is after until" in r.content.decode()


def test_superuser_sees_the_dashboard() -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert _page(admin, "/admin/dashboard/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/dashboard/", "/admin/state-machine/"])
def test_console_pages_refused_to_others(path: str) -> None:
    sc = dispute_in("awaiting_seller")
    staff_only = UserFactory(is_staff=True)  # a staff flag alone opens nothing
    for user in (sc["buyer"], sc["owner"], sc["platform"], staff_only, None):
        r = _page(user, path)
        assert r.status_code == 302, user
        assert r["Location"].startswith("/admin/login/"), user


def test_state_machine_page(mediator: Any) -> None:
    r = _page(mediator, "/admin/state-machine/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and 'id="state-awaiting_seller"' in html


def test_console_home_links_the_dashboard(mediator: Any, monkeypatch: Any) -> None:
    from django.contrib import admin

    monkeypatch.setattr(admin.site, "index_template", "admin/console_index.html")
    html = _page(mediator, "/admin/").content.decode()
    assert 'href="/admin/dashboard/"' in html
    assert 'href="/admin/state-machine/"' in html
