"""Email to the parties (DESIGN §6), driven by real transitions and the real relay.

Each test builds a dispute through the services, relays what that left, clears the
outbox, takes one more step, relays again and looks at ``django.core.mail.outbox``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from mediation.models import (
    AuditEntry,
    Dispute,
    MediatorProfile,
    Notification,
    NotificationPreference,
    NotificationStatus,
    OutboxEvent,
)
from notifications import emails as notifications
from notifications import sender
from tests.mailbox import relay_all, send_all
from tests.scenarios import Scenario, dispute_in, make_cast, raise_dispute
from tests.smtp import closed_port, smtp_server
from workflows import conversation, relay, sweeper
from workflows import transitions as t

pytestmark = pytest.mark.django_db


def settled(state: str, **options: Any) -> Scenario:
    """A dispute in ``state`` whose earlier emails are relayed and cleared."""
    sc = dispute_in(state, **options)
    relay_all()
    mail.outbox.clear()
    Notification.objects.all().delete()  # their events are relayed: only new steps count
    return sc


def to(*users: Any) -> list[str]:
    return sorted(u.email for u in users)


def recipients() -> list[str]:
    return sorted(address for m in mail.outbox for address in m.to)


def kinds() -> set[str]:
    return {n.kind for n in Notification.objects.filter(status=NotificationStatus.SENT)}


def opt_out(user: Any, **choices: bool) -> None:
    NotificationPreference.objects.update_or_create(user=user, defaults=choices)


# --- Who hears what ---------------------------------------------------------------------------


def test_a_raised_dispute_goes_to_every_shop_member_not_to_the_buyer() -> None:
    cast = make_cast()
    raise_dispute(cast)
    relay_all()
    assert recipients() == to(cast.owner, cast.agent)
    assert {m.subject for m in mail.outbox} == {
        f"A customer has opened a dispute on order {cast.order.external_id}"
    }
    assert kinds() == {"raised"}


def test_an_offer_goes_to_the_buyer_only() -> None:
    sc = settled("awaiting_seller")
    t.make_offer(dispute_id=sc.id, actor=sc["owner"], kind="partial_refund", amount=3000)
    relay_all()
    assert recipients() == to(sc["buyer"])
    message = mail.outbox[0]
    order = sc.cast.order.external_id
    assert message.subject == f"Paper Petals has made you an offer on order {order}"
    assert "a partial refund of 30.00 USD" in message.body
    assert " UTC" in message.body  # the buyer's deadline, in a human format


def test_an_offer_above_the_agents_limit_goes_to_the_owners_for_approval() -> None:
    sc = settled("awaiting_seller")
    t.make_offer(dispute_id=sc.id, actor=sc["agent"], kind="partial_refund", amount=8000)
    relay_all()
    assert recipients() == to(sc["owner"])
    assert kinds() == {"offer_needs_approval"}
    assert "80.00 USD" in mail.outbox[0].body and "50.00 USD" in mail.outbox[0].body


def test_a_counter_goes_to_the_shop_and_a_contest_to_the_buyer() -> None:
    sc = settled("awaiting_buyer")
    t.counter(
        dispute_id=sc.id,
        actor=sc["buyer"],
        requested_outcome="partial_refund",
        requested_amount=9000,
        note="Half would be fair.",
    )
    relay_all()
    assert recipients() == to(sc["owner"], sc["agent"])
    assert "a partial refund of 90.00 USD" in mail.outbox[0].body
    mail.outbox.clear()
    t.contest(dispute_id=sc.id, actor=sc["agent"], statement="It left us intact.")
    relay_all()
    assert recipients() == to(sc["buyer"])
    assert "It left us intact." in mail.outbox[0].body


def test_an_escalation_is_one_email_to_everyone_but_who_asked() -> None:
    sc = settled("awaiting_buyer", answer="contest")
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request")
    relay_all()
    # Two events (escalation_requested, escalated), one email per person: the shop, and
    # the mediators whose queue it enters.
    mediators = (sc["mediator_agent"], sc["mediator_senior"], sc["mediator_lead"])
    assert recipients() == to(sc["owner"], sc["agent"], *mediators)
    shop_email = next(m for m in mail.outbox if sc["owner"].email in m.to)
    assert "the customer asked us to take a look" in shop_email.body
    queue = next(m for m in mail.outbox if sc["mediator_agent"].email in m.to)
    assert f"A case for your queue: dispute #{sc.id}" in queue.subject
    assert "No one holds it yet" in queue.body


def test_mediators_hear_of_queue_cases_of_their_tier_and_may_opt_out() -> None:
    # An agent ruled; the appeal is heard by a senior or above: the agent is not told.
    sc = settled("awaiting_fulfilment", via="ruling", remedy="partial_refund", amount=5000)
    t.appeal(dispute_id=sc.id, actor=sc["buyer"], reason="The photos were ignored.")
    relay_all()
    queue = {a for m in mail.outbox for a in m.to if "for your queue" in m.subject}
    assert queue == {sc["mediator_senior"].email, sc["mediator_lead"].email}
    # Routine updates can be turned off, as for the parties.
    other = settled("awaiting_buyer", answer="contest")
    opt_out(other["mediator_senior"], updates=False)
    t.escalate(dispute_id=other.id, actor=other["buyer"], reason="buyer_request")
    relay_all()
    told = recipients()
    assert other["mediator_senior"].email not in told, "opted out of routine updates"
    assert other["mediator_agent"].email in told


def test_a_question_goes_to_the_party_asked() -> None:
    sc = settled("under_review", mediator="mediator_agent")
    t.request_info(
        dispute_id=sc.id, actor=sc["mediator_agent"], party="seller", question="Proof of postage?"
    )
    relay_all()
    assert recipients() == to(sc["owner"], sc["agent"])
    assert "Proof of postage?" in mail.outbox[0].body


def test_a_ruling_goes_to_both_parties_once_even_when_it_closes_the_case() -> None:
    sc = settled("under_review", mediator="mediator_agent")
    t.rule(
        dispute_id=sc.id, actor=sc["mediator_agent"], kind="no_action", rationale="As described."
    )
    relay_all()
    assert Dispute.objects.get(pk=sc.id).state == "closed"
    assert recipients() == to(sc["buyer"], sc["owner"], sc["agent"])
    assert kinds() == {"ruled"}
    body = mail.outbox[0].body
    assert "no further action" in body and "the case is now closed" in body
    assert "As described." in body


def test_a_proposed_ruling_reaches_no_party_until_it_is_approved() -> None:
    sc = settled("under_review", mediator="mediator_agent")
    result = t.rule(
        dispute_id=sc.id,
        actor=sc["mediator_agent"],
        kind="full_refund",
        rationale="Photos show the damage.",
    )
    assert result.waiting_for_approval
    relay_all()
    # No party hears of it; the mediators who may approve it do (the senior's 1,000.00 and
    # the lead cover 250.00; the agent proposed it).
    assert recipients() == to(sc["mediator_senior"], sc["mediator_lead"])
    assert kinds() == {"approval_needed"}
    email = mail.outbox[0]
    assert f"A ruling waits for your approval: dispute #{sc.id}" in email.subject
    assert "a full refund of 250.00 USD" in email.body and "Photos show the damage." in email.body
    assert f"/admin/mediation/dispute/{sc.id}/change/" in email.body
    mail.outbox.clear()
    t.approve_ruling(dispute_id=sc.id, actor=sc["mediator_senior"])
    relay_all()
    assert recipients() == to(sc["buyer"], sc["owner"], sc["agent"])
    assert "a full refund of 250.00 USD" in mail.outbox[0].body


def test_internal_notes_and_mediator_steps_never_email_the_parties() -> None:
    sc = settled("escalated")
    t.assign(dispute_id=sc.id, actor=sc["mediator_agent"])
    conversation.post_message(
        dispute_id=sc.id, actor=sc["mediator_agent"], body="Seller flagged.", internal=True
    )
    relay_all()
    assert OutboxEvent.objects.filter(internal=True).exists()
    assert mail.outbox == []


def test_a_recorded_delivery_goes_to_the_other_party() -> None:
    sc = settled("awaiting_fulfilment", remedy="replacement")
    t.fulfil(
        dispute_id=sc.id,
        actor=sc["agent"],
        kind="replacement_shipment",
        carrier="USPS",
        tracking_number="9400111",
    )
    relay_all()
    assert recipients() == to(sc["buyer"])
    assert "USPS" in mail.outbox[0].body and "9400111" in mail.outbox[0].body
    # The buyer's return leg goes the other way.
    other = settled("awaiting_fulfilment", remedy="return_and_refund")
    t.fulfil(
        dispute_id=other.id,
        actor=other["buyer"],
        kind="return_shipment",
        carrier="DHL",
        tracking_number="JD01",
    )
    relay_all()
    assert recipients() == to(other["owner"], other["agent"])


def test_a_withdrawal_closes_the_case_for_the_shop() -> None:
    sc = settled("awaiting_seller")
    t.withdraw(dispute_id=sc.id, actor=sc["buyer"], note="Sorted.")
    relay_all()
    assert recipients() == to(sc["owner"], sc["agent"])
    assert kinds() == {"closed"}
    assert "the customer withdrew the dispute" in mail.outbox[0].body


def test_an_agreement_tells_the_other_side_what_happens_next() -> None:
    sc = settled("awaiting_buyer")
    t.accept_offer(dispute_id=sc.id, actor=sc["buyer"])
    relay_all()
    assert recipients() == to(sc["owner"], sc["agent"])
    assert kinds() == {"agreed"}
    assert "accepted your offer" in mail.outbox[0].body


def test_the_actor_is_never_emailed_about_their_own_step() -> None:
    cast = make_cast()
    sc = dispute_in("closed", cast=cast, outcome="ruled_for_buyer")
    relay_all()
    assert mail.outbox
    for row in Notification.objects.select_related("event"):
        actor = AuditEntry.objects.get(dispute_id=sc.id, seq=row.event.audit_seq).actor_id
        assert row.user_id != actor, row


# --- Reminders and preferences -----------------------------------------------------------------


def _remind(sc: Scenario) -> None:
    Dispute.objects.filter(pk=sc.id).update(respond_by=timezone.now() + timedelta(hours=1))
    sweeper.send_reminder(dispute_id=sc.id)
    relay_all()


def test_a_reminder_goes_to_the_party_whose_deadline_it_is() -> None:
    sc = settled("awaiting_buyer")
    _remind(sc)
    assert recipients() == to(sc["buyer"])
    assert mail.outbox[0].subject.startswith("A reminder: your reply on order")
    assert "UTC" in mail.outbox[0].subject


def test_the_mediators_hear_before_a_case_breaches_its_service_level() -> None:
    held = settled("under_review", mediator="mediator_senior")
    _remind(held)
    assert recipients() == to(held["mediator_senior"])
    email = mail.outbox[0]
    assert email.subject.startswith("Due ") and f"dispute #{held.id}" in email.subject
    assert "nears the platform's service level" in email.body
    assert f"/admin/mediation/dispute/{held.id}/change/" in email.body
    # Unassigned: every mediator of the queue; waiting for approval: who may approve.
    queued = settled("escalated")
    _remind(queued)
    active = MediatorProfile.objects.filter(active=True).values_list("user__email", flat=True)
    assert recipients() == sorted(active)
    waiting = settled("pending_approval", proposer="mediator_agent")
    _remind(waiting)
    told = set(recipients())
    assert {waiting["mediator_senior"].email, waiting["mediator_lead"].email} <= told
    assert waiting["mediator_agent"].email not in told, "the proposer does not approve"


def test_reminders_respect_an_opt_out() -> None:
    sc = settled("awaiting_seller")
    opt_out(sc["agent"], reminders=False)
    _remind(sc)
    assert recipients() == to(sc["owner"])
    skipped = Notification.objects.get(user=sc["agent"])
    assert (skipped.status, skipped.error) == ("skipped", "opted out of reminders")


def test_updates_respect_an_opt_out_but_rulings_do_not() -> None:
    sc = settled("under_review", mediator="mediator_agent")
    opt_out(sc["buyer"], reminders=False, updates=False)
    opt_out(sc["owner"], reminders=False, updates=False)
    t.rule(
        dispute_id=sc.id,
        actor=sc["mediator_agent"],
        kind="partial_refund",
        amount=5000,
        rationale="Half.",
    )
    relay_all()
    assert recipients() == to(sc["buyer"], sc["owner"], sc["agent"])
    mail.outbox.clear()
    t.fulfil(dispute_id=sc.id, actor=sc["owner"], kind="refund", amount=2000, reference="re_1")
    relay_all()
    assert mail.outbox == []  # the buyer turned routine updates off
    assert Notification.objects.get(user=sc["buyer"], kind="fulfilment_recorded").error == (
        "opted out of updates"
    )


def test_people_without_an_address_are_skipped() -> None:
    cast = make_cast()
    cast.agent.email = ""
    cast.agent.save()
    raise_dispute(cast)
    relay_all()
    assert recipients() == to(cast.owner)
    assert Notification.objects.get(user=cast.agent).error == "no email address"


# --- Idempotency and failures -------------------------------------------------------------------


def test_a_re_relay_sends_nothing_new() -> None:
    dispute_in("awaiting_buyer")
    relay_all()
    sent = len(mail.outbox)
    assert sent
    OutboxEvent.objects.update(relayed_at=None)
    relay_all()
    assert len(mail.outbox) == sent
    assert Notification.objects.count() == sent


def test_the_relay_only_writes_the_emails_and_the_sender_sends_them(settings: Any) -> None:
    """The relay's transaction never talks to a mail server: it leaves rendered, pending
    rows; the sender sends them, each with its Message-ID."""
    cast = make_cast()
    raise_dispute(cast)
    assert relay.relay_pending().relayed == 1
    rows = list(Notification.objects.order_by("user_id"))
    assert [r.status for r in rows] == ["pending", "pending"] and mail.outbox == []
    assert all(r.subject and r.body_text and r.body_html.startswith("<!DOCTYPE") for r in rows)
    for r in rows:
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[1]
        assert r.message_id.startswith("<") and r.message_id.endswith(f"@{domain}>")
        assert f".n.{r.event_id}.{r.user_id}@" in r.message_id
    assert len({r.message_id for r in rows}) == 2
    assert send_all().sent == 2
    assert recipients() == to(cast.owner, cast.agent)
    ids = {m.to[0]: m.extra_headers["Message-ID"] for m in mail.outbox}
    assert ids == {r.email: r.message_id for r in rows}
    assert {r.status for r in Notification.objects.all()} == {"sent"}
    assert send_all().sent == 0  # sent once


class Killed(BaseException):
    """The sender's process dying mid-send (kill -9): nothing after it runs."""


