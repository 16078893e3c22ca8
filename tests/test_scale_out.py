"""Scale-out on real parts (PostgreSQL + Redis): two web processes, two workers on separate
queues and one beat, all from the same code and settings, under a bounded load sent through
both web processes, with the webhook worker killed (SIGKILL) mid-run and replaced. Its
figures are printed at the end of pytest's output (the "figures" section).

At the end: no answer was a 5xx; every audit chain verifies (``verify_audit``, in a process
of its own); every party-visible event reached the shop's endpoint, each at least once and
once after deduplication by its id (the README's advice to receivers); every email the
database calls sent arrived, none twice (the email worker was not the one killed). The test
prints its figures.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests import live, smtp
from tests.outages import Gunicorn
from tests.webhooks.helpers import receiver, verify_signature

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL")
    or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the scale-out test runs on PostgreSQL and Redis (the second suite of .ci/run)",
)

# The shop's endpoint for every event type; each open dispute of the shop with its buyer's
# and its owner's tokens.
SETUP = """
import json
from webhooks.models import WebhookEndpoint
from webhooks.signing import new_secret
from mediation.models import Dispute, ShopMember, State
from workflows.credentials import issue_token
shop = Dispute.objects.get(order__external_id="IW-2003").shop
secret = new_secret()
endpoint = WebhookEndpoint.objects.create(shop=shop, url="{url}", events=["*"], secret=secret)
owner = ShopMember.objects.filter(shop=shop, role="owner").order_by("pk").first().user
disputes = [
    {{"id": d.pk, "state": d.state, "buyer": issue_token(d.buyer)[1]}}
    for d in Dispute.objects.filter(shop=shop).exclude(state=State.CLOSED).order_by("pk")
]
print(json.dumps({{"endpoint": endpoint.pk, "secret": secret, "owner": issue_token(owner)[1],
                   "disputes": disputes}}))
"""

# Waits until every event is relayed, every delivery succeeded and no email waits; then what
# the database holds.
WAIT = """
import json, time
from webhooks.models import WebhookDelivery, WebhookEndpoint
from mediation.models import Notification, OutboxEvent
from workflows.transitions import PARTY_EVENT_TYPES
endpoint = WebhookEndpoint.objects.get(pk={endpoint})
deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
def expected():
    # The shop's party-visible events: the demo's (unrelayed until the workers ran, so the
    # endpoint gets them too) and the load's.
    events = OutboxEvent.objects.filter(dispute__shop_id=endpoint.shop_id, internal=False)
    return sorted(str(e.pk) for e in events if e.type in PARTY_EVENT_TYPES)
deadline = time.monotonic() + {timeout}
while time.monotonic() < deadline:
    if (
        not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
        and deliveries.count() >= len(expected())
        and not deliveries.exclude(status="succeeded").exists()
        and not Notification.objects.filter(status__in=["pending", "sending"]).exists()
    ):
        break
    time.sleep(0.5)
