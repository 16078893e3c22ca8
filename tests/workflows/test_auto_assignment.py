"""Automatic assignment of escalated cases (workflows.assignment): off unless the
marketplace's policy turns it on; then, from the outbox, the eligible active mediator with
the fewest open cases, as the system's audited assignment."""

from __future__ import annotations

from typing import Any

from mediation.models import AssignmentPolicy, AuditEntry, Dispute, MediatorProfile, OutboxEvent
from tests.factories import MediatorProfileFactory, ShopMemberFactory
from tests.scenarios import Cast, dispute_in, make_cast
from workflows import relay
from workflows import transitions as t
from workflows.assignment import auto_assign, loads
from workflows.sweeper import sweep


def _switch(on: bool) -> None:
    AssignmentPolicy.objects.update_or_create(pk=1, defaults={"auto_assign": on})


def _escalate(cast: Cast, **options: Any) -> Dispute:
    options.setdefault("order", cast.new_order())
    return dispute_in("escalated", cast=cast, **options).dispute


def _relayed(d: Dispute) -> Dispute:
    relay.relay_pending()
    d.refresh_from_db()
    return d


def test_off_by_default_cases_wait_in_the_queue(db: Any) -> None:
    cast = make_cast()
    d = _relayed(_escalate(cast, requested_outcome="partial_refund", requested_amount=4000))
    assert d.state == "escalated" and d.assigned_to is None
    _switch(False)
    assert auto_assign(dispute_id=d.pk) is None


def test_the_fewest_open_cases_wins_and_the_system_is_audited(db: Any) -> None:
    cast = make_cast()
    # mia (agent) already holds a case; sam (senior) and lee (lead) hold none.
    dispute_in("under_review", cast=cast, order=cast.new_order())
    assert loads([cast.mediator_agent.pk])[cast.mediator_agent.pk] == 1
    _switch(True)
    first = _relayed(_escalate(cast, requested_outcome="partial_refund", requested_amount=4000))
    # sam and lee tie at 0: the lower tier takes it, the lead stays free.
    assert first.state == "under_review" and first.assigned_to == cast.mediator_senior
    assert first.respond_by is not None
    entry = AuditEntry.objects.filter(dispute=first).order_by("-seq").first()
    assert entry is not None and entry.action == "assign" and entry.actor is None
    assert entry.actor_display == "system"
    assert entry.payload["mediator"] == cast.mediator_senior.get_username()
    assert entry.payload["auto"] is True and entry.payload["open_cases"] == 0
    assert OutboxEvent.objects.filter(dispute=first, type="dispute.assigned").exists()

    # Now mia and sam hold one each, lee none.
    second = _relayed(_escalate(cast, requested_outcome="partial_refund", requested_amount=4000))
    assert second.assigned_to == cast.mediator_lead


def test_authority_tier_and_conflicts_of_interest_are_respected(db: Any) -> None:
    cast = make_cast()
    _switch(True)
    # Busy seniors and lead, idle agent: the agent's 100.00 does not cover a 245.00 refund.
    for holder in ("mediator_senior", "mediator_lead"):
        for _ in range(2):
            d = _escalate(cast)
            d.refresh_from_db()
            t.assign(dispute_id=d.pk, actor=cast[holder])
    full = _relayed(_escalate(cast))
    assert full.requested_amount > 10000
    assert full.assigned_to in (cast.mediator_senior, cast.mediator_lead)
    assert full.assigned_to != cast.mediator_agent

    # An idle senior who is a member of the shop is never chosen.
    conflicted = MediatorProfileFactory(senior=True)
    ShopMemberFactory(shop=cast.shop, user=conflicted.user, role="agent")
    other = _relayed(_escalate(cast))
    assert other.assigned_to is not None and other.assigned_to != conflicted.user

    # An appeal needs a senior or higher: the idle agent is passed over.
    appeal = _relayed(_escalate(cast, by="appeal"))
    assert appeal.assigned_to is not None
    assert appeal.assigned_to not in (cast.mediator_agent, conflicted.user)


def test_the_sweepers_escalation_is_assigned_too(db: Any) -> None:
    cast = make_cast()
    _switch(True)
    d = _relayed(_escalate(cast, by="deadline"))
    assert d.escalation_reason == "seller_no_response"
    assert d.state == "under_review" and d.assigned_to is not None


def test_a_case_taken_meanwhile_is_left_alone_and_a_rerun_changes_nothing(db: Any) -> None:
    cast = make_cast()
    _switch(True)
    d = _escalate(cast, requested_outcome="partial_refund", requested_amount=4000)
    t.assign(dispute_id=d.pk, actor=cast.mediator_agent)
    before = AuditEntry.objects.filter(dispute=d).count()
    d = _relayed(d)
    assert d.assigned_to == cast.mediator_agent
    assert auto_assign(dispute_id=d.pk) is None
    assert AuditEntry.objects.filter(dispute=d).count() == before


def test_no_eligible_mediator_leaves_the_case_in_the_queue(db: Any) -> None:
    cast = make_cast()
    _switch(True)
    MediatorProfile.objects.update(active=False)
    d = _relayed(_escalate(cast))
    assert d.state == "escalated" and d.assigned_to is None


def test_escalations_of_a_sweeper_batch_are_each_assigned(db: Any) -> None:
    """The sweeper writes its batch's transitions and events together; each escalated case
    is then assigned from the outbox, spread by load."""
    cast = make_cast()
    _switch(True)
    waiting = [
        dispute_in("awaiting_seller", cast=cast, order=cast.new_order(), overdue=True).dispute
        for _ in range(3)
    ]
    sweep()
    relay.relay_pending()
    rows = list(Dispute.objects.filter(pk__in=[d.pk for d in waiting]))
    assert {d.escalation_reason for d in rows} == {"seller_no_response"}
    assert {d.state for d in rows} == {"under_review"}
    # A full refund of 245.00 is beyond the agent's authority: senior and lead share them.
    held = sorted(d.assigned_to.get_username() for d in rows if d.assigned_to)
    assert len(held) == 3
    assert set(held) == {cast.mediator_senior.get_username(), cast.mediator_lead.get_username()}
