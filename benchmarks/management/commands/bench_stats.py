"""``make bench-stats``: the dashboard's statistics at 10 and at 100,000 disputes, with the
number of queries and the time of each call (the count must not change with the size).

Runs in a throw-away database (``test_<name>`` of ``DATABASE_URL``, in memory for SQLite),
created, migrated and dropped by the command::

    .venv/bin/python manage.py bench_stats --disputes 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_bench \\
        .venv/bin/python manage.py bench_stats

The disputes are written in bulk (not through the services) with a spread of reasons,
states, outcomes, creation weeks, refunds, feedback and SLA breaches: see
:func:`seed_disputes`, which the tests use too.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation import rollups
from mediation.models import (
    AuditEntry,
    Dispute,
    EscalationReason,
    Feedback,
    Fulfilment,
    Funder,
    Order,
    Outcome,
    Reason,
    Shop,
    State,
)
from reports.stats import dispute_stats

_batch = itertools.count(1)


@contextmanager
def _own_timestamps(*models: Any) -> Iterator[None]:
    """Let bulk_create keep the ``created_at`` given, instead of now."""
    fields = [m._meta.get_field("created_at") for m in models]
    saved = [f.auto_now_add for f in fields]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in zip(fields, saved, strict=True):
            f.auto_now_add = value


def seed_disputes(n: int, *, shops: int = 20, now: datetime | None = None) -> None:
    """``n`` disputes (one per order, plus half as many orders without a dispute) spread
    over a year, in every state, reason and outcome; written in bulk."""
    now = now or timezone.now()
    tag = next(_batch)
    user_model = get_user_model()
    buyer, _ = user_model.objects.get_or_create(username="stats-bench-buyer")
    shop_rows = Shop.objects.bulk_create(
        [Shop(slug=f"stats-bench-{tag}-{i}", name=f"Bench shop {tag}-{i}") for i in range(shops)]
    )
    orders = Order.objects.bulk_create(
        [
            Order(
                external_id=f"STATS-{tag}-{i:07d}",
                buyer=buyer,
                shop=shop_rows[i % shops],
                currency="USD" if i % 4 else "EUR",
                total=5000,
                placed_at=now - timedelta(days=2 + i % 360),
            )
            for i in range(n + n // 2)
        ],
        batch_size=2000,
    )
    reasons, outcomes = Reason.values, Outcome.values
    states = State.values
    escalations = ["", "", EscalationReason.BUYER_REQUEST, EscalationReason.SELLER_NO_RESPONSE]
    disputes = []
    for i, order in enumerate(orders[:n]):
        state = states[i % len(states)]
        created = order.placed_at + timedelta(days=1)
        closed = state == State.CLOSED
        outcome = outcomes[(i // len(states)) % len(outcomes)] if closed else ""
        ruled = outcome.startswith("ruled")
        disputes.append(
            Dispute(
                order=order,
                buyer=buyer,
                shop=order.shop,
                reason=reasons[i % len(reasons)],
                requested_outcome="full_refund",
                requested_amount=5000,
                description="Bench",
                state=state,
                outcome=outcome,
                escalation_reason=EscalationReason.BUYER_REQUEST
                if ruled
                else escalations[i % len(escalations)],
                ruled_at=created + timedelta(days=2) if ruled else None,
                agreed_amount=2500 if closed else 0,
                funded_by=(Funder.PLATFORM if i % 5 == 0 else Funder.SELLER) if closed else "",
                created_at=created,
                closed_at=created + timedelta(hours=1 + i % 200) if closed else None,
                respond_by=None if closed else now + timedelta(hours=(i % 97) - 48),
                overdue_flagged_for=created if i % 11 == 0 else None,
            )
        )
    with _own_timestamps(Dispute):
        Dispute.objects.bulk_create(disputes, batch_size=2000)
    rows = list(Dispute.objects.filter(shop__in=shop_rows).values_list("pk", "state", "created_at"))
    Fulfilment.objects.bulk_create(
        [
            Fulfilment(dispute_id=pk, kind="refund", amount=2500, recorded_by=buyer)
            for pk, state, _ in rows
            if state == State.CLOSED
        ],
        batch_size=2000,
    )
    Feedback.objects.bulk_create(
        [
            Feedback(dispute_id=pk, party=party, author=buyer, rating=1 + (pk + k) % 5)
            for pk, state, _ in rows
            if state == State.CLOSED
            for k, party in enumerate(("buyer", "seller"))
        ],
        batch_size=2000,
    )
    with _own_timestamps():
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    dispute_id=pk,
                    seq=1,
                    actor_display="system",
                    actor_role="system",
                    action="sla_breached",
                    created_at=created + timedelta(days=2),
                    hash="0" * 64,
                )
                for pk, _, created in rows[::11]
            ],
            batch_size=2000,
        )
    # Written around the services: the dashboard's rollups are rebuilt from the rows.
    rollups.rebuild()


class Command(BaseCommand):
    help = "Queries and time of the dashboard's statistics at 10 and at N disputes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--disputes", type=int, default=100_000)
        parser.add_argument(
            "--keep-db", action="store_true", help="Keep the throw-away database afterwards."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["disputes"]
        old_name = connection.settings_dict["NAME"]
        self.stderr.write("Creating and migrating a throw-away database ...")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            small = self._measure(10)
            self.stderr.write(f"Adding {n - 10:,} disputes ...")
            started = time.perf_counter()
            seed_disputes(n - 10)
            self.stderr.write(f"  seeded in {time.perf_counter() - started:.1f} s")
            large = self._measure(None)
        finally:
            if not options["keep_db"]:
                connection.creation.destroy_test_db(old_name, verbosity=0)
        verdict = "constant" if small == large else "NOT constant"
        self.stdout.write(f"Query count: {verdict} ({small} and {large})")
        if small != large:
            raise CommandError("The number of queries grows with the number of disputes.")

    def _measure(self, seed: int | None) -> int:
        if seed:
            seed_disputes(seed)
        dispute_stats()  # warm up: caches, the first connection
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            stats = dispute_stats()
            seconds = time.perf_counter() - started
        self.stdout.write(
            f"{stats['totals']['disputes']:>9,} disputes: {len(queries)} queries, "
            f"{seconds * 1000:,.0f} ms ({connection.vendor})"
        )
        return len(queries)
