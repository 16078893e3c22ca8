"""Outbox relay and webhook delivery against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from mediation.models import OutboxEvent
from tests.scenarios import as_user, dispute_in
from tests.webhooks.helpers import Receiver, make_endpoint, receiver, verify_signature
from webhooks import delivery as service
from webhooks import services, signing, tasks
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from workflows import conversation, relay
from workflows import transitions as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook() -> Any:
    with receiver() as r:
        yield r


def run_all() -> list[WebhookDelivery]:
    """What the workers do: relay the outbox, then attempt every due delivery."""
    relay.relay_pending()
    done = []
    for delivery_id in service.due_deliveries():
        result = service.deliver(delivery_id)
        if result is not None:
            done.append(result)
    return done


def escalated_scenario(hook: Receiver, events: list[str] | None = None) -> tuple[Any, Any]:
    sc = dispute_in("awaiting_buyer")
    relay.relay_pending()  # what happened before the endpoint existed is not sent
    endpoint = make_endpoint(sc.cast.shop, hook.url, events, created_by=sc["owner"])
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    return sc, endpoint


def test_a_change_is_delivered_signed_with_the_dispute_as_the_shop_sees_it(hook: Any) -> None:
    sc, endpoint = escalated_scenario(hook)
    deliveries = run_all()
    assert {d.status for d in deliveries} == {DeliveryStatus.SUCCEEDED}
    types = [r.headers["Mediation-Event-Type"] for r in hook.requests]
    assert sorted(types) == ["dispute.escalated", "dispute.escalation_requested"]
    for request in hook.requests:
        header = request.headers["Mediation-Signature"]
        assert verify_signature(header, request.body, endpoint.secret)
        assert not verify_signature(header, request.body, "whsec_wrong")
        assert not verify_signature(header, request.body + b" ", endpoint.secret)
        payload = json.loads(request.body)
        assert set(payload) == {"id", "type", "created_at", "data"}
        event = OutboxEvent.objects.get(pk=payload["id"])
        assert payload["type"] == event.type == request.headers["Mediation-Event-Type"]
        assert request.headers["Mediation-Event-Id"] == str(event.pk)
        assert request.headers["Content-Type"] == "application/json"
        data = payload["data"]
        # The dispute as GET /api/v1/disputes/{id}/ shows it to the shop's owner.
        api_view = as_user(sc["owner"]).get(f"/api/v1/disputes/{sc.id}/").json()
        assert data == api_view
        assert data["state"] == "escalated"


def test_each_webhook_shows_the_dispute_as_its_event_left_it_not_as_it_is_when_sent(
    hook: Any,
) -> None:
    """Events that wait in the outbox (a backlog) are still sent as they happened: the
    escalation's webhooks say "escalated" though the case was closed before they went."""
    sc, _ = escalated_scenario(hook)
    t.withdraw(dispute_id=sc.id, actor=sc["buyer"], note="Sorted it out with the shop.")
    assert sc.refresh().state == "closed"
    run_all()
    states = {
        r.headers["Mediation-Event-Type"]: json.loads(r.body)["data"]["state"]
        for r in hook.requests
    }
    assert states["dispute.escalation_requested"] == "escalated"
    assert states["dispute.escalated"] == "escalated"
    assert states["dispute.closed"] == "closed"
    snapshot = OutboxEvent.objects.get(type="dispute.escalated").snapshot
    assert list(snapshot) == [str(sc["owner"].pk)]  # the endpoint's viewer, its owner


def test_no_snapshot_is_taken_when_no_endpoint_listens(hook: Any) -> None:
    sc = dispute_in("awaiting_buyer")
    assert all(e.snapshot == {} for e in OutboxEvent.objects.filter(dispute_id=sc.id))


def test_an_event_without_a_snapshot_is_rendered_when_sent(hook: Any) -> None:
    """An endpoint registered after the event (before the relay) gets the dispute as it is."""
    sc = dispute_in("awaiting_buyer")
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    make_endpoint(sc.cast.shop, hook.url, ["dispute.escalated"], created_by=sc["owner"])
    assert OutboxEvent.objects.get(type="dispute.escalated").snapshot == {}
    run_all()
    (request,) = hook.requests
    assert json.loads(request.body)["data"]["state"] == "escalated"


