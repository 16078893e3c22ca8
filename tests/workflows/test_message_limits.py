"""The thread's limits: a message quota per party per dispute, a per-minute rate per writer
(messages and reports of messages), and the length of a message or a report's reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from mediation.errors import InvalidInput, RateLimited, RuleViolation
from mediation.models import AuditEntry, Message, OutboxEvent
from tests.scenarios import Scenario, as_user, dispute_in, raise_dispute
from workflows import conversation

pytestmark = pytest.mark.django_db


def post(sc: Scenario, who: str, body: str = "Any news?", **extra: Any) -> Any:
    return as_user(sc[who]).post(
        f"/api/v1/disputes/{sc.id}/messages/", {"body": body, **extra}, format="json"
    )


def write(sc: Scenario, who: str, n: int) -> None:
    for i in range(n):
        conversation.post_message(dispute_id=sc.id, actor=sc[who], body=f"Message {i}")


def age_messages(**which: Any) -> None:
    """Move messages out of the rate's window, as if written over a minute ago."""
    Message.objects.filter(**which).update(created_at=timezone.now() - timedelta(seconds=61))


def test_the_defaults_are_documented_values() -> None:
    assert django_settings.MESSAGE_MAX_PER_DISPUTE == 200
    assert django_settings.MESSAGE_RATE_PER_MINUTE == 10


# --- The quota per party per dispute --------------------------------------------------------


def test_a_party_beyond_its_quota_is_refused_with_422(settings: Any) -> None:
    settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE = 3, 0
    sc = dispute_in("awaiting_seller")
    write(sc, "buyer", 3)
    entries, events = AuditEntry.objects.count(), OutboxEvent.objects.count()
    r = post(sc, "buyer", "A fourth one")
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert (r.json()["code"], r.json()["limit"]) == ("message_quota_exceeded", 3)
    # Nothing of the refused message stays: no row, no audit entry, no event.
    assert not Message.objects.filter(body="A fourth one").exists()
    assert (AuditEntry.objects.count(), OutboxEvent.objects.count()) == (entries, events)
    # The other side has a quota of its own.
    assert post(sc, "owner", "We are on it.").status_code == 201


def test_the_shops_members_share_the_sellers_quota(settings: Any) -> None:
    settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE = 2, 0
    sc = dispute_in("awaiting_seller")
    write(sc, "owner", 1)
    write(sc, "agent", 1)
    with pytest.raises(RuleViolation) as refused:
        write(sc, "agent", 1)
    assert refused.value.code == "message_quota_exceeded"
    assert post(sc, "owner").json()["code"] == "message_quota_exceeded"
    write(sc, "buyer", 2)


def test_the_quota_is_per_dispute(settings: Any) -> None:
    settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE = 1, 0
    sc = dispute_in("awaiting_seller")
    write(sc, "buyer", 1)
    assert post(sc, "buyer").status_code == 422
    other = raise_dispute(sc.cast, order=sc.cast.new_order())
    conversation.post_message(dispute_id=other.pk, actor=sc["buyer"], body="Here too.")


def test_mediators_have_no_quota(settings: Any) -> None:
    settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE = 1, 0
    sc = dispute_in("escalated")
    write(sc, "mediator_agent", 3)
    r = post(sc, "mediator_agent", "A note.", internal=True)
    assert r.status_code == 201, r.content
    assert Message.objects.filter(dispute_id=sc.id, author=sc["mediator_agent"]).count() == 4


def test_zero_turns_the_quota_off(settings: Any) -> None:
    settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE = 0, 0
    sc = dispute_in("awaiting_seller")
    write(sc, "buyer", 25)
    assert post(sc, "buyer").status_code == 201


# --- The rate per writer ----------------------------------------------------------------------


def test_a_writer_beyond_the_rate_gets_429_with_retry_after(settings: Any) -> None:
    settings.MESSAGE_RATE_PER_MINUTE = 2
    sc = dispute_in("awaiting_seller")
    assert post(sc, "buyer", "One").status_code == 201
    # The rate counts the writer's messages in every dispute together.
    other = raise_dispute(sc.cast, order=sc.cast.new_order())
    conversation.post_message(dispute_id=other.pk, actor=sc["buyer"], body="Two")
    r = post(sc, "buyer", "Three")
    assert r.status_code == 429, r.content
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert (body["code"], body["limit"]) == ("message_rate_exceeded", 2)
    assert 55 <= int(r["Retry-After"]) <= 60 and body["retry_after"] == int(r["Retry-After"])
    assert not Message.objects.filter(body="Three").exists()
    # Someone else writes on.
    assert post(sc, "owner", "We are looking into it.").status_code == 201
    # Once the first message is over a minute old, one more fits.
    age_messages(body="One")
    assert post(sc, "buyer", "Three").status_code == 201
    assert post(sc, "buyer", "Four").json()["code"] == "message_rate_exceeded"


