"""The case view: the whole case on one page, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import AuditEntry, Dispute
from tests.console.helpers import browser, case_page, case_url
from tests.evidence.files import png
from tests.scenarios import dispute_in, make_cast
from workflows import conversation, evidence
from workflows import transitions as t

SECTIONS = (
    "case-summary",
    "case-request",
    "case-order",
    "case-thread",
    "case-evidence",
    "case-offers",
    "case-rulings",
    "case-fulfilments",
    "case-timeline",
    "case-actions",
    "case-history",
)


def test_every_section_of_the_case_is_on_one_page(db: Any) -> None:
    sc = dispute_in("awaiting_fulfilment", via="ruling", ruled_by="mediator_senior")
    d = sc.dispute
    order = d.order
    order.carrier, order.tracking_number = "Royal Mail", "RM123456789GB"
    order.delivered_at = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
    order.save(update_fields=["carrier", "tracking_number", "delivered_at"])
    conversation.post_message(
        dispute_id=d.pk, actor=sc["mediator_senior"], body="Looks staged.", internal=True
    )
    conversation.post_message(dispute_id=d.pk, actor=sc["buyer"], body="Any news?")
    photo = evidence.upload_evidence(
        dispute_id=d.pk,
        actor=sc["buyer"],
        uploaded_file=SimpleUploadedFile("crack.png", png(), content_type="image/png"),
        kind="photo",
    )
    note = evidence.upload_evidence(
        dispute_id=d.pk,
        actor=sc["mediator_senior"],
        uploaded_file=SimpleUploadedFile("call.txt", b"Called the carrier.\n"),
        internal=True,
    )
    t.fulfil(dispute_id=d.pk, actor=sc["platform"], kind="refund", amount=1000, reference="re_1")
    body = case_page(browser(sc["mediator_agent"]), d)
    for section in SECTIONS:
        assert f'id="{section}"' in body, section
    # Order, items and fulfilment facts; the buyer's requested outcome.
    assert order.external_id in body and "Royal Mail" in body and "RM123456789GB" in body
    assert "2025-03-04 10:30" in body
    assert "Full refund 250.00 USD" in body  # requested outcome and amount
    # The thread, with the internal note marked.
    assert re.search(r'case-message internal" data-internal="true">.*?Internal note', body, re.S)
    assert "Looks staged." in body and "Any news?" in body
    # Evidence: a thumbnail of the image and a link to the text, both by the authorized
    # download; the internal item is marked.
    photo_url = f"/api/v1/disputes/{d.pk}/evidence/{photo.pk}/download/"
    note_url = f"/api/v1/disputes/{d.pk}/evidence/{note.pk}/download/"
    assert f'<img src="{photo_url}"' in body
    assert f'href="{note_url}"' in body and f'<img src="{note_url}"' not in body
    # Rulings with rationale, the fulfilment, the timeline and the audit chain's status.
    assert "Photos show the damage described." in body
    assert "re_1" in body
    assert "ruled full refund" in body.lower()
    entries = AuditEntry.objects.filter(dispute=d).count()
    assert f"verified ({entries} entries)" in body


def test_evidence_thumbnails_load_for_a_logged_in_mediator(db: Any) -> None:
    sc = dispute_in("under_review")
    photo = evidence.upload_evidence(
        dispute_id=sc.id,
        actor=sc["buyer"],
        uploaded_file=SimpleUploadedFile("crack.png", png(), content_type="image/png"),
    )
    client = browser(sc["mediator_agent"])  # the console's session, no token
    r = client.get(f"/api/v1/disputes/{sc.id}/evidence/{photo.pk}/download/")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content) == png()  # type: ignore[attr-defined]


def test_a_broken_audit_chain_is_shown(tamper: None) -> None:
    sc = dispute_in("under_review")
    # Tamper behind the services' back, as someone with direct database access could.
    AuditEntry.objects.filter(dispute=sc.dispute, seq=2).update(payload={"forged": True})
    body = case_page(browser(sc["mediator_agent"]), sc.dispute)
    assert "broken at entry 2" in body and "content does not match its hash" in body


def test_the_case_view_query_count_does_not_grow_with_the_case(db: Any) -> None:
    sc = dispute_in("under_review")
    client = browser(sc["mediator_agent"])
    client.get(case_url(sc.dispute))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(case_url(sc.dispute)).status_code == 200
        return len(queries)

    before = count()
    for i in range(10):
        conversation.post_message(
            dispute_id=sc.id, actor=sc["mediator_agent"], body=f"Note {i}", internal=bool(i % 2)
        )
        evidence.upload_evidence(
            dispute_id=sc.id,
            actor=sc["buyer"],
            uploaded_file=SimpleUploadedFile(f"p{i}.png", png(), content_type="image/png"),
        )
    assert count() == before


def test_party_history_lists_earlier_disputes_and_flags_a_serial_claimant(
    db: Any, settings: Any
) -> None:
    cast = make_cast()
    for _ in range(10):
        cast.new_order(buyer=cast.other_buyer, shop=cast.other_shop)
    earlier = dispute_in("closed", outcome="agreement", cast=cast)
    withdrawn = dispute_in("closed", outcome="withdrawn", cast=cast)
    current = dispute_in("escalated", cast=cast)
    assert Dispute.objects.filter(buyer=cast.buyer).count() == 3
    client = browser(cast.mediator_agent)
    settings.SERIAL_CLAIMANT_MIN_DISPUTES = 3
    settings.SERIAL_CLAIMANT_RATE_FACTOR = 2
    body = case_page(client, current.dispute)
    history = body[body.index('id="case-history"') :]
    assert f"#{earlier.id} &middot;" in history and f"#{withdrawn.id} &middot;" in history
    assert "Agreement" in history and "Withdrawn" in history
    assert 'data-flag="serial-claimant"' in history
    assert "Possible serial claimant." in history
    # Below the minimum number of disputes, or a factor nobody exceeds: no flag.
    settings.SERIAL_CLAIMANT_MIN_DISPUTES = 4
    assert 'data-flag="serial-claimant"' not in case_page(client, current.dispute)
    settings.SERIAL_CLAIMANT_MIN_DISPUTES = 3
    settings.SERIAL_CLAIMANT_RATE_FACTOR = 100
    settings.SERIAL_CLAIMANT_WIN_RATE_FACTOR = 100
    assert 'data-flag="serial-claimant"' not in case_page(client, current.dispute)
    # The other buyer's history holds none of this buyer's disputes.
    assert 'data-flag="problem-seller"' not in body


def test_a_problem_seller_is_flagged(db: Any, settings: Any) -> None:
    cast = make_cast()
    for _ in range(10):
        cast.new_order(buyer=cast.other_buyer, shop=cast.other_shop)
    dispute_in("closed", outcome="agreement", cast=cast)
    current = dispute_in("escalated", cast=cast)
    settings.PROBLEM_SELLER_MIN_DISPUTES = 2
    settings.PROBLEM_SELLER_RATE_FACTOR = 2
    body = case_page(browser(cast.mediator_agent), current.dispute)
    assert 'data-flag="problem-seller"' in body and "Possible problem seller." in body
    settings.PROBLEM_SELLER_MIN_DISPUTES = 5
    body = case_page(browser(cast.mediator_agent), current.dispute)
    assert 'data-flag="problem-seller"' not in body
