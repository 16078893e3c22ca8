"""No one rules on their own case, and no single person moves unlimited money.

A mediator who is the dispute's buyer or a member of its shop cannot take it, be given
it, ask for information, rule, or approve or reject a ruling on it (403
``conflict_of_interest``), through the API and the console alike; the console's
"waiting for my approval" filter leaves such cases out. A lead's ruling above
``MEDIATION_LEAD_SECOND_APPROVAL`` waits for a second mediator like anyone else's.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import parse_lead_second_approval
from mediation.models import AuditEntry, Dispute, Ruling, ShopMember
from tests.console.helpers import act, browser, case_page, rendered_actions
from tests.scenarios import Scenario, as_user, dispute_in
from workflows.transitions import allowed_actions

CONFLICT = (403, "conflict_of_interest")


def _post(sc: Scenario, actor: str, action: str, body: dict[str, Any]) -> tuple[int, str]:
    r = as_user(sc[actor]).post(f"/api/v1/disputes/{sc.id}/{action}/", body, format="json")
    return r.status_code, r.json().get("code", "")


def _snapshot(sc: Scenario) -> tuple[str, int, int]:
    d = Dispute.objects.get(pk=sc.id)
    return d.state, d.version, AuditEntry.objects.filter(dispute_id=sc.id).count()


def _join_shop(sc: Scenario, mediator: str) -> None:
    ShopMember.objects.create(shop=sc.cast.shop, user=sc[mediator], role="agent", offer_limit=0)


RULE = {"kind": "partial_refund", "amount": 5000, "funded_by": "seller", "rationale": "Photos."}


def test_a_mediator_in_the_shop_cannot_take_or_be_given_the_case(db: Any) -> None:
    sc = dispute_in("escalated")
    _join_shop(sc, "mediator_senior")
    before = _snapshot(sc)
    assert _post(sc, "mediator_senior", "assign", {}) == CONFLICT
    mediator = sc["mediator_senior"].get_username()
    assert _post(sc, "mediator_lead", "assign", {"mediator": mediator}) == CONFLICT
    assert _snapshot(sc) == before
    assert "assign" not in allowed_actions(sc.refresh(), sc["mediator_senior"])
    assert "assign" in allowed_actions(sc.refresh(), sc["mediator_agent"])
    # Anyone impartial still can.
    assert _post(sc, "mediator_agent", "assign", {})[0] == 200


def test_a_lead_who_is_the_buyer_cannot_rule_or_ask(db: Any) -> None:
    # The lead bought from the shop: the dispute is the lead's own order.
    sc = dispute_in("under_review", mediator="mediator_agent")
    Dispute.objects.filter(pk=sc.id).update(buyer=sc["mediator_lead"])
    sc.cast.order.__class__.objects.filter(pk=sc.dispute.order_id).update(buyer=sc["mediator_lead"])
    before = _snapshot(sc)
    assert _post(sc, "mediator_lead", "rule", RULE) == CONFLICT
    ask = {"party": "seller", "question": "Tracking, please?"}
    assert _post(sc, "mediator_lead", "request-info", ask) == CONFLICT
    assert _post(sc, "mediator_lead", "assign", {}) == CONFLICT
    assert _snapshot(sc) == before
    held_by_lead = set(allowed_actions(sc.refresh(), sc["mediator_lead"]))
    assert not held_by_lead & {"rule", "request-info", "assign"}


def test_a_conflicted_approver_cannot_decide_the_ruling(db: Any) -> None:
    sc = dispute_in("pending_approval", proposer="mediator_agent")
    _join_shop(sc, "mediator_senior")
    before = _snapshot(sc)
    assert _post(sc, "mediator_senior", "approve-ruling", {"note": "ok"}) == CONFLICT
    assert _post(sc, "mediator_senior", "reject-ruling", {"note": "no"}) == CONFLICT
    assert _snapshot(sc) == before
    # The console: no buttons, a forged post is refused with the reason, and the case is
    # not in the conflicted mediator's approval queue (it stays in the lead's).
    senior = browser(sc["mediator_senior"])
    assert not {"approve-ruling", "reject-ruling"} & rendered_actions(case_page(senior, sc.id))
    texts = act(senior, sc.dispute, "approve-ruling", note="")
    assert len(texts) == 1 and "party to this dispute" in texts[0], texts
    assert _snapshot(sc) == before
    case = f"/admin/mediation/dispute/{sc.id}/change/"
    assert case not in senior.get("/admin/mediation/dispute/?approval=mine").content.decode()
    lead = browser(sc["mediator_lead"])
    assert case in lead.get("/admin/mediation/dispute/?approval=mine").content.decode()
    assert _post(sc, "mediator_lead", "approve-ruling", {"note": "ok"})[0] == 200


def test_a_leads_large_ruling_needs_a_second_mediator(db: Any, settings: Any) -> None:
    # 250.00 ordered plus 10.00 shipping; the lead decides 100.00 alone here.
    settings.MEDIATION_LEAD_SECOND_APPROVAL = parse_lead_second_approval("100.00")
    sc = dispute_in("under_review", mediator="mediator_lead")
    r = as_user(sc["mediator_lead"]).post(
        f"/api/v1/disputes/{sc.id}/rule/", {**RULE, "amount": 15000}, format="json"
    )
    assert r.status_code == 202, r.json()
    assert r.json()["state"] == "pending_approval"
    entry = AuditEntry.objects.filter(dispute_id=sc.id).order_by("-seq").first()
    assert entry is not None and entry.payload["authority"] == 10000
    # Not by the lead themself; the senior (1,000.00 of authority) covers it.
    assert _post(sc, "mediator_lead", "approve-ruling", {"note": "me"}) == (403, "four_eyes")
    assert _post(sc, "mediator_senior", "approve-ruling", {"note": "ok"})[0] == 200
    ruling = Ruling.objects.get(dispute_id=sc.id)
    assert ruling.approver == sc["mediator_senior"] and ruling.proposer == sc["mediator_lead"]


@pytest.mark.parametrize(("limit", "waits"), [("100.00", False), ("off", False), ("99.99", True)])
def test_a_leads_ruling_within_the_limit_is_final(
    db: Any, settings: Any, limit: str, waits: bool
) -> None:
    settings.MEDIATION_LEAD_SECOND_APPROVAL = parse_lead_second_approval(limit)
    sc = dispute_in("under_review", mediator="mediator_lead")
    r = as_user(sc["mediator_lead"]).post(
        f"/api/v1/disputes/{sc.id}/rule/", {**RULE, "amount": 10000}, format="json"
    )
    assert r.status_code == (202 if waits else 200), r.json()


def test_the_limit_is_in_major_units_of_each_currency(db: Any, settings: Any) -> None:
    settings.MEDIATION_LEAD_SECOND_APPROVAL = parse_lead_second_approval("1000.00")
    lead = dispute_in("escalated")["mediator_lead"].mediator_profile
    assert lead.sole_limit_for("USD") == 100000
    assert lead.sole_limit_for("JPY") == 1000
    assert lead.sole_limit_for("KWD") == 1000000
    assert lead.covers(10**12, "USD"), "a lead approves any amount as the second mediator"
    settings.MEDIATION_LEAD_SECOND_APPROVAL = None
    assert lead.sole_limit_for("USD") is None


@pytest.mark.parametrize("raw", ["abc", "-1", "NaN", ""])
def test_a_bad_limit_is_refused_at_start(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="LEAD_SECOND_APPROVAL"):
        parse_lead_second_approval(raw)