class DyingBackend(BaseEmailBackend):
    """A connection that dies before the message reaches the server."""

    def send_messages(self, email_messages: Any) -> int:
        raise Killed


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_send_leaves_a_claim_that_is_sent_once_after_its_lease(
    settings: Any, monkeypatch: Any
) -> None:
    """The claim commits before anything is sent: a killed sender leaves the row
    ``sending`` (not rolled back to a state that would send it at once, twice), and once
    the lease is over the next run sends it, once, with the same Message-ID."""
    cast = make_cast()
    raise_dispute(cast)
    relay.relay_pending()
    settings.EMAIL_BACKEND = f"{__name__}.DyingBackend"
    with pytest.raises(Killed):
        sender.send_due()
    claimed = Notification.objects.get(status="sending")  # committed: a fresh read sees it
    assert claimed.attempts == 1
    assert claimed.next_attempt_at is not None
    lease_end = claimed.next_attempt_at
    lease = timedelta(seconds=settings.NOTIFICATION_SEND_LEASE_SECONDS)
    assert lease_end > timezone.now() + lease - timedelta(seconds=60)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_all().sent == 1  # the other one; the claimed one waits for its lease
    assert [m.to for m in mail.outbox] != [[claimed.email]]
    later = lease_end + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert send_all().sent == 1
    again = [m for m in mail.outbox if m.to == [claimed.email]]
    assert len(again) == 1 and again[0].extra_headers["Message-ID"] == claimed.message_id
    row = Notification.objects.get(pk=claimed.pk)
    assert (row.status, row.attempts, row.next_attempt_at) == ("sent", 2, None)


