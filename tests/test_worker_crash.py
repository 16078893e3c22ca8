"""A worker killed with SIGKILL in the middle of webhook deliveries and of emails loses
nothing and applies nothing twice (the transactional outbox of DESIGN §6).

A real prefork worker (two pool processes) and beat run against their own database and
the suite's broker (:mod:`tests.live`). The shop's endpoint takes every event type and
answers each request after 2 s. Once requests are arriving, the worker's main process and
its pool children are killed at once — with requests still open at the receiver, so those
attempts can never be recorded, and with messages it had taken from the broker and not
acknowledged. A fresh worker is then started, and the test waits until the database says
every event is relayed and every delivery succeeded.

What makes it whole again: events are rows written with their change, so a dead relay
only leaves rows unrelayed for the next run; a delivery claimed by the dead worker comes
back due when its lease ends (``WEBHOOKS_DELIVERY_LEASE_SECONDS``, 8 s here) and beat's
retry run queues it; a message the dead worker had taken is lost on the broker on local
files (which has no redelivery) and held back by Redis until its visibility timeout, and
either way the same retry run covers it. Receivers may therefore see an event twice,
which is why the README tells them to ignore a repeated event id.

The emails go to a real SMTP server (:mod:`tests.smtp`) that takes 2 s over each message
(0.1 s after the kill), and the kill waits for one to be under way too. An email is claimed
in a committed step before it is sent; the dead worker's claims come back once their lease
ends (``NOTIFICATION_SEND_LEASE_SECONDS``, 8 s here), and beat's sender run sends them.
Only a message whose data the server had when the worker died can arrive twice, with the
same Message-ID; every other email arrives once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import live, smtp
from tests.webhooks.helpers import receiver, verify_signature

# Every party-visible event of the Inkwell Studio's disputes: those the demo's seeding wrote
# (unrelayed until a worker runs), and a few messages written now, all after the endpoint.
SETUP = """
import json
from webhooks.models import WebhookEndpoint
from webhooks.signing import new_secret
from mediation.models import Dispute, OutboxEvent, State
from workflows import conversation
from workflows.transitions import PARTY_EVENT_TYPES
shop = Dispute.objects.get(order__external_id="IW-2003").shop
assert not OutboxEvent.objects.filter(relayed_at__isnull=False).exists()
# The demo's overdue case (IW-2001) would be flagged by the first sweep, an event after this
# list is taken: its deadline is put a day ahead.
from datetime import timedelta
from django.utils import timezone
Dispute.objects.filter(respond_by__lt=timezone.now()).update(
    respond_by=timezone.now() + timedelta(days=1)
)
secret = new_secret()
endpoint = WebhookEndpoint.objects.create(shop=shop, url="{url}", events=["*"], secret=secret)
open_disputes = Dispute.objects.filter(shop=shop).exclude(state=State.CLOSED).order_by("pk")
for i, dispute in enumerate(open_disputes[:{messages}]):
    conversation.post_message(dispute_id=dispute.pk, actor=dispute.buyer, body=f"Update {{i}}")
expected = [
    str(e.pk)
    for e in OutboxEvent.objects.filter(dispute__shop=shop, internal=False)
    if e.type in PARTY_EVENT_TYPES
]
print(json.dumps({{"endpoint": endpoint.pk, "secret": secret, "events": expected}}))
"""

# Polls until every outbox event is relayed and every delivery has succeeded (or time is up);
# then the state of the endpoint's deliveries.
WAIT = """
import json, time
from webhooks.models import WebhookDelivery
from mediation.models import Notification, OutboxEvent
deliveries = WebhookDelivery.objects.filter(endpoint_id={endpoint})
emails = Notification.objects.filter(status__in=["pending", "sending"])
deadline = time.monotonic() + {timeout}
while time.monotonic() < deadline:
    if (
        not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
        and deliveries.count() >= {count}
        and not deliveries.exclude(status="succeeded").exists()
        and not emails.exists()
    ):
        break
    time.sleep(0.5)
