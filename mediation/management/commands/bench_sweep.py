"""``make bench-sweep``: due deadline transitions per second the sweeper applies on
PostgreSQL, with their audit entries and outbox rows, next to a raw SQL baseline doing the
same writes, measured in the same run (target: 2,000/s).

Runs in a throw-away database (``test_<name of DATABASE_URL's database>``), created,
migrated and dropped by the command::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_bench \\
        .venv/bin/python manage.py bench_sweep --disputes 5000

Both sides handle ``awaiting_seller`` disputes past their deadline, locked in batches with
``SELECT ... FOR UPDATE SKIP LOCKED``, and write per dispute: the offers superseded, the
dispute row (state, escalation reason, deadline, version, audit head), one chained audit
entry and two outbox rows (``dispute.deadline_passed``, ``dispute.escalated``). The
sweeper does it through ``apply_deadline``, the service a person's action goes through;
the baseline with hand-written statements, one row at a time, as a lower bound of what the
same writes cost.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from mediation.models import AuditEntry, Dispute, Order, OutboxEvent, Shop, State
from workflows import sweeper

TARGET = 2000  # transitions per second


class Command(BaseCommand):
    help = "Deadline transitions per second: the sweeper against raw SQL (PostgreSQL only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--disputes", type=int, default=5000, help="Due disputes per side.")
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument(
            "--keep-db", action="store_true", help="Keep the throw-away database afterwards."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_sweep needs PostgreSQL: set DATABASE_URL, e.g. "
                "postgres://postgres@127.0.0.1:5432/mediation_bench"
            )
        n, batch = options["disputes"], options["batch_size"]
        old_name = connection.settings_dict["NAME"]
        self.stderr.write("Creating and migrating a throw-away database ...")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self._run(n, batch)
        finally:
            if not options["keep_db"]:
                connection.creation.destroy_test_db(old_name, verbosity=0)

    def _run(self, n: int, batch: int) -> None:
        self.stderr.write(f"Creating {2 * n:,} disputes past their deadline ...")
        sweep_ids, raw_ids = _make_disputes(n)
        later = timezone.now() + timedelta(days=30)
        # The baseline's disputes wait in the future while the sweeper runs.
        Dispute.objects.filter(pk__in=raw_ids).update(respond_by=later)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        started = time.perf_counter()
        report = sweeper.sweep(batch_size=batch)
        sweep_seconds = time.perf_counter() - started
        applied = report.transitions.applied
        _check(sweep_ids, applied)

        Dispute.objects.filter(pk__in=raw_ids).update(
            respond_by=timezone.now() - timedelta(minutes=1)
        )
        started = time.perf_counter()
        raw_applied = _raw_sql_sweep(batch)
        raw_seconds = time.perf_counter() - started
        _check(raw_ids, raw_applied)

        sweep_rate = applied / sweep_seconds
        raw_rate = raw_applied / raw_seconds
        verdict = "met" if sweep_rate >= TARGET else "NOT met"
        self.stdout.write(
            f"Sweeper (apply_deadline): {applied:,} transitions in {sweep_seconds:.2f} s = "
            f"{sweep_rate:,.0f}/s  ({applied:,} audit entries, {2 * applied:,} outbox rows)"
        )
        self.stdout.write(
            f"Raw SQL baseline:         {raw_applied:,} transitions in {raw_seconds:.2f} s = "
            f"{raw_rate:,.0f}/s  (the same writes, hand-written statements)"
        )
        self.stdout.write(
            f"Sweeper / raw SQL: {sweep_rate / raw_rate:.2f}; "
            f"target {TARGET:,}/s: {verdict} (batch size {batch})"
        )


def _make_disputes(n: int) -> tuple[list[int], list[int]]:
    """2n disputes in awaiting_seller, past their deadline, audit chains empty."""
    user_model = get_user_model()
    buyer = user_model.objects.create(username="bench-buyer")
    shop = Shop.objects.create(slug="bench-shop", name="Bench shop")
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                external_id=f"BENCH-{i:06d}",
                buyer=buyer,
                shop=shop,
                currency="USD",
                total=2400,
                placed_at=now - timedelta(days=3),
            )
            for i in range(2 * n)
        ],
        batch_size=2000,
    )
    disputes = Dispute.objects.bulk_create(
        [
            Dispute(
                order=order,
                buyer=buyer,
                shop=shop,
                reason="not_received",
                requested_outcome="full_refund",
                requested_amount=2400,
                description="Never arrived.",
                respond_by=now - timedelta(minutes=1),
            )
            for order in orders
        ],
        batch_size=2000,
    )
    ids = [d.pk for d in disputes]
    return ids[:n], ids[n:]


def _check(ids: list[int], applied: int) -> None:
    """Every dispute of the side moved once, with its audit entry and outbox rows."""
    moved = Dispute.objects.filter(pk__in=ids, state=State.ESCALATED).count()
    entries = AuditEntry.objects.filter(dispute_id__in=ids, action="deadline_passed").count()
    events = OutboxEvent.objects.filter(dispute_id__in=ids).count()
    expected = (len(ids), len(ids), len(ids), 2 * len(ids))
    if (applied, moved, entries, events) != expected:
        raise CommandError(
            f"Expected {expected} (applied, moved, audit entries, outbox rows), got "
            f"{(applied, moved, entries, events)}"
        )


SELECT_DUE = """
    SELECT id, audit_seq, audit_head, respond_by FROM mediation_dispute
    WHERE state = 'awaiting_seller' AND respond_by <= %s
    ORDER BY respond_by, id LIMIT %s FOR UPDATE SKIP LOCKED