def test_a_mail_outage_is_retried_on_schedule_without_holding_up_webhooks(
    settings: Any, monkeypatch: Any
) -> None:
    from tests.webhooks.helpers import make_endpoint
    from webhooks.models import WebhookDelivery

    cast = make_cast()
    make_endpoint(cast.shop, "https://hooks.example.com/d")
    raise_dispute(cast)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()  # the server is down
    relay_all()
    event = OutboxEvent.objects.get(type="dispute.raised")
    assert event.relayed_at is not None  # the relay is not held up by mail
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    rows = list(Notification.objects.all())
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all("Connection refused" in r.error or "Errno" in r.error for r in rows), rows
    first_retry = min(r.next_attempt_at for r in rows if r.next_attempt_at)
    assert first_retry > timezone.now() + timedelta(seconds=50)
    assert send_all().sent == 0  # not due yet

    with smtp_server(settings) as box:  # the server is back, a minute later
        monkeypatch.setattr(timezone, "now", lambda: first_retry + timedelta(seconds=10))
        assert send_all().sent == 2
    assert box.recipients() == to(cast.owner, cast.agent)
    assert {str(m["Message-ID"]).strip() for m in box.messages} == {r.message_id for r in rows}


def test_a_temporary_refusal_is_retried_and_failed_after_the_last_attempt(
    settings: Any, monkeypatch: Any
) -> None:
    cast = make_cast()
    raise_dispute(cast)
    relay_all()
    Notification.objects.update(status="pending", next_attempt_at=timezone.now(), attempts=0)
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with smtp_server(settings) as box:
        box.busy = True  # 451 to every message
        clock = timezone.now()
        for attempt in (1, 2):
            report = send_all()
            assert (report.retrying, report.failed) == (2, 0), attempt
            wait = sender.RETRY_DELAYS[attempt - 1]
            clock += timedelta(seconds=wait + 1)
            monkeypatch.setattr(timezone, "now", lambda at=clock: at)
        report = send_all()
        assert (report.retrying, report.failed) == (0, 2)
    rows = list(Notification.objects.all())
    assert {(r.status, r.attempts, r.next_attempt_at) for r in rows} == {("failed", 3, None)}
    assert all("451" in r.error for r in rows) and box.messages == []