print(json.dumps({{
    "unrelayed": OutboxEvent.objects.filter(relayed_at__isnull=True).count(),
    "deliveries": [[str(e), s] for e, s in deliveries.values_list("event_id", "status")],
    "emails": [list(row) for row in Notification.objects.values_list("message_id", "status")],
}}))
"""

MESSAGES = 3
DELAY = 2.0  # seconds the receiver takes to answer
LEASE = 8  # WEBHOOKS_DELIVERY_LEASE_SECONDS and NOTIFICATION_SEND_LEASE_SECONDS
MAIL_DELAY = 2.0  # seconds the mail server takes over each message until the kill (then 0.1)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with live.database(tmp_path) as url:
        yield url


def test_a_worker_killed_mid_delivery_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path, database_url: str
) -> None:
    started = time.monotonic()
    logs = tmp_path / "workers.log"
    with (
        live.broker(redis_db=14) as broker,
        receiver() as hook,
        smtp.serving() as mailbox,
        logs.open("w") as log,
    ):
        hook.delay = DELAY
        mailbox.delay = MAIL_DELAY
        env = live.environment(
            tmp_path,
            database_url,
            broker,
            BEAT_INTERVAL_SECONDS="2",
            WEBHOOKS_TIMEOUT_SECONDS="5",
            WEBHOOKS_DELIVERY_LEASE_SECONDS=str(LEASE),
            NOTIFICATION_SEND_LEASE_SECONDS=str(LEASE),
            # Short sender runs, so that emails and webhooks take turns on the two processes.
            NOTIFICATION_SEND_BATCH_SIZE="3",
            **mailbox.environment(),
        )
        live.manage(env, "migrate", "--noinput")
        live.manage(env, "seed_demo")
        setup = live.shell(env, SETUP.format(url=hook.url, messages=MESSAGES))
        expected = set(setup["events"])
        assert len(expected) >= 20

        beat = live.beat(env, log)
        first = live.worker(env, log, concurrency=2)
        second = None
        try:
            # Mid-delivery: a few requests answered or under way, at least one still open,
            # and an email with the mail server.
            deadline = time.monotonic() + 40
            while not (len(hook.requests) >= 3 and hook.in_flight and mailbox.in_flight):
                assert time.monotonic() < deadline, logs.read_text()[-4000:]
                assert first.poll() is None and beat.poll() is None, logs.read_text()[-4000:]
                time.sleep(0.05)
            interrupted = set(hook.in_flight)
            mail_interrupted = set(mailbox.in_flight)
            killed = live.kill(first)
            mailbox.delay = 0.1
            received_before_kill = len(hook.requests)
            assert len(killed) >= 3  # the main process and its two pool processes
            assert not any(live.alive(pid) for pid in killed)
            log.write(
                f"\n=== SIGKILL {killed}; open at the receiver: {interrupted}; "
                f"with the mail server: {mail_interrupted} ===\n"
            )
            log.flush()

            second = live.worker(env, log, concurrency=2)
            state = live.shell(
                env, WAIT.format(endpoint=setup["endpoint"], count=len(expected), timeout=60)
            )
        finally:
            live.stop(*[p for p in (second, beat) if p is not None])
    elapsed = time.monotonic() - started
    report = f"after {elapsed:.0f} s:\n{logs.read_text()[-6000:]}"

    # The database: every event relayed; one delivery per event, and each succeeded.
    assert state["unrelayed"] == 0, report
    rows = state["deliveries"]
    assert Counter(event for event, _ in rows) == Counter(expected), report
    assert {status for _, status in rows} == {"succeeded"}, report

    # The receiver: every event arrived, signed; those open when the worker died came again.
    received = list(hook.requests)
    ids = [json.loads(r.body)["id"] for r in received]
    assert set(ids) == expected, report
    for r in received:
        headers = {k.lower(): v for k, v in r.headers.items()}
        assert headers["mediation-event-id"] == json.loads(r.body)["id"]
        assert verify_signature(headers["mediation-signature"], r.body, setup["secret"])
    counts = Counter(ids)
    assert interrupted and all(counts[event] >= 2 for event in interrupted), (counts, report)
    assert len(received) > received_before_kill

    # A receiver that ignores a repeated event id, as the README asks, applies each once.
    applied: list[str] = []
    for event in ids:
        if event not in applied:
            applied.append(event)
    assert sorted(applied) == sorted(expected)

    # The mail server: every email the database says was sent arrived; only one whose data
    # the server had when the worker died arrived twice, each time with its Message-ID.
    emails = state["emails"]
    assert emails and {status for _, status in emails} <= {"sent", "skipped"}, report
    sent = {message_id for message_id, status in emails if status == "sent"}
    arrived = mailbox.message_ids()
    assert set(arrived) == sent, (sorted(set(arrived) ^ sent), report)
    twice = {message_id for message_id, n in arrived.items() if n > 1}
    assert twice <= mail_interrupted and all(arrived[m] == 2 for m in twice), (arrived, report)