"""
SUPERSEDE = """
    UPDATE mediation_offer SET status = 'superseded', decided_at = %s
    WHERE dispute_id = %s AND status IN ('open', 'pending_approval')
"""
UPDATE_DISPUTE = """
    UPDATE mediation_dispute SET state = 'escalated', escalation_reason = 'seller_no_response',
        respond_by = %s, version = version + 1, audit_seq = %s, audit_head = %s,
        updated_at = %s
    WHERE id = %s
"""
INSERT_ENTRY = """
    INSERT INTO mediation_auditentry (dispute_id, seq, actor_id, actor_display, actor_role,
        action, from_state, to_state, payload, visibility, created_at, prev_hash, hash)
    VALUES (%s, %s, NULL, 'system', 'system', 'deadline_passed', 'awaiting_seller',
        'escalated', %s, 'all', %s, %s, %s)
"""
INSERT_EVENTS = """
    INSERT INTO mediation_outboxevent (id, dispute_id, audit_seq, type, action, from_state,
        to_state, payload, internal, created_at, attempts, last_error)
    VALUES (%s, %s, %s, 'dispute.deadline_passed', 'deadline_passed', 'awaiting_seller',
            'escalated', %s, false, %s, 0, ''),
           (%s, %s, %s, 'dispute.escalated', 'deadline_passed', 'awaiting_seller',
            'escalated', %s, false, %s, 0, '')
"""


def _raw_sql_sweep(batch: int) -> int:
    sla = timedelta(hours=48)
    applied = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            now = timezone.now()
            cursor.execute(SELECT_DUE, [now, batch])
            rows = cursor.fetchall()
            if not rows:
                return applied
            for pk, seq, head, respond_by in rows:
                now = timezone.now()
                payload = json.dumps(
                    {"respond_by": str(respond_by), "escalation_reason": "seller_no_response"}
                )
                content = {
                    "dispute": pk,
                    "seq": seq + 1,
                    "action": "deadline_passed",
                    "payload": payload,
                    "created_at": now.isoformat(timespec="microseconds"),
                    "prev_hash": head,
                }
                digest = hashlib.sha256(
                    json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
                ).hexdigest()
                cursor.execute(SUPERSEDE, [now, pk])
                cursor.execute(UPDATE_DISPUTE, [now + sla, seq + 1, digest, now, pk])
                cursor.execute(INSERT_ENTRY, [pk, seq + 1, payload, now, head, digest])
                events = [(uuid.uuid4(), pk, seq + 1, payload, now) for _ in range(2)]
                cursor.execute(INSERT_EVENTS, [value for row in events for value in row])
                applied += 1