def test_one_refused_address_does_not_hold_back_the_others(settings: Any) -> None:
    cast = make_cast()
    raise_dispute(cast)
    with smtp_server(settings) as box:
        box.refuse = {cast.agent.email}
        relay_all()
        assert send_all().sent == 0  # a refusal for good is not retried
    assert box.recipients() == to(cast.owner)
    rows = {n.user_id: n for n in Notification.objects.all()}
    statuses = {pk: n.status for pk, n in rows.items()}
    assert statuses == {cast.owner.pk: "sent", cast.agent.pk: "failed"}
    assert "550" in rows[cast.agent.pk].error and rows[cast.agent.pk].next_attempt_at is None


# --- The message itself -------------------------------------------------------------------------


def test_every_email_has_text_and_html_and_escapes_what_people_typed(settings: Any) -> None:
    settings.STOREFRONT_DISPUTE_URL = "https://shop.example/disputes/{id}"
    cast = make_cast()
    cast.owner.first_name = "<script>alert('owner')</script>"
    cast.owner.save()
    cast.shop.name = "Petals\r\nBcc: victim@example.com"
    cast.shop.save()
    d = raise_dispute(cast, description='<img src=x onerror="alert(1)"> & it broke')
    relay_all()
    message = next(m for m in mail.outbox if m.to == [cast.owner.email])
    assert isinstance(message, EmailMultiAlternatives)
    html, mimetype = message.alternatives[0]
    assert isinstance(html, str)
    assert mimetype == "text/html"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img src=x" in html and "&amp; it broke" in html
    assert f"https://shop.example/disputes/{d.pk}" in html
    # Plain text is not HTML: what the buyer typed reads as typed.
    assert '<img src=x onerror="alert(1)"> & it broke' in message.body
    assert f"https://shop.example/disputes/{d.pk}" in message.body
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    message.message()  # builds without a header error


def test_every_kind_renders_for_every_party() -> None:
    """Each template pair exists and renders for the buyer and the shop."""
    sc = dispute_in("awaiting_fulfilment", remedy="full_refund")
    entry = AuditEntry.objects.filter(dispute_id=sc.id).last()
    assert entry is not None
    for kind in set(notifications.KINDS.values()):
        for party, user in (("buyer", sc["buyer"]), ("seller", sc["owner"])):
            person = notifications.Recipient(user, party)
            subject, text, html = notifications.render(kind, person, entry, sc.dispute)
            assert subject and "order" in subject
            assert text.startswith("Hello ")
            assert sc.cast.order.external_id in text
            assert "{{" not in text and "{%" not in text
            assert html.startswith("<!DOCTYPE html>")
