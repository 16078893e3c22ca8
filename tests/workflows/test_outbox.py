"""The transactional outbox: every audit entry gives its events in the same transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from mediation.actors import SYSTEM
from mediation.models import AuditEntry, OutboxEvent, State
from tests.scenarios import STATES, dispute_in, make_overdue
from workflows import conversation
from workflows import transitions as t
from workflows.events import types_for
from workflows.transitions import EVENT_TYPES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", STATES)
def test_every_audit_entry_has_its_events(state: str) -> None:
    sc = dispute_in(state)
    entries = list(AuditEntry.objects.filter(dispute_id=sc.id).order_by("seq"))
    events = list(OutboxEvent.objects.filter(dispute_id=sc.id))
    expected = sorted((e.seq, kind) for e in entries for kind in types_for(e))
    assert sorted((e.audit_seq, e.type) for e in events) == expected
    assert {e.type for e in events} <= set(EVENT_TYPES)
    for event in events:
        entry = next(e for e in entries if e.seq == event.audit_seq)
        assert (event.action, event.from_state, event.to_state) == (
            entry.action,
            entry.from_state,
            entry.to_state,
        )
        assert event.internal == (entry.visibility == "mediators")
        assert event.relayed_at is None


def test_entering_escalated_or_closed_is_an_event_of_its_own() -> None:
    sc = dispute_in("awaiting_seller")
    make_overdue(sc.dispute)
    t.apply_deadline(dispute_id=sc.id, actor=SYSTEM)
    last = OutboxEvent.objects.filter(dispute_id=sc.id).order_by("-audit_seq", "type")
    assert {e.type for e in last[:2]} == {"dispute.deadline_passed", "dispute.escalated"}

    sc = dispute_in("awaiting_buyer")
    t.withdraw(dispute_id=sc.id, actor=sc["buyer"])
    types = set(OutboxEvent.objects.filter(dispute_id=sc.id).values_list("type", flat=True))
    assert {"dispute.withdrawn", "dispute.closed"} <= types


def test_a_ruling_beyond_authority_is_proposed_not_ruled() -> None:
    sc = dispute_in("pending_approval")
    types = list(OutboxEvent.objects.filter(dispute_id=sc.id).values_list("type", flat=True))
    assert "dispute.ruling_proposed" in types
    assert "dispute.ruled" not in types


def test_internal_notes_give_internal_events() -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    conversation.post_message(
        dispute_id=sc.id, actor=sc["mediator_agent"], body="Check the photos.", internal=True
    )
    event = OutboxEvent.objects.filter(dispute_id=sc.id).latest("audit_seq")
    assert event.type == "dispute.internal_note_added"
    assert event.internal is True


def test_a_rolled_back_change_leaves_no_event() -> None:
    sc = dispute_in("awaiting_seller")
    before = OutboxEvent.objects.count(), AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        t.contest(dispute_id=sc.id, actor=sc["owner"], statement="Delivered, signed for.")
        assert OutboxEvent.objects.filter(dispute_id=sc.id, type="dispute.contested").exists()
        raise RuntimeError("the request failed after the change")
    assert (OutboxEvent.objects.count(), AuditEntry.objects.count()) == before
    assert sc.refresh().state == State.AWAITING_SELLER


def test_a_refused_transition_leaves_no_event() -> None:
    sc = dispute_in("closed")
    before = OutboxEvent.objects.filter(dispute_id=sc.id).count()
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        t.contest(dispute_id=sc.id, actor=sc["owner"], statement="Too late.")
    assert OutboxEvent.objects.filter(dispute_id=sc.id).count() == before
