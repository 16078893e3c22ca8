"""The console's home page: the mediator's own work first (rulings waiting for my approval,
the cases I hold by deadline, the unassigned escalated cases of my tier), and how a case
stands against its deadline (on track, at risk, breached)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from console.queue import sla_status
from mediation.models import Dispute, ShopMember
from tests.console.helpers import browser
from tests.scenarios import dispute_in, make_cast, make_overdue


def _section(body: str, key: str) -> str:
    found = re.search(
        rf'<section class="module console-work" id="work-{key}">(.*?)</section>', body, re.S
    )
    assert found, key
    return found.group(1)


def _cases(section: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/admin/mediation/dispute/(\d+)/change/"', section)]


def test_the_home_page_lists_my_work(db: Any) -> None:
    cast = make_cast(total=300000, shipping=0)
    # A ruling of the agent's beyond their authority: the senior approves it.
    waiting = dispute_in(
        "pending_approval", cast=cast, amount=50000, order=cast.new_order(total=300000, shipping=0)
    )
    # The senior holds one case; another, of the same shop, is overdue and comes first.
    held = dispute_in("under_review", cast=cast, mediator="mediator_senior", order=cast.new_order())
    late = dispute_in("under_review", cast=cast, mediator="mediator_senior", order=cast.new_order())
    make_overdue(late.dispute, by=timedelta(hours=3))
    # The platform's queue: an escalated case nobody holds, and an appeal only a lead hears.
    queued = dispute_in("escalated", cast=cast, order=cast.new_order())
    appeal = dispute_in("escalated", cast=cast, by="appeal", ruled_by="mediator_senior")
    assert Dispute.objects.get(pk=appeal.id).required_tier == "lead"

    body = browser(cast.mediator_senior).get("/admin/").content.decode()
    approvals = _section(body, "approvals")
    assert _cases(approvals) == [waiting.id]
    # The approver sees the ruled amount, what they decide on (a partial refund of 500.00).
    assert re.search(r"500.00 USD <small>ruled</small>", approvals)
    assert _cases(_section(body, "mine")) == [late.id, held.id]
    assert 'class="console-overdue sla sla-breached"' in _section(body, "mine")
    assert _cases(_section(body, "unassigned")) == [queued.id]
    assert 'href="/admin/mediation/dispute/?approval=mine"' in body
    assert 'href="/admin/mediation/dispute/?assigned=me"' in body
    assert 'href="/admin/mediation/dispute/?assigned=none"' in body
    # The insights are a list of links, not a squeezed table; no "View site".
    assert '<a href="/admin/dashboard/">Dashboard</a>:' in body
    assert "View site" not in body and "Recent actions" not in body

    lead = browser(cast.mediator_lead).get("/admin/").content.decode()
    assert set(_cases(_section(lead, "unassigned"))) == {queued.id, appeal.id}

    # A mediator who is a member of the shop never sees its cases as theirs to take.
    ShopMember.objects.create(shop=cast.shop, user=cast.mediator_lead, role="agent")
    lead = browser(cast.mediator_lead).get("/admin/").content.decode()
    assert _cases(_section(lead, "unassigned")) == []
    assert "No escalated case waits for a mediator." in lead


def test_an_empty_home_page_says_so(db: Any) -> None:
    cast = make_cast()
    body = browser(cast.mediator_agent).get("/admin/").content.decode()
    assert "No ruling waits for your approval." in body
    assert "You hold no open case." in body
    assert "No escalated case waits for a mediator." in body


def test_the_home_page_costs_the_same_queries_for_more_cases(db: Any) -> None:
    cast = make_cast()
    dispute_in("under_review", cast=cast, mediator="mediator_agent")
    client = browser(cast.mediator_agent)
    client.get("/admin/")
    with CaptureQueriesContext(connection) as one:
        client.get("/admin/")
    for _ in range(4):
        dispute_in("under_review", cast=cast, mediator="mediator_agent", order=cast.new_order())
        dispute_in("escalated", cast=cast, order=cast.new_order())
    with CaptureQueriesContext(connection) as five:
        body = client.get("/admin/").content.decode()
    assert len(_cases(_section(body, "mine"))) == 5
    assert len(five) == len(one), [q["sql"][:120] for q in five.captured_queries]


def test_sla_status_on_track_at_risk_breached(db: Any) -> None:
    now = timezone.now()

    def status(state: str, left: timedelta) -> str | None:
        return sla_status(Dispute(state=state, reason="not_received", respond_by=now + left), now)

    # The platform's 48 h service level: at risk in its last quarter (12 h).
    assert status("escalated", timedelta(hours=20)) == "on_track"
    assert status("escalated", timedelta(hours=12)) == "at_risk"
    assert status("escalated", -timedelta(minutes=1)) == "breached"
    # The seller's 24 h: at risk in the last 6 h.
    assert status("awaiting_seller", timedelta(hours=7)) == "on_track"
    assert status("awaiting_seller", timedelta(hours=5)) == "at_risk"
    assert status("closed", timedelta(hours=5)) is None