def test_signature_format_and_time_tolerance() -> None:
    body = b'{"id":"x"}'
    now = int(timezone.now().timestamp())
    header = signing.signature_header(body, ["whsec_a"], now)
    assert header.startswith(f"t={now},v1=")
    assert verify_signature(header, body, "whsec_a")
    stale = signing.signature_header(body, ["whsec_a"], now - 3600)
    assert not verify_signature(stale, body, "whsec_a")
    assert not verify_signature("garbage", body, "whsec_a")
    assert not verify_signature("t=abc,v1=00", body, "whsec_a")


def test_endpoints_get_only_the_types_they_subscribe_to(hook: Any) -> None:
    escalated_scenario(hook, events=["dispute.escalated"])
    run_all()
    assert [r.headers["Mediation-Event-Type"] for r in hook.requests] == ["dispute.escalated"]


def test_internal_events_never_reach_a_webhook(hook: Any) -> None:
    sc = dispute_in("under_review", mediator="mediator_agent")
    relay.relay_pending()
    make_endpoint(sc.cast.shop, hook.url, ["*"])
    conversation.post_message(
        dispute_id=sc.id, actor=sc["mediator_agent"], body="Fraud flags.", internal=True
    )
    assert OutboxEvent.objects.filter(internal=True, relayed_at__isnull=True).exists()
    run_all()
    assert hook.requests == []
    assert not WebhookDelivery.objects.exists()
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()


def test_only_the_disputes_shop_is_told(hook: Any) -> None:
    sc = dispute_in("awaiting_buyer")
    relay.relay_pending()
    make_endpoint(sc.cast.other_shop, hook.url, ["*"])
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    run_all()
    assert hook.requests == []


def test_a_rolled_back_change_sends_nothing(hook: Any) -> None:
    sc = dispute_in("awaiting_seller")
    relay.relay_pending()
    make_endpoint(sc.cast.shop, hook.url, ["*"])
    with pytest.raises(RuntimeError), transaction.atomic():
        t.contest(dispute_id=sc.id, actor=sc["owner"], statement="Signed for.")
        raise RuntimeError("the request failed after the change")
    run_all()
    assert hook.requests == []


def test_relaying_twice_delivers_once_per_endpoint(hook: Any) -> None:
    sc, endpoint = escalated_scenario(hook, events=["dispute.escalated"])
    second = make_endpoint(sc.cast.shop, hook.url, ["dispute.escalated"])
    relay.relay_pending()
    # A worker died after the consumers ran, before the rows were marked: they run again.
    OutboxEvent.objects.update(relayed_at=None)
    relay.relay_pending()
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=second).count() == 1
    run_all()
    run_all()
    assert len(hook.requests) == 2  # one per endpoint


def test_a_failing_consumer_leaves_the_event_for_the_next_run(hook: Any) -> None:
    escalated_scenario(hook, events=["dispute.escalated"])
    calls: list[str] = []

    def broken(event: OutboxEvent) -> None:
        calls.append(event.type)
        raise RuntimeError("mail server down")

    relay.register("broken", broken)
    try:
        report = relay.relay_pending()
        assert report.failed == 2 and report.relayed == 0
        pending = OutboxEvent.objects.filter(relayed_at__isnull=True)
        assert pending.count() == 2
        assert all(e.attempts == 1 and "mail server down" in e.last_error for e in pending)
        # The webhook consumer still did its work; a re-run does not duplicate it.
        assert WebhookDelivery.objects.count() == 1
    finally:
        relay.unregister("broken")
    report = relay.relay_pending()
    assert report.relayed == 2
    assert WebhookDelivery.objects.count() == 1
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()


def _fail_through(delivery: WebhookDelivery) -> list[float]:
    """Attempt until the delivery is final; the scheduled waits, in seconds."""
    waits: list[float] = []
    while True:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        done = service.deliver(delivery.pk)
        assert done is not None
        if done.status == DeliveryStatus.FAILED:
            return waits
        assert done.status == DeliveryStatus.RETRYING
        assert done.next_attempt_at is not None
        waits.append((done.next_attempt_at - timezone.now()).total_seconds())


