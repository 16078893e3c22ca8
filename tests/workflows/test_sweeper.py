"""The deadline sweeper, its policy table, reminders and SLA flags (DESIGN §4, §6).

Concurrency (two sweepers at once) is proved on PostgreSQL in ``test_sweeper_pg.py``; here
each pass runs alone, on whatever database the suite runs on.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation import audit
from mediation.models import (
    AuditEntry,
    DeadlinePolicy,
    Dispute,
    Offer,
    OfferStatus,
    OutboxEvent,
    State,
)
from tests.factories import MediatorProfileFactory, UserFactory
from tests.scenarios import as_user, dispute_in, make_cast, make_overdue, raise_dispute, travel
from workflows import base, policy, sweeper
from workflows import transitions as t
from workflows.base import deadline_for

pytestmark = pytest.mark.django_db

S = State

EXPECTED = {
    S.AWAITING_SELLER: (S.ESCALATED, {"escalation_reason": "seller_no_response"}),
    S.AWAITING_BUYER: (S.CLOSED, {"outcome": "lapsed"}),
    S.AWAITING_INFO: (S.UNDER_REVIEW, {}),
    S.AWAITING_FULFILMENT: (S.ESCALATED, {"escalation_reason": "fulfilment_overdue"}),
}


def _entries(dispute_id: int, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(dispute_id=dispute_id, action=action))


def _events(dispute_id: int, type_: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(dispute_id=dispute_id, type=type_))


# --- Transitions ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(EXPECTED))
def test_each_due_state_takes_its_system_transition_once(state: str) -> None:
    sc = dispute_in(state)
    make_overdue(sc.dispute)
    report = sweeper.sweep()
    assert report.transitions.applied == 1 and report.complete
    d = sc.refresh()
    target, fields = EXPECTED[state]  # type: ignore[index]
    assert d.state == target
    for name, value in fields.items():
        assert getattr(d, name) == value
    [entry] = _entries(sc.id, "deadline_passed")
    assert entry.actor_id is None and entry.actor_role == "system"
    assert (entry.from_state, entry.to_state) == (state, target)
    assert _events(sc.id, "dispute.deadline_passed")
    assert audit.verify(d).verified
    # A second run finds nothing to do.
    again = sweeper.sweep()
    assert again.transitions.applied == 0
    assert len(_entries(sc.id, "deadline_passed")) == 1


def test_disputes_not_yet_due_are_left_alone() -> None:
    sc = dispute_in("awaiting_seller")
    version = sc.dispute.version
    report = sweeper.sweep()
    assert report.transitions.applied == 0
    assert sc.refresh().state == S.AWAITING_SELLER and sc.dispute.version == version


def test_a_refusal_under_the_lock_counts_as_done_elsewhere(monkeypatch: Any) -> None:
    # Between the batch query and the service, someone else applied the deadline.
    sc = dispute_in("awaiting_seller")
    make_overdue(sc.dispute)
    real = t.apply_deadline

    def twice(**kwargs: Any) -> Any:
        real(**kwargs)
        return real(**kwargs)  # refused: no longer due

    monkeypatch.setattr(sweeper, "apply_deadline", twice)
    report = sweeper.sweep()
    assert (report.transitions.applied, report.transitions.skipped) == (0, 1)
    assert sc.refresh().state == S.ESCALATED
    assert len(_entries(sc.id, "deadline_passed")) == 1


def test_a_row_refused_while_it_still_matches_is_taken_once_per_sweep() -> None:
    # Swept as of two hours ahead, a dispute due in one hour is selected, but its service
    # decides with the real clock and refuses it: the pass moves on instead of taking the
    # same row in every batch until its time budget runs out.
    sc = dispute_in("awaiting_seller")
    Dispute.objects.filter(pk=sc.id).update(respond_by=timezone.now() + timedelta(hours=1))
    report = sweeper.sweep(now=timezone.now() + timedelta(hours=2), batch_size=1)
    assert report.complete
    assert report.transitions.as_dict() == {"applied": 0, "skipped": 1, "failed": []}
    assert sc.refresh().state == S.AWAITING_SELLER


def test_a_failing_dispute_does_not_stop_the_others(monkeypatch: Any) -> None:
    bad = dispute_in("awaiting_seller")
    good = dispute_in("awaiting_buyer")
    make_overdue(bad.dispute, by=timedelta(hours=2))
    make_overdue(good.dispute)
    real = sweeper.apply_deadline

    def flaky(*, dispute_id: Any, actor: Any) -> Any:
        if dispute_id == bad.id:
            raise RuntimeError("boom")
        return real(dispute_id=dispute_id, actor=actor)

    monkeypatch.setattr(sweeper, "apply_deadline", flaky)
    report = sweeper.sweep()
    assert report.transitions.failed == [bad.id] and report.transitions.applied == 1
    assert bad.refresh().state == S.AWAITING_SELLER
    assert good.refresh().state == S.CLOSED


def test_open_offers_are_superseded_in_the_batch_where_there_are_some() -> None:
    buyer = dispute_in("awaiting_buyer")  # the shop's offer is open
    seller = dispute_in("awaiting_seller", pending_offer=True)  # the agent's waits for the owner
    plain = dispute_in("awaiting_seller")
    for sc in (buyer, seller, plain):
        make_overdue(sc.dispute)
    report = sweeper.sweep()
    assert report.transitions.applied == 3
    for sc in (buyer, seller):
        offers = list(Offer.objects.filter(dispute_id=sc.id))
        assert offers and {o.status for o in offers} == {OfferStatus.SUPERSEDED}
        assert all(o.decided_at is not None for o in offers)
    assert (buyer.refresh().state, seller.refresh().state) == (S.CLOSED, S.ESCALATED)


def test_a_batch_costs_the_same_statements_for_more_disputes() -> None:
    sweeper.sweep()  # nothing due; loads the policy table's cache

    def statements(disputes: int) -> int:
        for _ in range(disputes):
            make_overdue(dispute_in("awaiting_seller").dispute)
        with CaptureQueriesContext(connection) as queries:
            report = sweeper.sweep()
        assert report.transitions.applied == disputes
        return len(queries.captured_queries)

    few, more = statements(2), statements(6)
    # The batch (lock, dispute rows, audit entries, the look for webhook endpoints that
    # listen, outbox rows, one upsert of the day rollup), the empty look for another batch,
    # the SLA, reminder and feedback reminder passes' looks, and a savepoint around each.
    assert few == more <= 20, (few, more)


def test_a_dispute_that_fails_midway_is_put_back_as_it_was_locked(monkeypatch: Any) -> None:
    sc = dispute_in("awaiting_seller")
    make_overdue(sc.dispute)
    version, seq = sc.dispute.version, sc.dispute.audit_seq
    real_record, real_apply = base.Context.record, sweeper.apply_deadline

    def failing_record(ctx: base.Context, *args: Any, **kwargs: Any) -> None:
        real_record(ctx, *args, **kwargs)  # state moved, entry chained: then it fails
        raise RuntimeError("boom")

    def fails_then_succeeds(*, dispute_id: Any, actor: Any) -> Any:
        with monkeypatch.context() as patch:
            patch.setattr(base.Context, "record", failing_record)
            with pytest.raises(RuntimeError):
                real_apply(dispute_id=dispute_id, actor=actor)
        return real_apply(dispute_id=dispute_id, actor=actor)

    monkeypatch.setattr(sweeper, "apply_deadline", fails_then_succeeds)
    report = sweeper.sweep()
    assert (report.transitions.applied, report.transitions.failed) == (1, [])
    d = sc.refresh()
    assert d.state == S.ESCALATED
    assert (d.version, d.audit_seq) == (version + 1, seq + 1)
    assert len(_entries(sc.id, "deadline_passed")) == 1
    assert len(_events(sc.id, "dispute.escalated")) == 1
    assert audit.verify(d).verified


def test_a_batch_that_fails_to_write_is_taken_again_one_dispute_at_a_time(
    monkeypatch: Any,
) -> None:
    scenarios = [dispute_in("awaiting_seller") for _ in range(3)]
    for sc in scenarios:
        make_overdue(sc.dispute)
    real_flush = base.Batch.flush
    flushes: list[int] = []

    def flush_then_fail(batch: base.Batch) -> None:
        flushes.append(len(batch.rows))
        real_flush(batch)
        raise DatabaseError("connection lost mid-batch")

    monkeypatch.setattr(base.Batch, "flush", flush_then_fail)
    report = sweeper.sweep()
    assert flushes == [3]  # rolled back, then one by one without a batch
    assert report.transitions.as_dict() == {"applied": 3, "skipped": 0, "failed": []}
    for sc in scenarios:
        d = sc.refresh()
        assert d.state == S.ESCALATED
        assert len(_entries(sc.id, "deadline_passed")) == 1
        assert len(_events(sc.id, "dispute.deadline_passed")) == 1
        assert audit.verify(d).verified


# --- SLA breaches ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.ESCALATED, S.UNDER_REVIEW, S.PENDING_APPROVAL])
def test_sla_breach_is_flagged_once_and_the_state_stays(state: str) -> None:
    sc = dispute_in(state)
    make_overdue(sc.dispute)
    report = sweeper.sweep()
    assert report.sla_flags.applied == 1 and report.transitions.applied == 0
    d = sc.refresh()
    assert d.state == state
    assert d.overdue_flagged_for == d.respond_by
    [entry] = _entries(sc.id, "sla_breached")
    assert entry.actor_role == "system" and entry.from_state == entry.to_state == state
    [event] = _events(sc.id, "dispute.overdue")
    assert event.audit_seq == entry.seq
    assert audit.verify(d).verified
    # The API lists it as overdue, as before.
    response = as_user(sc["mediator_lead"]).get("/api/v1/disputes/?overdue=true")
    assert [row["id"] for row in response.json()["results"]] == [sc.id]
    assert sweeper.sweep().sla_flags.applied == 0
    assert len(_entries(sc.id, "sla_breached")) == 1


def test_a_new_deadline_can_breach_again() -> None:
    sc = dispute_in("escalated")
    make_overdue(sc.dispute)
    sweeper.sweep()
    t.assign(dispute_id=sc.id, actor=sc["mediator_lead"])
    assert sc.refresh().state == S.UNDER_REVIEW
    make_overdue(sc.dispute)
    assert sweeper.sweep().sla_flags.applied == 1
    assert len(_entries(sc.id, "sla_breached")) == 2


# --- Reminders ------------------------------------------------------------------------------


def test_seller_is_reminded_once_four_hours_before_their_deadline() -> None:
    sc = dispute_in("awaiting_seller")
    respond_by = sc.dispute.respond_by
    assert respond_by is not None
    with travel(respond_by - timedelta(hours=5)):
        assert sweeper.sweep().reminders.applied == 0
    with travel(respond_by - timedelta(hours=3, minutes=59)):
        assert sweeper.sweep().reminders.applied == 1
        assert sweeper.sweep().reminders.applied == 0
    with travel(respond_by - timedelta(hours=1)):
        assert sweeper.sweep().reminders.applied == 0
    [entry] = _entries(sc.id, "reminder")
    assert entry.payload["party"] == "seller"
    assert entry.payload["respond_by"].startswith(respond_by.isoformat(sep=" ")[:19])
    assert _events(sc.id, "dispute.reminder")
    d = sc.refresh()
    assert d.reminded_for == respond_by and d.state == S.AWAITING_SELLER
    assert audit.verify(d).verified


def test_buyer_is_reminded_24_hours_before_and_each_deadline_gets_its_own() -> None:
    sc = dispute_in("awaiting_buyer")
    first = sc.dispute.respond_by
    assert first is not None
    with travel(first - timedelta(hours=25)):
        assert sweeper.sweep().reminders.applied == 0
    with travel(first - timedelta(hours=23)):
        assert sweeper.sweep().reminders.applied == 1
        t.counter(
            dispute_id=sc.id,
            actor=sc["buyer"],
            requested_outcome="partial_refund",
            requested_amount=1000,
        )
    # A new deadline (awaiting_seller again): the seller's reminder is due again.
    second = sc.refresh().respond_by
    assert second is not None and second != first
    with travel(second - timedelta(hours=2)):
        assert sweeper.sweep().reminders.applied == 1
    assert [e.payload["party"] for e in _entries(sc.id, "reminder")] == ["buyer", "seller"]


def test_no_reminder_after_the_deadline_passed() -> None:
    sc = dispute_in("awaiting_seller")
    make_overdue(sc.dispute)
    report = sweeper.sweep()
    assert report.reminders.applied == 0 and report.transitions.applied == 1


def test_reminder_lead_from_the_policy_table_per_reason() -> None:
    DeadlinePolicy.objects.update_or_create(
        state=S.AWAITING_SELLER, reason="damaged_or_defective", defaults={"remind_before": None}
    )
    DeadlinePolicy.objects.update_or_create(
        state=S.AWAITING_SELLER,
        reason="wrong_item",
        defaults={"remind_before": timedelta(hours=10)},
    )
    cast = make_cast()
    damaged = raise_dispute(cast, reason="damaged_or_defective")
    wrong = raise_dispute(cast, order=cast.new_order(), reason="wrong_item")
    assert damaged.respond_by is not None and wrong.respond_by is not None
    with travel(damaged.respond_by - timedelta(hours=8)):
        sweeper.sweep()
    assert _entries(wrong.pk, "reminder") and not _entries(damaged.pk, "reminder")


# --- The policy table -----------------------------------------------------------------------


def test_defaults_come_from_design_and_settings() -> None:
    DeadlinePolicy.objects.all().delete()
    assert policy.duration(S.AWAITING_SELLER) == timedelta(hours=24)
    assert policy.duration(S.AWAITING_BUYER) == timedelta(hours=72)
    assert policy.duration(S.AWAITING_INFO) == timedelta(hours=72)
    assert policy.duration(S.PENDING_APPROVAL) == timedelta(hours=24)
    assert policy.duration(S.AWAITING_FULFILMENT) == timedelta(days=5)
    assert policy.duration(S.ESCALATED) == policy.duration(S.UNDER_REVIEW) == timedelta(hours=48)
    assert policy.duration(S.CLOSED) is None
    assert policy.remind_before(S.AWAITING_SELLER) == timedelta(hours=4)
    assert policy.remind_before(S.AWAITING_BUYER) == timedelta(hours=24)
    # The mediators hear 8 h before a case of the platform breaches its service level.
    assert policy.remind_before(S.ESCALATED) == policy.remind_before(S.UNDER_REVIEW)
    assert policy.remind_before(S.PENDING_APPROVAL) == timedelta(hours=8)
    assert policy.remind_before(S.AWAITING_INFO) is None


def test_settings_still_set_the_defaults(settings: Any) -> None:
    settings.MEDIATION_DEADLINES = {
        **settings.MEDIATION_DEADLINES,
        "awaiting_seller": timedelta(hours=6),
    }
    DeadlinePolicy.objects.get_or_create(state=S.AWAITING_SELLER, reason="")  # blank: inherit
    assert policy.duration(S.AWAITING_SELLER) == timedelta(hours=6)


def test_a_reason_overrides_the_state_default() -> None:
    DeadlinePolicy.objects.update_or_create(
        state=S.AWAITING_SELLER, reason="", defaults={"duration": timedelta(hours=30)}
    )
    DeadlinePolicy.objects.update_or_create(
        state=S.AWAITING_SELLER, reason="not_received", defaults={"duration": timedelta(hours=48)}
    )
    cast = make_cast()
    before = timezone.now()
    other = raise_dispute(cast, reason="damaged_or_defective")
    overridden = raise_dispute(cast, order=cast.new_order(), reason="not_received")
    after = timezone.now()
    assert other.respond_by is not None and overridden.respond_by is not None
    assert before + timedelta(hours=30) <= other.respond_by <= after + timedelta(hours=30)
    assert before + timedelta(hours=48) <= overridden.respond_by <= after + timedelta(hours=48)


def test_the_cached_policy_costs_no_query(django_assert_num_queries: Any) -> None:
    policy.table()
    with django_assert_num_queries(0):
        deadline_for(S.AWAITING_BUYER, timezone.now(), reason="other")


def _console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_edit_changes_the_next_deadline() -> None:
    row, _ = DeadlinePolicy.objects.get_or_create(state=S.AWAITING_SELLER, reason="")
    policy.table()  # cached before the edit
    lead: Any = UserFactory(is_staff=True)
    MediatorProfileFactory(user=lead, tier="lead")
    url = f"/admin/mediation/deadlinepolicy/{row.pk}/change/"
    form = {
        "state": S.AWAITING_SELLER,
        "reason": "",
        "duration": "12:00:00",
        "remind_before": "2:00:00",
    }
    # A mediator without the permission may look, not edit.
    assert _console(lead).get(url).status_code == 200
    assert _console(lead).post(url, form).status_code == 403
    lead.user_permissions.add(Permission.objects.get(codename="change_deadlinepolicy"))
    response = _console(lead).post(url, form)
    assert response.status_code == 302, response.content
    assert policy.duration(S.AWAITING_SELLER) == timedelta(hours=12)
    assert policy.remind_before(S.AWAITING_SELLER) == timedelta(hours=2)
    before = timezone.now()
    d = raise_dispute(make_cast())
    assert d.respond_by is not None
    assert before + timedelta(hours=12) <= d.respond_by <= timezone.now() + timedelta(hours=12)


def test_console_lists_the_policy_with_the_values_in_effect() -> None:
    DeadlinePolicy.objects.get_or_create(state=S.AWAITING_FULFILMENT, reason="")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    body = _console(admin_user).get("/admin/mediation/deadlinepolicy/").content.decode()
    assert "5 d" in body


# --- The command and the task ---------------------------------------------------------------


def test_dry_run_lists_what_is_due_and_changes_nothing() -> None:
    seller = dispute_in("awaiting_seller")
    make_overdue(seller.dispute)
    queue = dispute_in("under_review")
    make_overdue(queue.dispute)
    buyer = dispute_in("awaiting_buyer")
    assert buyer.dispute.respond_by is not None
    out = io.StringIO()
    with travel(timedelta(hours=72) - timedelta(hours=1)):
        call_command("sweep_deadlines", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"Would apply the deadline of dispute {seller.id}" in text
    assert f"Would flag dispute {queue.id} overdue" in text
    assert f"Would remind the buyer of dispute {buyer.id}" in text
    assert "Due: 1 deadline transitions, 1 SLA breaches, 1 reminders" in text
    assert seller.refresh().state == S.AWAITING_SELLER
    assert not AuditEntry.objects.filter(action__in=["sla_breached", "reminder"]).exists()


def test_command_applies_and_summarizes() -> None:
    for state in (S.AWAITING_SELLER, S.AWAITING_INFO):
        make_overdue(dispute_in(state).dispute)
    out = io.StringIO()
    call_command("sweep_deadlines", stdout=out, stderr=io.StringIO())
    assert "Applied 2 deadline transitions, flagged 0 overdue disputes, sent 0 reminders" in (
        out.getvalue()
    )
    assert Dispute.objects.filter(state=S.ESCALATED).count() == 1
    assert Dispute.objects.filter(state=S.UNDER_REVIEW).count() == 1


def test_progress_bar_draws_to_the_end() -> None:
    from workflows.management.commands.sweep_deadlines import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(3, stream)
    for _ in range(3):
        bar(1)
    bar.close()
    assert "[" + "#" * ProgressBar.WIDTH + "] 3/3" in stream.getvalue()


def test_the_beat_task_sweeps(settings: Any) -> None:
    from config.celery import app
    from workflows.tasks import sweep_deadlines

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-deadlines"]
    assert entry["schedule"] == 60.0
    assert app.tasks[entry["task"]].name == sweep_deadlines.name == entry["task"]
    assert sweep_deadlines.acks_late and sweep_deadlines.max_retries == 3
    sc = dispute_in("awaiting_seller")
    make_overdue(sc.dispute)
    result = sweep_deadlines.apply().get()
    assert result["transitions"]["applied"] == 1
    assert sc.refresh().state == S.ESCALATED
