"""What a person wrote with a step is part of the record: the buyer's escalation note (and
every action's note, statement, question, answer or rationale) shows in the timeline, the
console's case page and the case file; a ruling waiting for approval reads as proposed,
and the timeline names the evidence added."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.console.helpers import browser, case_page
from tests.evidence import files
from tests.pages import every
from tests.scenarios import Scenario, as_user, dispute_in, make_overdue
from workflows import evidence

pytestmark = pytest.mark.django_db

NOTE = "The shop stopped answering after promising a refund."


def timeline(sc: Scenario, who: str) -> list[dict[str, Any]]:
    return every(as_user(sc[who]), f"/api/v1/disputes/{sc.id}/timeline/")


def case_file(sc: Scenario, who: str) -> zipfile.ZipFile:
    r = as_user(sc[who]).get(f"/api/v1/disputes/{sc.id}/case-file/")
    assert r.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))  # type: ignore[attr-defined]


def escalated_with_a_note() -> Scenario:
    sc = dispute_in("awaiting_seller")
    make_overdue(sc.refresh())
    r = as_user(sc["buyer"]).post(
        f"/api/v1/disputes/{sc.id}/escalate/", {"note": NOTE}, format="json"
    )
    assert r.status_code == 200, r.json()
    return sc


def test_the_escalation_note_is_in_the_timeline_the_console_and_the_case_file() -> None:
    sc = escalated_with_a_note()
    for who in ("buyer", "owner", "mediator_agent"):
        escalation = [e for e in timeline(sc, who) if e["action"] == "escalate"]
        assert [e["note"] for e in escalation] == [NOTE], who
    assert NOTE in case_page(browser(sc["mediator_agent"]), sc.id)
    zf = case_file(sc, "buyer")
    events = json.loads(zf.read("timeline.json"))
    assert any(e["note"] == NOTE for e in events)
    assert NOTE in zf.read("summary.html").decode()


def test_a_proposed_ruling_reads_as_proposed_and_keeps_its_rationale_with_the_staff() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")  # authority 100.00
    r = as_user(sc["mediator_agent"]).post(
        f"/api/v1/disputes/{sc.id}/rule/",
        {"kind": "full_refund", "funded_by": "seller", "rationale": "Crushed in transit."},
        format="json",
    )
    assert r.status_code == 202, r.json()
    for who, sees in (("buyer", False), ("mediator_senior", True)):
        rule = next(e for e in timeline(sc, who) if e["action"] == "rule")
        assert "proposed a ruling of full refund 250.00 USD" in rule["summary"], who
        assert "waits for a second mediator's approval" in rule["summary"]
        assert (rule["note"] == "Crushed in transit.") == sees, who
    # Approved, it is the ruling, with its rationale for everyone.
    as_user(sc["mediator_senior"]).post(
        f"/api/v1/disputes/{sc.id}/approve-ruling/", {"note": "Agreed, well argued."}, format="json"
    )
    approval = next(e for e in timeline(sc, "buyer") if e["action"] == "approve_ruling")
    assert approval["note"] == "Agreed, well argued."


def test_the_timeline_names_the_evidence() -> None:
    sc = dispute_in("awaiting_buyer")
    evidence.upload_evidence(
        dispute_id=sc.id,
        actor=sc["buyer"],
        uploaded_file=SimpleUploadedFile("crushed-box.png", files.png(), "image/png"),
    )
    summaries = [e["summary"] for e in timeline(sc, "owner")]
    assert any(s.endswith("added evidence: crushed-box.png") for s in summaries), summaries