def test_failures_are_retried_with_growing_backoff_then_fail(hook: Any) -> None:
    hook.status = 500
    _, endpoint = escalated_scenario(hook, events=["dispute.escalated"])
    relay.relay_pending()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    waits = _fail_through(delivery)
    assert len(waits) == len(service.RETRY_DELAYS)
    for wait, base in zip(waits, service.RETRY_DELAYS, strict=True):
        assert base * 0.89 <= wait <= base * 1.11
    assert waits[:4] == sorted(waits[:4])
    assert 20 * 3600 <= sum(service.RETRY_DELAYS) <= 26 * 3600  # about a day
    delivery.refresh_from_db()
    assert delivery.attempts == len(service.RETRY_DELAYS) + 1
    assert delivery.last_response_code == 500
    assert "receiver says no" in delivery.last_error
    assert len(hook.requests) == delivery.attempts
    # Every attempt is signed with the same body.
    assert len({r.body for r in hook.requests}) == 1
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.active


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_owner_told(
    hook: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    hook.status = 503
    sc, endpoint = escalated_scenario(hook)  # two events: two deliveries
    relay.relay_pending()
    mail.outbox.clear()  # the parties' emails about those events
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint))
    assert len(deliveries) == 2
    with django_capture_on_commit_callbacks(execute=True):
        for delivery in deliveries:
            _fail_through(delivery)
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.consecutive_failures == 2
    assert "2 deliveries in a row failed" in endpoint.disabled_reason
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [sc["owner"].email]
    assert endpoint.url in message.body and '{"active": true}' in message.body
    # Off: new events make no deliveries, and nothing is attempted.
    before = WebhookDelivery.objects.count()
    conversation.post_message(dispute_id=sc.id, actor=sc["buyer"], body="Any news?")
    run_all()
    assert WebhookDelivery.objects.count() == before


def test_a_success_resets_the_failure_count(hook: Any) -> None:
    _, endpoint = escalated_scenario(hook, events=["dispute.escalated"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=3)
    run_all()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_slow_receiver_times_out_and_is_retried(hook: Any, settings: Any) -> None:
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    hook.delay = 2.5
    escalated_scenario(hook, events=["dispute.escalated"])
    (delivery,) = run_all()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_response_code is None
    assert "timed out" in delivery.last_error
    assert 900 <= (delivery.last_duration_ms or 0) < 2400


def test_redirects_are_not_followed(hook: Any) -> None:
    hook.status = 302
    hook.location = "http://169.254.169.254/latest/meta-data/"
    escalated_scenario(hook, events=["dispute.escalated"])
    (delivery,) = run_all()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_response_code == 302
    assert len(hook.requests) == 1


def test_a_refused_address_at_delivery_time_is_a_failed_attempt(hook: Any, settings: Any) -> None:
    escalated_scenario(hook, events=["dispute.escalated"])  # registered while allowed
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    (delivery,) = run_all()
    assert hook.requests == []
    assert delivery.status == DeliveryStatus.RETRYING
    assert "https" in delivery.last_error or "address" in delivery.last_error


def test_a_url_on_a_port_no_longer_allowed_fails_at_delivery_time(hook: Any, settings: Any) -> None:
    # Stored before the operator narrowed WEBHOOKS_ALLOWED_PORTS (or before the rule existed).
    sc = dispute_in("awaiting_buyer")
    relay.relay_pending()
    make_endpoint(sc.cast.shop, "https://93.184.215.14:8443/hooks", ["dispute.escalated"])
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    (delivery,) = run_all()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_response_code is None
    assert "port 443 only, not 8443" in delivery.last_error
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.duration_ms == 0  # refused before any connection was made


def test_a_delivery_is_attempted_only_when_due_and_once_at_a_time(hook: Any) -> None:
    escalated_scenario(hook, events=["dispute.escalated"])
    relay.relay_pending()
    delivery = WebhookDelivery.objects.get()
    claimed = service._claim(delivery.pk, now=timezone.now(), force=False)
    assert claimed is not None
    # Leased: a second worker (or beat) finds nothing to do until the lease runs out.
    assert service.deliver(delivery.pk) is None
    assert service.due_deliveries() == []
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=1)):
        assert service.due_deliveries() == [delivery.pk]