def test_retry_after_counts_down_to_the_oldest_message_leaving_the_window(
    settings: Any,
) -> None:
    settings.MESSAGE_RATE_PER_MINUTE = 2
    sc = dispute_in("awaiting_seller")
    write(sc, "buyer", 2)
    Message.objects.filter(body="Message 0").update(
        created_at=timezone.now() - timedelta(seconds=50)
    )
    with pytest.raises(RateLimited) as refused:
        write(sc, "buyer", 1)
    assert 9 <= refused.value.extra["retry_after"] <= 11


def test_the_rate_applies_to_mediators_too(settings: Any) -> None:
    settings.MESSAGE_RATE_PER_MINUTE = 2
    sc = dispute_in("escalated")
    write(sc, "mediator_agent", 2)
    r = post(sc, "mediator_agent", "A note.", internal=True)
    assert (r.status_code, r.json()["code"]) == (429, "message_rate_exceeded")


def test_a_replayed_message_is_not_counted_again(settings: Any) -> None:
    settings.MESSAGE_RATE_PER_MINUTE = 1
    sc = dispute_in("awaiting_seller")
    client = as_user(sc["buyer"])
    url = f"/api/v1/disputes/{sc.id}/messages/"
    first = client.post(url, {"body": "Hello?"}, format="json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    again = client.post(url, {"body": "Hello?"}, format="json", headers={"Idempotency-Key": "k-1"})
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    # A new message is over the rate, and the 429 is not kept for the key.
    refused = client.post(url, {"body": "Hi"}, format="json", headers={"Idempotency-Key": "k-2"})
    assert refused.status_code == 429
    age_messages(dispute_id=sc.id)
    retried = client.post(url, {"body": "Hi"}, format="json", headers={"Idempotency-Key": "k-2"})
    assert retried.status_code == 201, retried.content


def test_reports_have_the_same_rate(settings: Any) -> None:
    settings.MESSAGE_RATE_PER_MINUTE = 0
    sc = dispute_in("awaiting_seller")
    write(sc, "owner", 3)
    settings.MESSAGE_RATE_PER_MINUTE = 2
    ids = list(Message.objects.filter(dispute_id=sc.id).order_by("id").values_list("pk", flat=True))
    client = as_user(sc["buyer"])
    for pk in ids[:2]:
        r = client.post(
            f"/api/v1/disputes/{sc.id}/messages/{pk}/report/", {"reason": "Rude."}, format="json"
        )
        assert r.status_code == 200, r.content
    r = client.post(
        f"/api/v1/disputes/{sc.id}/messages/{ids[2]}/report/", {"reason": "Rude."}, format="json"
    )
    assert (r.status_code, r.json()["code"]) == (429, "report_rate_exceeded")
    assert int(r["Retry-After"]) >= 1
    assert not Message.objects.get(pk=ids[2]).reported
    # Reports and messages are counted apart: the buyer may still write.
    assert post(sc, "buyer", "Please stop.").status_code == 201


# --- Lengths -----------------------------------------------------------------------------------


def test_a_message_may_be_20000_characters_and_no_more() -> None:
    sc = dispute_in("awaiting_seller")
    assert post(sc, "buyer", "x" * conversation.MAX_BODY).status_code == 201
    r = post(sc, "buyer", "x" * (conversation.MAX_BODY + 1))
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert "body" in r.json()["errors"]
    too_long = "y" * (conversation.MAX_BODY + 1)
    with pytest.raises(InvalidInput):
        conversation.post_message(dispute_id=sc.id, actor=sc["buyer"], body=too_long)


def test_a_reports_reason_is_bounded() -> None:
    sc = dispute_in("awaiting_seller")
    write(sc, "owner", 1)
    message = Message.objects.get(dispute_id=sc.id)
    too_long = "z" * (conversation.MAX_REASON + 1)
    r = as_user(sc["buyer"]).post(
        f"/api/v1/disputes/{sc.id}/messages/{message.pk}/report/",
        {"reason": too_long},
        format="json",
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    with pytest.raises(InvalidInput):
        conversation.report_message(
            dispute_id=sc.id, message_id=message.pk, actor=sc["buyer"], reason=too_long
        )
    assert not Message.objects.get(pk=message.pk).reported