print(json.dumps({{
    "unrelayed": OutboxEvent.objects.filter(relayed_at__isnull=True).count(),
    "expected": expected(),
    "deliveries": [[str(e), s] for e, s in deliveries.values_list("event_id", "status")],
    "emails": [list(row) for row in Notification.objects.values_list("message_id", "status")],
}}))
"""

ROUNDS = 4  # messages each side posts on each open dispute
LEASE = 6  # WEBHOOKS_DELIVERY_LEASE_SECONDS


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with live.database(tmp_path, prefix="mediation_scale_out") as url:
        yield url


def test_two_webs_two_queues_one_beat_and_a_killed_worker(
    tmp_path: Path, database_url: str, record_property: Any
) -> None:
    started = time.monotonic()
    logs = tmp_path / "processes.log"
    with (
        live.broker(redis_db=2) as broker,
        live.redis_database(1) as cache_url,
        receiver() as hook,
        smtp.serving() as mailbox,
        logs.open("w") as log,
    ):
        assert cache_url is not None
        hook.delay = 0.3
        shared = {
            # One key for every process: the audit chain's HMAC and the sessions.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(40),
            "REDIS_URL": cache_url,
            "BEAT_INTERVAL_SECONDS": "2",
            "WEBHOOKS_TIMEOUT_SECONDS": "5",
            "WEBHOOKS_DELIVERY_LEASE_SECONDS": str(LEASE),
            "API_THROTTLE_USER": "off",
            "MESSAGE_RATE_PER_MINUTE": "0",
            **mailbox.environment(),
        }
        env = live.environment(tmp_path, database_url, broker, **shared)
        live.manage(env, "migrate", "--noinput")
        live.manage(env, "seed_demo")
        setup = live.shell(env, SETUP.format(url=hook.url))
        disputes = setup["disputes"]
        assert len(disputes) >= 2

        beat = live.beat(env, log)
        system = live.worker(env, log, concurrency=2, queues=("celery", "emails"))
        hooks = live.worker(env, log, concurrency=2, queues=("webhooks",))
        replacement = None
        webs = []
        for n in (1, 2):
            folder = tmp_path / f"web{n}"
            folder.mkdir()
            webs.append(
                Gunicorn(
                    folder,
                    DATABASE_URL=database_url,
                    CELERY_BROKER_URL=broker,
                    **shared,
                ).__enter__()
            )
        answers: list[tuple[int, float, int]] = []  # (status, seconds, web)
        lock = threading.Lock()
        try:

            def post(i: int, dispute: dict[str, Any], author: str) -> None:
                web = webs[i % 2]
                token = dispute["buyer"] if author == "buyer" else setup["owner"]
                begin = time.monotonic()
                status, _, body = web.request(
                    "POST",
                    f"/api/v1/disputes/{dispute['id']}/messages/",
                    {"body": f"Message {i} from the {author}"},
                    Authorization=f"Token {token}",
                    Idempotency_Key=f"scale-out-{dispute['id']}-{author}-{i}",
                )
                with lock:
                    answers.append((status, time.monotonic() - begin, i % 2))
                assert status < 500, body

            jobs = [
                (i, dispute, author)
                for i in range(ROUNDS)
                for dispute in disputes
                for author in ("buyer", "owner")
            ]
            half = len(jobs) // 2
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda job: post(*job), jobs[:half]))
                # The webhook worker dies mid-delivery, with a request open at the receiver.
                deadline = time.monotonic() + 120
                while not (hook.requests and hook.in_flight):
                    assert time.monotonic() < deadline, logs.read_text()[-4000:]
                    assert hooks.poll() is None, logs.read_text()[-4000:]
                    time.sleep(0.05)
                killed = live.kill(hooks)
                log.write(f"\n=== SIGKILL of the webhooks worker {killed} ===\n")
                log.flush()
                replacement = live.worker(env, log, concurrency=2, queues=("webhooks",))
                list(pool.map(lambda job: post(*job), jobs[half:]))
            # Generous: the suite's other workers share the two cores meanwhile.
            state = live.shell(
                env, WAIT.format(endpoint=setup["endpoint"], timeout=240), timeout=300
            )
        finally:
            for web in webs:
                web.__exit__(None, None, None)
            # Every process, the webhook worker too when the test failed before its kill.
            live.stop(*[p for p in (system, hooks, replacement, beat) if p is not None])
        verified = live.manage(env, "verify_audit")
    elapsed = time.monotonic() - started
    report = f"after {elapsed:.0f} s:\n{logs.read_text()[-6000:]}"

    # No 5xx, and both web processes served.
    statuses = Counter(status for status, _, _ in answers)
    assert all(status < 500 for status in statuses), statuses
    assert statuses[201] == len(jobs), statuses
    assert {web for _, _, web in answers} == {0, 1}

    # Every chain intact, checked apart from the processes that wrote it.
    assert " 0 broken" in verified and "intact" in verified, verified

    # Every event relayed and delivered; the receiver, deduplicating by id, applies each once.
    assert state["unrelayed"] == 0, report
    expected = set(state["expected"])
    assert len(expected) >= len(jobs), (len(expected), report)
    rows = state["deliveries"]
    assert Counter(event for event, _ in rows) == Counter(expected), report
    assert {status for _, status in rows} == {"succeeded"}, report
    ids = [json.loads(r.body)["id"] for r in hook.requests]
    assert set(ids) == expected, report
    for r in hook.requests:
        headers = {k.lower(): v for k, v in r.headers.items()}
        assert verify_signature(headers["mediation-signature"], r.body, setup["secret"])

    # Every email sent arrived, none twice.
    emails = state["emails"]
    sent = {message_id for message_id, status in emails if status == "sent"}
    assert sent and {status for _, status in emails} <= {"sent", "skipped"}, report
    arrived = mailbox.message_ids()
    assert set(arrived) == sent, report
    assert max(arrived.values()) == 1, arrived

    seconds = sorted(s for _, s, _ in answers)
    p95 = seconds[int(0.95 * (len(seconds) - 1))]
    record_property(
        "figures",
        f"scale-out: {len(answers)} requests through 2 web processes "
        f"({Counter(w for _, _, w in answers)}), statuses {dict(statuses)}, "
        f"p50 {1000 * statistics.median(seconds):.0f} ms, p95 {1000 * p95:.0f} ms; "
        f"{len(expected)} events, {len(ids)} webhook requests for them "
        f"({len(ids) - len(set(ids))} repeated after the kill), {len(sent)} emails; "
        f"{elapsed:.0f} s in all",
    )