def test_manual_redelivery_starts_a_fresh_round(hook: Any) -> None:
    hook.status = 500
    sc, endpoint = escalated_scenario(hook, events=["dispute.escalated"])
    relay.relay_pending()
    delivery = WebhookDelivery.objects.get()
    _fail_through(delivery)
    hook.status = 204
    r = as_user(sc["owner"]).post(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/"
    )
    assert r.status_code == 202, r.json()
    assert r.json()["status"] == "pending"
    (done,) = run_all()
    assert done.status == DeliveryStatus.SUCCEEDED
    assert done.attempts == len(service.RETRY_DELAYS) + 2
    last = WebhookAttempt.objects.filter(delivery=done).order_by("-number").first()
    assert last is not None and last.manual and last.succeeded and last.response_code == 204
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_the_delivery_log(hook: Any) -> None:
    hook.status = 500
    sc, endpoint = escalated_scenario(hook)
    run_all()
    hook.status = 200
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    run_all()
    r = as_user(sc["owner"]).get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/")
    assert r.status_code == 200
    results = r.json()["results"]
    assert [d["id"] for d in results] == sorted((d["id"] for d in results), reverse=True)
    for row in results:
        assert row["status"] == "succeeded"
        assert row["attempt"] == 2 and row["response_code"] == 200
        assert isinstance(row["duration_ms"], int)
        assert [(a["number"], a["response_code"], a["succeeded"]) for a in row["attempts"]] == [
            (1, 500, False),
            (2, 200, True),
        ]
    failed = as_user(sc["owner"]).get(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/?status=failed"
    )
    assert failed.json()["results"] == []


def test_the_delivery_log_costs_the_same_queries_for_more_rows(
    hook: Any, django_assert_max_num_queries: Any
) -> None:
    sc, endpoint = escalated_scenario(hook)
    run_all()
    path = f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/"
    client = as_user(sc["owner"])
    client.get(path)  # warm caches (content types, ...)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(path)
    for _ in range(3):
        conversation.post_message(dispute_id=sc.id, actor=sc["buyer"], body="Any news?")
    run_all()
    assert WebhookDelivery.objects.count() == 5
    with CaptureQueriesContext(connection) as many:
        client.get(path)
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as one_list:
        client.get("/api/v1/webhook-endpoints/")
    make_endpoint(sc.cast.shop, hook.url)
    make_endpoint(sc.cast.shop, hook.url)
    with CaptureQueriesContext(connection) as three_list:
        client.get("/api/v1/webhook-endpoints/")
    assert len(one_list) == len(three_list)


def test_a_change_queues_the_relay_after_commit_without_queries(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OUTBOX_RELAY_ON_COMMIT = True
    sc = dispute_in("awaiting_seller")
    # Enqueued by the task object (its name is the task's own, never a string sent by hand).
    with mock.patch.object(relay.relay_outbox, "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            t.contest(dispute_id=sc.id, actor=sc["owner"], statement="Signed for.")
        assert len(callbacks) == 1
        send.assert_called_once_with(retry=False)
    assert relay.relay_outbox.name == "workflows.relay_outbox"
    # A broker that refuses is logged, not raised into the request.
    with mock.patch.object(relay.relay_outbox, "apply_async", side_effect=OSError("no broker")):
        relay._send_relay_task()


def test_the_tasks_call_the_services(hook: Any) -> None:
    escalated_scenario(hook, events=["dispute.escalated"])
    assert relay.relay_outbox() == {"relayed": 2, "failed": 0}
    delivery = WebhookDelivery.objects.get()
    with mock.patch.object(tasks.deliver_webhook, "apply_async") as send:
        assert tasks.retry_due_webhooks() == 1
    # Dropped if not started before the next run, which queues it again.
    send.assert_called_once_with((delivery.pk,), expires=54.0)
    assert tasks.deliver_webhook(delivery.pk) == "succeeded"
    assert tasks.deliver_webhook(delivery.pk) is None  # done: nothing to do


def test_rotation_signs_with_both_secrets_during_the_overlap(hook: Any) -> None:
    _, endpoint = escalated_scenario(hook, events=["dispute.escalated"])
    old = endpoint.secret
    new = services.rotate_secret(endpoint, timedelta(hours=1))
    run_all()
    (request,) = hook.requests
    header = request.headers["Mediation-Signature"]
    assert header.count("v1=") == 2
    assert verify_signature(header, request.body, new)
    assert verify_signature(header, request.body, old)
    assert signing.signing_secrets(endpoint, timezone.now() + timedelta(hours=2)) == [new]
