"""Claiming a webhook delivery on PostgreSQL locks that delivery's row only.

Two workers attempt two deliveries of one endpoint at the same time: while one holds its
claim (building the body), the other's claim must still get its own delivery, not skip it
because the endpoint's row is locked (it would be dropped until beat's next retry run).
Skipped on SQLite::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_claim \\
        .venv/bin/pytest --create-db tests/webhooks/test_claim_pg.py
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.scenarios import dispute_in
from tests.threads import in_background
from tests.webhooks.helpers import make_endpoint
from webhooks import delivery as service
from webhooks.models import WebhookDelivery
from workflows import relay
from workflows import transitions as t

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs SKIP LOCKED"),
    pytest.mark.django_db(transaction=True),
]


def test_a_claim_in_progress_does_not_hide_the_endpoints_other_deliveries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sc = dispute_in("awaiting_seller")
    relay.relay_pending()
    make_endpoint(sc.cast.shop, "http://127.0.0.1:9/hooks", ["*"])
    t.contest(dispute_id=sc.id, actor=sc["owner"], statement="Signed for.")
    t.escalate(dispute_id=sc.id, actor=sc["buyer"], reason="buyer_request", note="Help")
    relay.relay_pending()
    first, second = WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True)[:2]

    inside, release = threading.Event(), threading.Event()
    build = service.build_body

    def slow_build(delivery: WebhookDelivery) -> str:
        if delivery.pk == first:
            inside.set()
            release.wait(timeout=30)
        return build(delivery)

    monkeypatch.setattr(service, "build_body", slow_build)
    claimed: list[Any] = []

    def claim_first() -> None:
        claimed.append(service._claim(first, now=timezone.now(), force=False))

    with in_background(claim_first):
        try:
            assert inside.wait(timeout=30)
            other = service._claim(second, now=timezone.now(), force=False)
        finally:
            release.set()
    assert other is not None and other.pk == second
    assert claimed and claimed[0] is not None and claimed[0].pk == first
