"""Abusive conduct escalates at once, and a reported message reaches the mediators.

A party may escalate with reason ``abusive_conduct`` from any state in which the parties
hold the case, whatever the deadlines; a reported message puts the case in the mediators'
"reported conduct" queue (API ``?reported_conduct=true``, console ``?conduct=reported``)
and emails the mediators on duty, escalated or not."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from mediation.models import Message, ShopMember
from tests.console.helpers import browser
from tests.mailbox import relay_all
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db


def post(sc: Scenario, actor: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return as_user(sc[actor]).post(f"/api/v1/disputes/{sc.id}/{path}", body or {}, format="json")


def reported_ids(user: Any) -> set[int]:
    r = as_user(user).get("/api/v1/disputes/?reported_conduct=true")
    assert r.status_code == 200, r.json()
    return {d["id"] for d in r.json()["results"]}


def test_the_buyer_escalates_abuse_before_the_shops_deadline() -> None:
    sc = dispute_in("awaiting_seller")
    assert (
        "escalate"
        in as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/").json()["allowed_actions"]
    )
    r = post(sc, "buyer", "escalate/", {"note": "Please."})
    assert (r.status_code, r.json()["code"]) == (422, "deadline_not_reached")
    assert "abusive_conduct" in r.json()["detail"]
    r = post(sc, "buyer", "escalate/", {"reason": "abusive_conduct", "note": "They insult me."})
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert (d.state, d.escalation_reason) == ("escalated", "abusive_conduct")
    assert d.conduct_reported_at is not None
    assert r.json()["conduct_reported_at"] is not None
    assert sc.id in reported_ids(sc["mediator_agent"])


def test_either_side_escalates_abuse_while_the_remedy_is_not_overdue() -> None:
    sc = dispute_in("awaiting_fulfilment", remedy="full_refund")
    r = post(sc, "agent", "escalate/")
    assert (r.status_code, r.json()["code"]) == (422, "deadline_not_reached")
    r = post(sc, "agent", "escalate/", {"reason": "abusive_conduct", "note": "Threats."})
    assert r.status_code == 200, r.json()
    assert sc.refresh().state == "escalated"


def _thread(sc: Scenario) -> Message:
    r = post(sc, "owner", "messages/", {"body": "You will regret this."})
    assert r.status_code == 201, r.json()
    return Message.objects.get(pk=r.json()["id"])


def test_a_reported_message_reaches_every_mediator_while_no_one_holds_the_case() -> None:
    sc = dispute_in("awaiting_buyer")
    # A mediator who is a member of the shop is not told (and cannot handle it).
    ShopMember.objects.create(shop=sc.cast.shop, user=sc["mediator_lead"], role="agent")
    message = _thread(sc)
    relay_all()
    mail.outbox.clear()
    r = post(sc, "buyer", f"messages/{message.pk}/report/", {"reason": "A threat."})
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert d.state == "awaiting_buyer", "a report flags the case; it does not move it"
    assert d.conduct_reported_at is not None
    relay_all()
    told = {address for m in mail.outbox for address in m.to}
    assert told == {sc["mediator_agent"].email, sc["mediator_senior"].email}
    email = next(m for m in mail.outbox if sc["mediator_agent"].email in m.to)
    assert f"Reported conduct on dispute #{sc.id}" in email.subject
    assert "A threat." in email.body and "You will regret this." in email.body
    assert f"/admin/mediation/dispute/{sc.id}/change/" in email.body
    assert "mediator on duty" in email.body
    # The queue shows it, in the API and in the console.
    assert sc.id in reported_ids(sc["mediator_agent"])
    queue = browser(sc["mediator_agent"]).get("/admin/mediation/dispute/?conduct=reported")
    assert f"/admin/mediation/dispute/{sc.id}/change/" in queue.content.decode()
    other = dispute_in("awaiting_buyer")
    assert other.id not in reported_ids(sc["mediator_agent"])
    assert f"/admin/mediation/dispute/{other.id}/change/" not in queue.content.decode()


def test_a_reported_message_reaches_the_mediator_holding_the_case() -> None:
    sc = dispute_in("under_review", mediator="mediator_senior")
    message = _thread(sc)
    relay_all()
    mail.outbox.clear()
    assert (
        post(sc, "buyer", f"messages/{message.pk}/report/", {"reason": "Abuse."}).status_code == 200
    )
    relay_all()
    assert {address for m in mail.outbox for address in m.to} == {sc["mediator_senior"].email}
