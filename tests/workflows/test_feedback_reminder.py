"""Feedback closes the loop (issue 12, item 12): two days after a dispute closes, each party
who has not rated its handling is asked to, once, by the deadline sweeper."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from mediation.errors import Forbidden, RuleViolation
from mediation.models import AuditEntry, Dispute, Notification, NotificationPreference
from tests.mailbox import relay_all
from tests.scenarios import Scenario, _rule, as_user, dispute_in, travel
from workflows import conversation, sweeper
from workflows import transitions as t

pytestmark = pytest.mark.django_db

AFTER = timedelta(hours=48)


def closed(**options: Any) -> Scenario:
    sc = dispute_in("closed", **options)
    relay_all()
    mail.outbox.clear()
    return sc


def reminders(sc: Scenario) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(dispute_id=sc.id, action="feedback_reminder"))


def sweep_later(hours: float) -> sweeper.SweepReport:
    with travel(timedelta(hours=hours)):
        report = sweeper.sweep()
        relay_all()
    return report


def test_closing_schedules_the_request_two_days_later() -> None:
    sc = closed(outcome="agreement")
    d = Dispute.objects.get(pk=sc.id)
    assert d.closed_at is not None
    assert d.feedback_due_at == d.closed_at + AFTER
    assert d.feedback_reminded_at is None


def test_both_parties_are_asked_once_after_two_days() -> None:
    sc = closed(outcome="ruled_for_seller")
    assert sweep_later(47).feedback_reminders.applied == 0
    assert reminders(sc) == []

    report = sweep_later(49)
    assert report.feedback_reminders.applied == 1
    (entry,) = reminders(sc)
    assert entry.payload == {"parties": ["buyer", "seller"]}
    assert entry.actor_role == "system"
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {sc["buyer"].email, sc["owner"].email, sc["agent"].email}
    buyer_mail = sent[sc["buyer"].email]
    assert buyer_mail.subject == (
        "How did we do? Rate the handling of your dispute about order "
        f"{sc.dispute.order.external_id}"
    )
    assert "This is the only time we will ask." in buyer_mail.body
    assert "not about the shop" in buyer_mail.body
    assert "turn reminders off" in buyer_mail.body

    d = Dispute.objects.get(pk=sc.id)
    assert d.feedback_due_at is None and d.feedback_reminded_at is not None
    # Once: a later sweep asks no one again.
    mail.outbox.clear()
    assert sweep_later(24 * 9).feedback_reminders.applied == 0
    assert len(reminders(sc)) == 1 and mail.outbox == []


def test_a_party_who_rated_is_not_asked() -> None:
    sc = closed(outcome="agreement")
    conversation.leave_feedback(dispute_id=sc.id, actor=sc["buyer"], rating=5)
    relay_all()
    mail.outbox.clear()
    sweep_later(49)
    (entry,) = reminders(sc)
    assert entry.payload == {"parties": ["seller"]}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([sc["owner"].email, sc["agent"].email])


def test_when_both_rated_nothing_is_sent_and_nothing_stays_due() -> None:
    sc = closed(outcome="agreement")
    conversation.leave_feedback(dispute_id=sc.id, actor=sc["buyer"], rating=4)
    conversation.leave_feedback(dispute_id=sc.id, actor=sc["owner"], rating=5)
    relay_all()
    mail.outbox.clear()
    sweep_later(49)
    assert reminders(sc) == [] and mail.outbox == []
    d = Dispute.objects.get(pk=sc.id)
    assert d.feedback_due_at is None and d.feedback_reminded_at is not None


def test_the_request_is_a_reminder_a_person_can_turn_off() -> None:
    sc = closed(outcome="withdrawn")
    NotificationPreference.objects.create(user=sc["buyer"], reminders=False)
    sweep_later(49)
    assert sc["buyer"].email not in {m.to[0] for m in mail.outbox}
    skipped = Notification.objects.get(user=sc["buyer"], kind="feedback_reminder")
    assert (skipped.status, skipped.error) == ("skipped", "opted out of reminders")


def test_the_request_is_in_the_timeline_and_the_webhook_catalogue() -> None:
    sc = closed(outcome="agreement")
    sweep_later(49)
    r = as_user(sc["buyer"]).get(f"/api/v1/disputes/{sc.id}/timeline/")
    assert r.status_code == 200
    sentences = [step["summary"] for step in r.json()["results"]]
    assert "The buyer and the shop were asked to rate how the case was handled" in sentences
    assert "dispute.feedback_requested" in t.PARTY_EVENT_TYPES


def test_an_appeal_before_the_request_moves_it_to_the_second_close() -> None:
    sc = closed(outcome="ruled_for_seller")
    t.appeal(dispute_id=sc.id, actor=sc["buyer"], reason="Please look again.")
    d = Dispute.objects.get(pk=sc.id)
    assert d.feedback_due_at is None  # reopened: nothing to rate yet
    assert sweep_later(49).feedback_reminders.applied == 0


def test_a_dispute_reopened_after_the_request_is_not_asked_again() -> None:
    sc = closed(outcome="ruled_for_seller")
    sweep_later(49)
    assert len(reminders(sc)) == 1
    t.appeal(dispute_id=sc.id, actor=sc["buyer"], reason="Please look again.")
    d = Dispute.objects.get(pk=sc.id)
    # The higher tier rules again.
    hearing = "mediator_lead" if d.required_tier == "lead" else "mediator_senior"
    _rule(sc.cast, d, kind="no_action", amount=None, ruled_by=hearing)
    d.refresh_from_db()
    assert d.state == "closed" and d.feedback_due_at is None
    assert sweep_later(24 * 3).feedback_reminders.applied == 0
    assert len(reminders(sc)) == 1


@override_settings(MEDIATION_FEEDBACK_REMINDER_AFTER=timedelta(0))
def test_zero_turns_the_request_off() -> None:
    sc = closed(outcome="agreement")
    assert Dispute.objects.get(pk=sc.id).feedback_due_at is None
    assert sweep_later(49).feedback_reminders.applied == 0


def test_the_dry_run_lists_the_requests_due(capsys: Any) -> None:
    sc = closed(outcome="agreement")
    Dispute.objects.filter(pk=sc.id).update(feedback_due_at=sc.dispute.closed_at)
    call_command("sweep_deadlines", "--dry-run")
    out = capsys.readouterr().out
    assert f"Would ask for feedback on dispute {sc.id}" in out
    assert "1 requests for feedback (dry run: nothing changed)" in out
    call_command("sweep_deadlines", "--no-progress")
    assert "and 1 requests for feedback" in capsys.readouterr().out
    assert len(reminders(sc)) == 1


def test_only_the_system_asks() -> None:
    sc = closed(outcome="agreement")
    with pytest.raises(Forbidden):
        sweeper.remind_to_rate(dispute_id=sc.id, actor=sc["owner"])
    with pytest.raises(RuleViolation):  # not due yet
        sweeper.remind_to_rate(dispute_id=sc.id)
