"""Two sweepers at once on PostgreSQL apply each due deadline exactly once (DESIGN §6).

1,000 disputes are raised through the services, then their deadlines are moved with one
UPDATE each step: into the seller's reminder window, past the deadline, then past the
platform's SLA once escalated. At each step two sweepers, each in its own thread with its
own connection, run at the same time; ``SELECT ... FOR UPDATE SKIP LOCKED`` shares the rows
between them, and the services re-check under the row lock. Skipped on SQLite::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_sweep \\
        .venv/bin/pytest --create-db tests/workflows/test_sweeper_pg.py
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from mediation import audit
from mediation.models import AuditEntry, Dispute, Offer, OfferStatus, Order, OutboxEvent, State
from tests.scenarios import dispute_in, make_cast, make_overdue, raise_dispute
from tests.threads import run_together
from workflows import sweeper

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs SKIP LOCKED"),
    pytest.mark.django_db(transaction=True),
]

DISPUTES = 1000


def _two_sweepers() -> list[sweeper.SweepReport]:
    done = run_together([lambda: sweeper.sweep(batch_size=25)] * 2, name="sweeper")
    assert len(done) == 2
    for report in done:
        for p in (report.transitions, report.sla_flags, report.reminders):
            assert not p.failed
    return done


def _once_each(ids: list[int], action: str, event_type: str) -> None:
    entries = Counter(
        AuditEntry.objects.filter(dispute_id__in=ids, action=action).values_list(
            "dispute_id", flat=True
        )
    )
    assert len(entries) == len(ids) and set(entries.values()) == {1}, action
    events = Counter(
        OutboxEvent.objects.filter(dispute_id__in=ids, type=event_type).values_list(
            "dispute_id", flat=True
        )
    )
    assert len(events) == len(ids) and set(events.values()) == {1}, event_type


def _make_due_disputes() -> list[int]:
    cast = make_cast()
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            external_id=f"SWEEP-{i:05d}",
            buyer=cast.buyer,
            shop=cast.shop,
            currency="USD",
            total=2400,
            shipping=0,
            placed_at=now - timedelta(days=3),
        )
        for i in range(DISPUTES)
    )
    return [raise_dispute(cast, order=order).pk for order in orders]


def _no_batch_retried(caplog: pytest.LogCaptureFixture) -> None:
    """Every batch was written in one go (none fell back to one dispute at a time)."""
    assert not [r for r in caplog.records if "failed to write" in r.getMessage()]


def test_two_concurrent_sweepers_apply_each_deadline_reminder_and_flag_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="workflows.sweeper")
    ids = _make_due_disputes()
    disputes = Dispute.objects.filter(pk__in=ids)

    # 1. Reminders: every seller's deadline is 1 h away (inside the 4 h lead).
    disputes.update(respond_by=timezone.now() + timedelta(hours=1))
    reports = _two_sweepers()
    assert sum(r.reminders.applied for r in reports) == DISPUTES
    assert all(r.reminders.applied > 0 for r in reports), "one sweeper did all the work"
    _once_each(ids, "reminder", "dispute.reminder")

    # 2. The deadlines pass: awaiting_seller -> escalated, seller_no_response.
    disputes.update(respond_by=timezone.now() - timedelta(minutes=1))
    reports = _two_sweepers()
    applied = [r.transitions.applied for r in reports]
    assert sum(applied) == DISPUTES and all(applied), applied
    assert sum(r.reminders.applied for r in reports) == 0
    _once_each(ids, "deadline_passed", "dispute.escalated")
    assert set(disputes.values_list("state", "escalation_reason")) == {
        (State.ESCALATED, "seller_no_response")
    }

    # 3. Nobody picks them up in time: the SLA breach is flagged, the state stays.
    disputes.update(respond_by=timezone.now() - timedelta(minutes=1))
    reports = _two_sweepers()
    assert sum(r.sla_flags.applied for r in reports) == DISPUTES
    assert sum(r.transitions.applied for r in reports) == 0
    _once_each(ids, "sla_breached", "dispute.overdue")

    # Running it again does nothing.
    again = sweeper.sweep()
    assert (again.transitions.applied, again.sla_flags.applied, again.reminders.applied) == (
        0,
        0,
        0,
    )
    entries: dict[int, list[AuditEntry]] = {}
    for entry in AuditEntry.objects.filter(dispute_id__in=ids).order_by("dispute_id", "seq"):
        entries.setdefault(entry.dispute_id, []).append(entry)
    for dispute in disputes:
        result = audit.verify_entries(dispute, entries[dispute.pk])
        assert result.verified, result
        assert [e.action for e in entries[dispute.pk]] == [
            "raise",
            "reminder",
            "deadline_passed",
            "sla_breached",
        ]
    _no_batch_retried(caplog)


def test_a_batch_writes_every_kind_of_deadline_transition(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="workflows.sweeper")
    expected = {
        "awaiting_seller": State.ESCALATED,
        "awaiting_buyer": State.CLOSED,  # with the shop's offer open
        "awaiting_info": State.UNDER_REVIEW,
        "awaiting_fulfilment": State.ESCALATED,
    }
    scenarios = [(dispute_in(state), target) for state, target in expected.items()]
    pending = dispute_in("awaiting_seller", pending_offer=True)
    scenarios.append((pending, State.ESCALATED))
    for sc, _ in scenarios:
        make_overdue(sc.dispute)
    report = sweeper.sweep()
    assert (report.transitions.applied, report.transitions.failed) == (len(scenarios), [])
    for sc, target in scenarios:
        d = sc.refresh()
        assert d.state == target
        assert audit.verify(d).verified
        [entry] = AuditEntry.objects.filter(dispute_id=d.pk, action="deadline_passed")
        assert entry.pk and entry.payload["respond_by"]
        assert OutboxEvent.objects.filter(dispute_id=d.pk, audit_seq=entry.seq).exists()
    for sc in (scenarios[1][0], pending):
        statuses = set(Offer.objects.filter(dispute_id=sc.id).values_list("status", flat=True))
        assert statuses == {OfferStatus.SUPERSEDED}

    # A batch of one row writes the same way.
    one = dispute_in("awaiting_seller")
    make_overdue(one.dispute)
    assert sweeper.sweep(batch_size=1).transitions.applied == 1
    assert one.refresh().state == State.ESCALATED and audit.verify(one.dispute).verified
    _no_batch_retried(caplog)
