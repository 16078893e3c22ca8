"""The shop says what the returned item was like (PayPal's acknowledgement types): as
expected, and the refund follows; damaged, empty or a different item, missing parts or
not received, and the dispute goes to the platform at once (reason ``return_disputed``)
instead of waiting out the fulfilment deadline."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from mediation.models import AuditEntry, Dispute, Evidence, ReturnResult
from tests.mailbox import relay_all
from tests.scenarios import Scenario, as_user, dispute_in

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def returned() -> Scenario:
    return dispute_in("awaiting_fulfilment", remedy="return_and_refund", stage="returned")


def acknowledge(sc: Scenario, actor: str = "owner", **body: Any) -> Any:
    return as_user(sc[actor]).post(
        f"/api/v1/disputes/{sc.id}/acknowledge-return/", body, format="json"
    )


def snapshot(sc: Scenario) -> tuple[str, int, int]:
    d = Dispute.objects.get(pk=sc.id)
    return d.state, d.version, AuditEntry.objects.filter(dispute_id=sc.id).count()


def upload(sc: Scenario, actor: str) -> int:
    r = as_user(sc[actor]).post(
        f"/api/v1/disputes/{sc.id}/evidence/",
        {"file": SimpleUploadedFile("box.png", PNG, "image/png"), "description": "The box"},
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    return int(r.json()["id"])


def test_as_expected_is_the_default_and_the_refund_follows() -> None:
    sc = returned()
    r = acknowledge(sc, note="Arrived fine.")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["state"] == "awaiting_fulfilment"
    assert body["agreement"]["return_acknowledged"] is True
    assert body["agreement"]["return_result"] == "as_expected"
    assert (
        "fulfil" in as_user(sc["owner"]).get(f"/api/v1/disputes/{sc.id}/").json()["allowed_actions"]
    )


@pytest.mark.parametrize("result", [r for r in ReturnResult.values if r != "as_expected"])
def test_a_return_not_as_expected_escalates_at_once(result: str) -> None:
    sc = returned()
    photo = upload(sc, "owner")
    relay_all()
    mail.outbox.clear()
    r = acknowledge(sc, result=result, note="The box was empty.", evidence=[photo])
    assert r.status_code == 200, r.json()
    d = sc.refresh()
    assert (d.state, d.escalation_reason, d.return_result) == (
        "escalated",
        "return_disputed",
        result,
    )
    assert d.return_acknowledged is False, "no refund is due until a mediator looks"
    assert d.respond_by is not None, "the mediators' service level runs"
    entry = AuditEntry.objects.filter(dispute_id=sc.id).order_by("-seq").first()
    assert entry is not None and entry.action == "acknowledge_return"
    assert entry.payload == {"result": result, "note": "The box was empty.", "evidence": [photo]}
    summaries = [
        e["summary"]
        for e in as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/timeline/").json()["results"]
    ]
    assert any(
        "reported the returned item: " + ReturnResult(result).label.lower() in s for s in summaries
    ), summaries
    # Both sides hear that the platform stepped in, and why.
    relay_all()
    bodies = {address: m.body for m in mail.outbox for address in m.to}
    assert sc["buyer"].email in bodies
    assert "did not arrive as expected" in bodies[sc["buyer"].email]
    # The mediators take it from there.
    assert (
        as_user(sc["mediator_agent"])
        .post(f"/api/v1/disputes/{sc.id}/assign/", {}, format="json")
        .status_code
        == 200
    )


def test_a_disputed_return_needs_a_note_and_the_shops_own_evidence() -> None:
    sc = returned()
    before = snapshot(sc)
    r = acknowledge(sc, result="damaged")
    assert (r.status_code, r.json()["code"]) == (422, "unprocessable")
    theirs = upload(sc, "buyer")
    r = acknowledge(sc, result="damaged", note="Cracked.", evidence=[theirs])
    assert (r.status_code, r.json()["code"]) == (422, "unprocessable")
    r = acknowledge(sc, result="lost_in_space", note="?")
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert snapshot(sc)[0] == before[0] and sc.refresh().return_result == ""
    assert Evidence.objects.filter(dispute_id=sc.id).count() == 1
    # Only the shop, and only once the item is back.
    r = acknowledge(sc, "buyer", result="damaged", note="x")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    early = dispute_in("awaiting_fulfilment", remedy="return_and_refund")
    r = acknowledge(early, result="not_received", note="Nothing came.")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
