"""Per-mediator SLA figures (reports.mediators): first response, time to ruling, breaches,
each in one grouped query whatever the number of mediators or disputes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.actors import SYSTEM
from reports.mediators import NOT_ASSIGNED, mediator_sla
from tests.factories import MediatorProfileFactory
from tests.scenarios import Cast, dispute_in, make_cast, make_overdue, travel
from workflows import conversation
from workflows import transitions as t
from workflows.sweeper import flag_overdue

pytestmark = pytest.mark.django_db


def _escalated(cast: Cast) -> Any:
    return dispute_in("escalated", cast=cast, order=cast.new_order()).dispute


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["mediator"]: r for r in rows}


def _near(seconds: float | None, expected: float) -> bool:
    return seconds is not None and abs(seconds - expected) < 60


def test_first_response_ruling_and_breaches_per_mediator() -> None:
    cast = make_cast()
    mia, sam = cast.mediator_agent, cast.mediator_senior
    asked, ruled, held, waiting = (_escalated(cast) for _ in range(4))
    with travel(timedelta(hours=2)):
        t.assign(dispute_id=asked.pk, actor=mia)
        t.request_info(dispute_id=asked.pk, actor=mia, party="buyer", question="A photo?")
    with travel(timedelta(hours=1)):
        t.assign(dispute_id=ruled.pk, actor=sam)
    with travel(timedelta(hours=4)):
        t.rule(
            dispute_id=ruled.pk,
            actor=sam,
            kind="partial_refund",
            amount=3000,
            funded_by="seller",
            rationale="Half the flowers were crushed.",
        )
    # mia holds a case past its deadline; another waits unassigned past the queue's.
    t.assign(dispute_id=held.pk, actor=mia)
    for d in (held, waiting):
        d.refresh_from_db()
        make_overdue(d)
        flag_overdue(dispute_id=d.pk, actor=SYSTEM)

    rows = _by_name(mediator_sla())
    assert set(rows) == {mia.get_username(), sam.get_username(), NOT_ASSIGNED}
    m, s = rows[mia.get_username()], rows[sam.get_username()]
    assert m["first_responses"] == 1 and _near(m["first_response_seconds"], 2 * 3600)
    assert (m["rulings"], m["ruling_seconds"], m["breaches"]) == (0, None, 1)
    assert s["first_responses"] == 1 and _near(s["first_response_seconds"], 4 * 3600)
    assert s["rulings"] == 1 and _near(s["ruling_seconds"], 4 * 3600)
    assert s["breaches"] == 0
    assert rows[NOT_ASSIGNED]["breaches"] == 1 and rows[NOT_ASSIGNED]["first_responses"] == 0
    assert list(_by_name(mediator_sla()))[-1] == NOT_ASSIGNED


def test_the_window_is_the_dashboards() -> None:
    cast = make_cast()
    d = _escalated(cast)
    t.assign(dispute_id=d.pk, actor=cast.mediator_agent)
    t.request_info(dispute_id=d.pk, actor=cast.mediator_agent, party="seller", question="Tracking?")
    created = d.created_at.date()
    assert mediator_sla(since=created, until=created)[0]["first_responses"] == 1
    assert mediator_sla(since=created + timedelta(days=1)) == []


def _queries() -> int:
    with CaptureQueriesContext(connection) as ctx:
        mediator_sla()
    return len(ctx.captured_queries)


def test_three_queries_whatever_the_number_of_mediators() -> None:
    cast = make_cast()
    d = _escalated(cast)
    t.assign(dispute_id=d.pk, actor=cast.mediator_agent)
    t.request_info(dispute_id=d.pk, actor=cast.mediator_agent, party="buyer", question="Why?")
    few = _queries()
    for _ in range(5):
        extra: Any = MediatorProfileFactory(senior=True).user
        other = _escalated(cast)
        t.assign(dispute_id=other.pk, actor=extra)
        t.request_info(dispute_id=other.pk, actor=extra, party="buyer", question="When?")
    assert len(mediator_sla()) == 6
    assert few == _queries() == 3


def test_a_message_before_the_escalation_is_no_first_response() -> None:
    cast = make_cast()
    d = dispute_in("awaiting_seller", cast=cast).dispute
    conversation.post_message(dispute_id=d.pk, actor=cast.mediator_senior, body="Can I help?")
    t.escalate(dispute_id=d.pk, actor=cast.owner, reason="seller_request", note="Please help.")
    with travel(timedelta(hours=3)):
        t.assign(dispute_id=d.pk, actor=cast.mediator_agent)
        t.request_info(dispute_id=d.pk, actor=cast.mediator_agent, party="buyer", question="?")
    rows = _by_name(mediator_sla())
    assert set(rows) == {cast.mediator_agent.get_username()}
    assert _near(rows[cast.mediator_agent.get_username()]["first_response_seconds"], 3 * 3600)
