"""The dashboard's per-mediator SLA table: drawn for the window, at a fixed number of
queries whatever the number of mediators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.console.helpers import browser
from tests.factories import MediatorProfileFactory
from tests.scenarios import Cast, dispute_in, make_cast, travel
from workflows import transitions as t

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"


def _answered(cast: Cast, mediator: Any, after: timedelta) -> None:
    d = dispute_in("escalated", cast=cast, order=cast.new_order()).dispute
    with travel(after):
        t.assign(dispute_id=d.pk, actor=mediator)
        t.request_info(dispute_id=d.pk, actor=mediator, party="buyer", question="A photo?")


def _row(html: str, name: str) -> str:
    start = html.index(f'<tr data-mediator="{name}">')
    return html[start : html.index("</tr>", start)]


def test_the_table_shows_each_mediators_figures() -> None:
    cast = make_cast()
    _answered(cast, cast.mediator_agent, timedelta(hours=3, minutes=10))
    html = browser(cast.mediator_lead).get(URL).content.decode()
    assert 'id="dashboard-mediators"' in html
    row = _row(html, cast.mediator_agent.get_username())
    assert "<td>1</td><td>3 h 10 min</td><td>0</td><td>-</td><td>0</td>" in row
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    later = browser(cast.mediator_lead).get(URL, {"since": tomorrow}).content.decode()
    assert "No mediator has answered, ruled or breached a deadline" in later


def _page_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_costs_the_same_queries_for_one_mediator_or_many() -> None:
    cast = make_cast()
    _answered(cast, cast.mediator_agent, timedelta(hours=1))
    client = browser(cast.mediator_lead)
    one = _page_queries(client)
    for _ in range(5):
        _answered(cast, MediatorProfileFactory(senior=True).user, timedelta(hours=2))
    many = _page_queries(client)
    assert 'data-mediator="' in client.get(URL).content.decode()
    assert one == many


def test_without_a_window_the_table_covers_the_last_30_days() -> None:
    """Read from the audit log, the figures are bounded by default: a dispute created 40
    days ago counts only when the window asks for it."""
    from mediation.models import Dispute

    cast = make_cast()
    _answered(cast, cast.mediator_agent, timedelta(hours=2))
    Dispute.objects.update(created_at=timezone.now() - timedelta(days=40))
    client = browser(cast.mediator_lead)
    html = client.get(URL).content.decode()
    assert "(disputes of the last 30 days)" in html
    assert f'<tr data-mediator="{cast.mediator_agent.get_username()}">' not in html
    since = (timezone.now() - timedelta(days=60)).date().isoformat()
    html = client.get(URL, {"since": since}).content.decode()
    assert "(disputes of the last 30 days)" not in html
    assert "<td>1</td><td>2 h</td>" in _row(html, cast.mediator_agent.get_username())
