"""Console buttons are lifecycle transitions: the same services as the API, their audit
entries, and refusals shown as messages."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import AuditEntry, Dispute, Message, Ruling
from tests.console.helpers import act, act_url, browser, case_page, rendered_actions
from tests.scenarios import dispute_in
from workflows.transitions import allowed_actions


def _last_action(dispute: Any) -> str:
    entry = AuditEntry.objects.filter(dispute_id=dispute.pk).order_by("-seq").first()
    assert entry is not None
    return entry.action


def test_assign_to_self_then_rule_within_authority(db: Any) -> None:
    sc = dispute_in("escalated")
    mia = sc["mediator_agent"]
    client = browser(mia)
    assert act(client, sc.dispute, "assign") == [
        f"Assigned to {mia.get_username()}; the dispute is under review."
    ]
    sc.refresh()
    assert sc.dispute.state == "under_review" and sc.dispute.assigned_to == mia
    assert _last_action(sc.dispute) == "assign"
    texts = act(
        client,
        sc.dispute,
        "rule",
        kind="partial_refund",
        amount="40.00",
        funded_by="seller",
        rationale="The photos show a cracked spine.",
    )
    assert texts == ["Ruled: Partial refund 40.00 USD. The dispute is awaiting fulfilment."]
    sc.refresh()
    assert sc.dispute.state == "awaiting_fulfilment" and sc.dispute.agreed_amount == 4000
    entry = AuditEntry.objects.filter(dispute=sc.dispute).order_by("-seq").first()
    assert entry is not None and entry.action == "rule" and entry.actor == mia


def test_a_ruling_beyond_authority_waits_and_reaches_the_seniors_approval_filter(db: Any) -> None:
    sc = dispute_in("under_review")
    mia, sam = sc["mediator_agent"], sc["mediator_senior"]
    texts = act(
        browser(mia),
        sc.dispute,
        "rule",
        kind="full_refund",
        amount="",
        funded_by="seller",
        rationale="Damaged in transit.",
    )
    assert (
        len(texts) == 1 and "pending approval" in texts[0] and "beyond your authority" in texts[0]
    )
    sc.refresh()
    assert sc.dispute.state == "pending_approval"
    body = case_page(browser(mia), sc.dispute)
    assert "Ruling pending approval" in body and 'id="case-pending-ruling"' in body
    senior = browser(sam)
    queue = senior.get("/admin/mediation/dispute/?approval=mine").content.decode()
    assert f"/admin/mediation/dispute/{sc.id}/change/" in queue
    mine = browser(mia).get("/admin/mediation/dispute/?approval=mine").content.decode()
    assert f"/admin/mediation/dispute/{sc.id}/change/" not in mine
    # Four eyes: the proposer has no approve button, and a forged post is refused.
    assert "approve-ruling" not in rendered_actions(body)
    texts = act(browser(mia), sc.dispute, "approve-ruling", note="")
    assert texts == [
        "Approve ruling refused: A ruling is approved by a second mediator, never its proposer."
    ]
    assert Dispute.objects.get(pk=sc.id).state == "pending_approval"
    # The senior approves.
    assert {"approve-ruling", "reject-ruling"} <= rendered_actions(case_page(senior, sc.dispute))
    assert act(senior, sc.dispute, "approve-ruling", note="Agreed.") == [
        "Ruling approved. The dispute is awaiting fulfilment."
    ]
    ruling = Ruling.objects.get(dispute=sc.dispute)
    assert ruling.status == "approved" and ruling.approver == sam
    assert _last_action(sc.dispute) == "approve_ruling"


def test_a_mediator_records_the_refund_the_platform_paid(db: Any) -> None:
    sc = dispute_in("awaiting_fulfilment", via="ruling", ruled_by="mediator_senior")
    sam = sc["mediator_senior"]
    assert "fulfil" in allowed_actions(sc.dispute, sam)
    due = sc.dispute.agreed_amount
    texts = act(
        browser(sam),
        sc.dispute,
        "fulfil",
        kind="refund",
        amount=f"{due // 100}.{due % 100:02d}",
        reference="re_console_1",
    )
    assert len(texts) == 1 and "refused" not in texts[0], texts
    sc.refresh()
    assert sc.dispute.state == "closed" and sc.dispute.delivered_amount == due
    entry = AuditEntry.objects.filter(dispute=sc.dispute).order_by("-seq").first()
    assert entry is not None and entry.action == "fulfil" and entry.actor == sam


def test_reject_ruling_sends_the_case_back(db: Any) -> None:
    sc = dispute_in("pending_approval")
    texts = act(browser(sc["mediator_lead"]), sc.dispute, "reject-ruling", note="Too generous.")
    assert texts == ["Ruling rejected; the case is back under review."]
    sc.refresh()
    assert sc.dispute.state == "under_review" and _last_action(sc.dispute) == "reject_ruling"


def test_approval_beyond_the_approvers_authority_is_refused(db: Any) -> None:
    from tests.scenarios import make_cast

    cast = make_cast(total=300000, shipping=0)
    sc = dispute_in("pending_approval", cast=cast, proposer="mediator_agent")  # 3,000.00
    texts = act(browser(cast.mediator_senior), sc.dispute, "approve-ruling")
    assert len(texts) == 1 and texts[0].startswith("Approve ruling refused: The ruling, worth")
    assert "beyond your authority" in texts[0]
    assert Dispute.objects.get(pk=sc.id).state == "pending_approval"


def test_lead_assigns_to_another_mediator_and_reassigns(db: Any) -> None:
    sc = dispute_in("escalated")
    lead, sam, mia = sc["mediator_lead"], sc["mediator_senior"], sc["mediator_agent"]
    body = case_page(browser(lead), sc.dispute)
    assert f'<option value="{sam.pk}">' in body  # the select of active mediators
    assert act(browser(lead), sc.dispute, "assign", mediator=str(sam.pk)) == [
        f"Assigned to {sam.get_username()}; the dispute is under review."
    ]
    assert act(browser(lead), sc.dispute, "assign", mediator=str(mia.pk))[0].startswith(
        f"Assigned to {mia.get_username()}"
    )
    assert Dispute.objects.get(pk=sc.id).assigned_to == mia
    # An agent has no select, and cannot give the case to someone else.
    other = dispute_in("escalated")
    agent_page = case_page(browser(other["mediator_agent"]), other.dispute)
    assert 'name="mediator"' not in agent_page and 'value="Assign to me"' in agent_page
    texts = act(
        browser(other["mediator_agent"]),
        other.dispute,
        "assign",
        mediator=str(other["mediator_senior"].pk),
    )
    assert texts == ["Assign refused: Only a lead mediator assigns cases to others."]


def test_request_info_and_internal_note(db: Any) -> None:
    sc = dispute_in("under_review")
    client = browser(sc["mediator_agent"])
    texts = act(client, sc.dispute, "request-info", party="seller", question="Packing photo?")
    assert len(texts) == 1 and texts[0].startswith("Asked the seller; the answer is due by")
    sc.refresh()
    assert sc.dispute.state == "awaiting_info" and sc.dispute.info_requested_from == "seller"
    assert act(client, sc.dispute, "note", body="Seller answered quickly before.") == [
        "Internal note added."
    ]
    note = Message.objects.get(dispute=sc.dispute, internal=True)
    assert note.body == "Seller answered quickly before."
    assert _last_action(sc.dispute) == "internal_note"


def test_double_submits_do_not_apply_twice(db: Any) -> None:
    sc = dispute_in("under_review")
    client = browser(sc["mediator_agent"])
    sc.refresh()
    version, seq = sc.dispute.version, sc.dispute.audit_seq
    data = {"version": version, "audit_seq": seq, "body": "Once."}
    assert client.post(act_url(sc.dispute, "note"), data).status_code == 302
    response = client.post(act_url(sc.dispute, "note"), data, follow=True)
    assert "The case changed since you opened it" in response.content.decode()
    assert Message.objects.filter(dispute=sc.dispute, internal=True).count() == 1
    rule = {
        "version": version,
        "kind": "no_action",
        "funded_by": "seller",
        "rationale": "The listing was accurate.",
    }
    assert client.post(act_url(sc.dispute, "rule"), rule).status_code == 302
    response = client.post(act_url(sc.dispute, "rule"), rule, follow=True)
    # The note bumped nothing, the ruling did: the second ruling is refused on its version.
    assert "Rule refused: The dispute is at version" in response.content.decode()
    assert Ruling.objects.filter(dispute=sc.dispute).count() == 1


def test_refusals_are_messages_not_errors(db: Any) -> None:
    sc = dispute_in("awaiting_seller")
    client = browser(sc["mediator_agent"])
    # An invalid transition.
    texts = act(client, sc.dispute, "rule", kind="no_action", funded_by="seller", rationale="x")
    assert texts == [
        "Rule refused: The dispute is awaiting_seller; this needs it to be under_review."
    ]
    # Invalid input: a bad amount, a missing rationale, too many decimals.
    texts = act(
        client, sc.dispute, "rule", kind="partial_refund", amount="1.234", funded_by="seller"
    )
    assert len(texts) == 1 and texts[0].startswith("Rule: ")
    assert "USD has 2 decimal places at most." in texts[0] and "Rationale" in texts[0]
    # Not a mediator of this dispute's holder: request-info on someone else's case.
    held = dispute_in("under_review", mediator="mediator_senior")
    texts = act(client, held.dispute, "request-info", party="buyer", question="?")
    assert texts == [
        "Request information refused: Only the mediator assigned to this dispute "
        "(or a lead) may do this."
    ]
    # GET is not allowed; unknown actions and disputes are 404.
    assert client.get(act_url(sc.dispute, "rule")).status_code == 405
    version = {"version": 1}
    assert client.post(act_url(sc.dispute, "delete"), version).status_code == 404
    assert client.post(act_url(999999, "rule"), version).status_code == 404
    # Parties cannot reach the actions at all.
    r = browser(sc["buyer"]).post(act_url(sc.dispute, "note"), {"body": "hi", "audit_seq": 1})
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_actions_need_the_csrf_token(db: Any) -> None:
    from django.test import Client

    sc = dispute_in("escalated")
    client = Client(enforce_csrf_checks=True)
    client.force_login(sc["mediator_agent"])
    r = client.post(act_url(sc.dispute, "assign"), {"version": sc.dispute.version})
    assert r.status_code == 403
    assert Dispute.objects.get(pk=sc.id).state == "escalated"


CASES = [
    ("escalated", {}),
    ("escalated", {"by": "appeal"}),
    ("under_review", {}),
    ("under_review", {"mediator": "mediator_senior"}),
    ("awaiting_info", {}),
    ("pending_approval", {}),
    ("awaiting_fulfilment", {}),
    ("awaiting_seller", {}),
    ("closed", {"outcome": "ruled_for_buyer"}),
]
CONSOLE_ACTIONS = {"assign", "request-info", "rule", "approve-ruling", "reject-ruling", "fulfil"}


@pytest.mark.parametrize(("state", "options"), CASES)
def test_buttons_are_exactly_the_allowed_actions(db: Any, state: str, options: Any) -> None:
    sc = dispute_in(state, **options)
    for name in ("mediator_agent", "mediator_senior", "mediator_lead"):
        user = sc[name]
        d = Dispute.objects.select_related("order").get(pk=sc.id)
        expected = (set(allowed_actions(d, user)) & CONSOLE_ACTIONS) | {"note", "message"}
        assert rendered_actions(case_page(browser(user), sc.dispute)) == expected, (
            state,
            options,
            name,
        )
