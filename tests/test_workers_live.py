"""A real Celery worker and beat: a dispute left alone escalates after its deadline, and the
shop's webhook receives the signed event.

Runs the processes `make run` and docker compose run (:mod:`tests.live`: the broker the
suite is configured for, a database of their own).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import live
from tests.webhooks.helpers import receiver, verify_signature

SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from webhooks.models import WebhookEndpoint
from webhooks.signing import new_secret
from mediation.models import Dispute
d = Dispute.objects.get(order__external_id="IW-2003")
assert d.state == "awaiting_seller", d.state
Dispute.objects.filter(pk=d.pk).update(respond_by=timezone.now() - timedelta(minutes=5))
secret = new_secret()
WebhookEndpoint.objects.create(shop=d.shop, url="{url}", events=["dispute.escalated"],
                               secret=secret)
print(json.dumps({{"dispute": d.pk, "secret": secret}}))
"""

CHECK = """
import json
from mediation.models import AuditEntry, Dispute
d = Dispute.objects.get(pk={pk})
entry = AuditEntry.objects.filter(dispute=d).order_by("-seq").first()
print(json.dumps({{"state": d.state, "reason": d.escalation_reason,
                   "action": entry.action, "role": entry.actor_role}}))
"""


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with live.database(tmp_path) as url:
        yield url


def _for(requests: list[Any], dispute: int) -> list[Any]:
    return [r for r in requests if json.loads(r.body)["data"]["id"] == dispute]


def test_a_dispute_left_alone_escalates_and_the_webhook_arrives(
    tmp_path: Path, database_url: str
) -> None:
    logs = tmp_path / "workers.log"
    with live.broker(redis_db=13) as broker, receiver() as hook, logs.open("w") as log:
        env = live.environment(tmp_path, database_url, broker, BEAT_INTERVAL_SECONDS="2")
        live.manage(env, "migrate", "--noinput")
        live.manage(env, "seed_demo")
        setup = live.shell(env, SETUP.format(url=hook.url))
        procs = [live.worker(env, log), live.beat(env, log)]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not _for(hook.requests, setup["dispute"]):
                assert all(p.poll() is None for p in procs), logs.read_text()[-4000:]
                time.sleep(0.5)
        finally:
            live.stop(*procs)
        mine = _for(hook.requests, setup["dispute"])
        assert mine, f"no webhook within 120 s:\n{logs.read_text()[-4000:]}"

    # The demo's own escalated dispute (same shop) is delivered too: seeding wrote its events.
    (request,) = mine
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert verify_signature(headers["mediation-signature"], request.body, setup["secret"])
    event = json.loads(request.body)
    assert event["type"] == "dispute.escalated"
    assert event["data"]["id"] == setup["dispute"]
    assert event["data"]["state"] == "escalated"

    state = live.shell(env, CHECK.format(pk=setup["dispute"]))
    assert state == {
        "state": "escalated",
        "reason": "seller_no_response",
        "action": "deadline_passed",
        "role": "system",
    }
