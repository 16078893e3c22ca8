"""Four outbox relays at once on PostgreSQL hand each event to the consumers exactly once.

What :func:`workflows.relay.relay_pending` guarantees: a relay locks its batch with
``SELECT ... FOR UPDATE SKIP LOCKED``, calls the consumers inside that transaction and marks
the rows relayed before it commits. A second relay skips the locked rows, and one that meets
a row just committed by another re-checks ``relayed_at IS NULL`` on the new row version
(PostgreSQL's READ COMMITTED re-check of locked rows), so it does not take it again. Hence,
while every consumer succeeds and no worker dies, each event reaches each consumer exactly
once however many relays run. A failing consumer or a dead worker leaves the event
unrelayed, and the next run calls every consumer again: at least once, which is why
consumers must be idempotent by event id (the webhook fan-out is, by a unique constraint).

The counting consumer below keeps its counts outside the database, so even a call whose
transaction was later rolled back would be counted. Skipped on SQLite::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_relay \\
        .venv/bin/pytest --create-db tests/workflows/test_relay_pg.py
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from mediation.models import Dispute, OutboxEvent
from tests.scenarios import dispute_in, make_cast
from tests.threads import in_background, run_together
from tests.webhooks.helpers import make_endpoint
from webhooks.fanout import fan_out
from webhooks.models import WebhookDelivery
from workflows import relay

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs SKIP LOCKED"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 4
EVENTS = 600  # besides those the scenarios wrote
BATCH = 25


class CountingConsumer:
    """Counts every call per event id, and which relay (thread) made it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[uuid.UUID] = Counter()
        self.threads: Counter[str] = Counter()

    def __call__(self, event: OutboxEvent) -> None:
        with self.lock:
            self.calls[event.pk] += 1
            self.threads[threading.current_thread().name] += 1


def _relays(count: int) -> list[relay.RelayReport]:
    """``count`` relays, each in its own thread with its own connection, started together;
    each runs until a run finds nothing left for it."""

    def drain() -> list[relay.RelayReport]:
        runs = []
        while True:
            report = relay.relay_pending(batch=BATCH)
            runs.append(report)
            if not report.relayed and not report.failed:
                return runs

    reports = run_together([drain] * count, name="relay")
    return [r for runs in reports for r in runs]


def _message_events(dispute_id: int, count: int) -> None:
    """``count`` message events for the dispute, written at once."""
    now = timezone.now()
    OutboxEvent.objects.bulk_create(
        OutboxEvent(
            dispute_id=dispute_id,
            audit_seq=1000 + i,
            type="dispute.message_posted",
            action="message",
            payload={"message": i},
            created_at=now,
        )
        for i in range(count)
    )


@pytest.fixture
def consumers(monkeypatch: pytest.MonkeyPatch) -> CountingConsumer:
    """Only the counting consumer and the webhook fan-out (whatever else the apps register)."""
    counting = CountingConsumer()
    monkeypatch.setattr(relay, "_consumers", {"count": counting, "webhooks": fan_out})
    return counting


def test_four_relays_at_once_consume_every_event_exactly_once(
    consumers: CountingConsumer,
) -> None:
    cast = make_cast()
    sc = dispute_in("awaiting_buyer", cast=cast)
    endpoint = make_endpoint(cast.shop, "http://127.0.0.1:9/hooks", ["*"])
    _message_events(sc.id, EVENTS)
    events = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert len(events) > EVENTS  # and the scenario's own

    reports = _relays(THREADS)

    # Each event was handed to the consumer exactly once, by one of the relays.
    assert set(consumers.calls) == events
    assert set(consumers.calls.values()) == {1}
    assert sum(r.relayed for r in reports) == len(events)
    assert not any(r.failed for r in reports)
    assert len(consumers.threads) > 1, consumers.threads  # they did share the work
    # Every row is marked, after one attempt.
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    assert set(OutboxEvent.objects.values_list("attempts", flat=True)) == {1}
    # The fan-out made one delivery per party event for the endpoint.
    deliveries = Counter(
        WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event_id", flat=True)
    )
    assert set(deliveries.values()) == {1}
    assert len(deliveries) == OutboxEvent.objects.filter(internal=False).count()


def test_relays_racing_a_failing_consumer_call_the_others_again_and_stay_idempotent(
    consumers: CountingConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At least once: events whose first run failed in one consumer are relayed again, and
    the other consumers see them twice; the fan-out still makes one delivery each."""
    cast = make_cast()
    sc = dispute_in("awaiting_buyer", cast=cast)
    endpoint = make_endpoint(cast.shop, "http://127.0.0.1:9/hooks", ["*"])
    _message_events(sc.id, 200)
    failed_once: set[Any] = set()
    lock = threading.Lock()

    def flaky(event: OutboxEvent) -> None:
        # Fails the first time it sees every third event.
        if event.audit_seq % 3 == 0:
            with lock:
                first = event.pk not in failed_once
                failed_once.add(event.pk)
            if first:
                raise RuntimeError("the mail server is down")

    monkeypatch.setitem(relay._consumers, "flaky", flaky)
    # A relay stops only on a run that found nothing: the failed events were taken again.
    _relays(THREADS)

    assert failed_once
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    twice = {pk for pk, n in consumers.calls.items() if n == 2}
    assert twice == failed_once
    assert set(consumers.calls.values()) == {1, 2}
    deliveries = Counter(
        WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event_id", flat=True)
    )
    assert set(deliveries.values()) == {1}
    assert len(deliveries) == OutboxEvent.objects.filter(internal=False).count()


def test_a_relay_running_the_consumers_does_not_hold_up_the_dispute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The relay locks its event rows only: while a consumer is slow (an SMTP server, say),
    the dispute's row stays free for its next transition and for the sweeper."""
    sc = dispute_in("awaiting_buyer")
    inside, release = threading.Event(), threading.Event()

    def slow(event: OutboxEvent) -> None:
        inside.set()
        release.wait(timeout=30)

    monkeypatch.setattr(relay, "_consumers", {"slow": slow})
    with in_background(relay.relay_pending):
        try:
            assert inside.wait(timeout=30)
            with transaction.atomic():
                locked = list(Dispute.objects.select_for_update(nowait=True).filter(pk=sc.id))
            assert [d.pk for d in locked] == [sc.id]
        finally:
            release.set()
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
