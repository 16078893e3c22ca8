"""``make bench-sweep``: due deadline transitions per second the sweeper applies on
PostgreSQL, with their audit entries and outbox rows, next to a raw SQL baseline doing the
same writes, measured in the same run (target: 2,000/s).

Runs in a throw-away database (``test_<name of DATABASE_URL's database>``), created,
migrated and dropped by the command::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_bench \\
        .venv/bin/python manage.py bench_sweep --disputes 5000

Both sides handle ``awaiting_seller`` disputes past their deadline, locked in batches with
``SELECT ... FOR UPDATE SKIP LOCKED``, and write per dispute: the dispute row (state,
escalation reason, deadline, version, audit head), one chained audit entry and two outbox
rows (``dispute.deadline_passed``, ``dispute.escalated``), and supersede open offers (none
here: both sides know it from the lock query and skip the UPDATE). The sweeper does it
through ``apply_deadline``, the service a person's action goes through (roles, guards, the
django-fsm transition, the audit chain, the events), its writes flushed per batch; the
baseline with hand-written set-based SQL, a handful of statements per batch (one UPDATE
... FROM (VALUES ...) for the disputes, one multi-row INSERT each for the audit entries and
the outbox rows), hashing the same canonical JSON in Python: a lower bound of what the
same writes cost. Each batch size runs on fresh disputes, sweeper then baseline; the
statements counted are those sent besides BEGIN and COMMIT.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
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
        parser.add_argument(
            "--batch-size",
            type=str,
            default="",
            help="Batch sizes to measure, comma-separated (default: 50, SWEEP_BATCH_SIZE, 1000).",
        )
        parser.add_argument(
            "--keep-db", action="store_true", help="Keep the throw-away database afterwards."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_sweep needs PostgreSQL: set DATABASE_URL, e.g. "
                "postgres://postgres@127.0.0.1:5432/mediation_bench"
            )
        n = options["disputes"]
        default = settings.MEDIATION_SWEEP_BATCH_SIZE
        sizes = [int(x) for x in options["batch_size"].split(",") if x.strip()] or sorted(
            {50, default, 1000}
        )
        old_name = connection.settings_dict["NAME"]
        self.stderr.write("Creating and migrating a throw-away database ...")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            runs = [self._run(n, size) for size in sizes]
        finally:
            if not options["keep_db"]:
                connection.creation.destroy_test_db(old_name, verbosity=0)
        self._print(runs, default)

    def _run(self, n: int, batch: int) -> tuple[int, Measure, Measure]:
        self.stderr.write(
            f"Batch size {batch}: creating {2 * n:,} disputes past their deadline ..."
        )
        sweep_ids, raw_ids = _make_disputes(n, tag=str(batch))
        later = timezone.now() + timedelta(days=30)
        # The baseline's disputes wait in the future while the sweeper runs.
        Dispute.objects.filter(pk__in=raw_ids).update(respond_by=later)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        with _measure() as swept:
            report = sweeper.sweep(batch_size=batch)
            swept.applied = report.transitions.applied
        _check(sweep_ids, swept.applied)

        Dispute.objects.filter(pk__in=raw_ids).update(
            respond_by=timezone.now() - timedelta(minutes=1)
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        with _measure() as raw:
            raw.applied = _raw_sql_sweep(batch)
        _check(raw_ids, raw.applied)
        return batch, swept, raw

    def _print(self, runs: list[tuple[int, Measure, Measure]], default: int) -> None:
        out = self.stdout.write
        out("Due deadline transitions per second on PostgreSQL (awaiting_seller -> escalated),")
        out("each with its audit entry and 2 outbox rows; both sides measured in this run.")
        out("Statements: those sent per transition (BEGIN and COMMIT aside).")
        out("")
        out(
            f"{'batch':>6}  {'sweeper (apply_deadline)':>26}  {'raw SQL baseline':>26}  sweeper/raw"
        )
        for batch, swept, raw in runs:
            out(
                f"{batch:>6}  {swept.rate:>8,.0f}/s {swept.seconds:>6.2f} s "
                f"{swept.per_transition:>7.3f}  {raw.rate:>8,.0f}/s {raw.seconds:>6.2f} s "
                f"{raw.per_transition:>7.3f}  {swept.rate / raw.rate:>11.2f}"
            )
        batch, swept, raw = next((r for r in runs if r[0] == default), runs[0])
        verdict = "met" if swept.rate >= TARGET else "NOT met"
        out("")
        out(
            f"Sweeper (apply_deadline): {swept.applied:,} transitions in {swept.seconds:.2f} s = "
            f"{swept.rate:,.0f}/s  ({swept.applied:,} audit entries, {2 * swept.applied:,} "
            f"outbox rows; {swept.statements:,} statements, {swept.per_transition:.3f} per "
            "transition)"
        )
        out(
            f"Raw SQL baseline:         {raw.applied:,} transitions in {raw.seconds:.2f} s = "
            f"{raw.rate:,.0f}/s  (the same writes, set-based; {raw.statements:,} statements, "
            f"{raw.per_transition:.3f} per transition)"
        )
        out(
            f"Sweeper / raw SQL: {swept.rate / raw.rate:.2f}; "
            f"target {TARGET:,}/s: {verdict} (batch size {batch})"
        )


@dataclass
class Measure:
    applied: int = 0
    seconds: float = 0.0
    statements: int = 0

    @property
    def rate(self) -> float:
        return self.applied / self.seconds if self.seconds else 0.0

    @property
    def per_transition(self) -> float:
        return self.statements / self.applied if self.applied else 0.0


@contextmanager
def _measure() -> Iterator[Measure]:
    """Time the block and count the statements it sends (BEGIN and COMMIT aside)."""
    measure = Measure()

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        measure.statements += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        yield measure
        measure.seconds = time.perf_counter() - started


def _make_disputes(n: int, *, tag: str = "") -> tuple[list[int], list[int]]:
    """2n disputes in awaiting_seller, past their deadline, audit chains empty."""
    user_model = get_user_model()
    buyer = user_model.objects.create(username=f"bench-buyer-{tag}")
    shop = Shop.objects.create(slug=f"bench-shop-{tag}", name=f"Bench shop {tag}")
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                external_id=f"BENCH-{tag}-{i:06d}",
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
    SELECT d.id, d.audit_seq, d.audit_head, d.respond_by, d.version,
        EXISTS (SELECT 1 FROM mediation_offer o
                WHERE o.dispute_id = d.id AND o.status IN ('open', 'pending_approval'))
    FROM mediation_dispute d
    WHERE d.state = 'awaiting_seller' AND d.respond_by <= %s
    ORDER BY d.respond_by, d.id LIMIT %s FOR UPDATE OF d SKIP LOCKED
"""
SUPERSEDE = """
    UPDATE mediation_offer SET status = 'superseded', decided_at = %s
    WHERE dispute_id = ANY(%s) AND status IN ('open', 'pending_approval')
"""
UPDATE_DISPUTES = """
    UPDATE mediation_dispute AS d SET state = 'escalated',
        escalation_reason = 'seller_no_response', respond_by = v.respond_by,
        version = v.version, audit_seq = v.audit_seq, audit_head = v.audit_head,
        updated_at = v.updated_at
    FROM (VALUES {rows}) AS v(id, respond_by, version, audit_seq, audit_head, updated_at)
    WHERE d.id = v.id
"""
DISPUTE_ROW = (
    "(%s::bigint, %s::timestamptz, %s::integer, %s::integer, %s::varchar, %s::timestamptz)"
)
INSERT_ENTRIES = """
    INSERT INTO mediation_auditentry (dispute_id, seq, actor_id, actor_display, actor_role,
        action, from_state, to_state, payload, visibility, created_at, prev_hash, hash)
    VALUES {rows}
"""
ENTRY_ROW = (
    "(%s, %s, NULL, 'system', 'system', 'deadline_passed', 'awaiting_seller', 'escalated', "
    "%s::jsonb, 'all', %s::timestamptz, %s, %s)"
)
INSERT_EVENTS = """
    INSERT INTO mediation_outboxevent (id, dispute_id, audit_seq, type, action, from_state,
        to_state, payload, internal, created_at, attempts, last_error)
    VALUES {rows}
"""
EVENT_ROW = (
    "(%s::uuid, %s, %s, %s, 'deadline_passed', 'awaiting_seller', 'escalated', %s::jsonb, "
    "false, %s::timestamptz, 0, '')"
)
EVENT_TYPES = ("dispute.deadline_passed", "dispute.escalated")


def _raw_sql_sweep(batch: int) -> int:
    """The same writes with hand-written set-based SQL: five statements per batch at most."""
    sla = timedelta(hours=48)
    applied = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(SELECT_DUE, [timezone.now(), batch])
            rows = cursor.fetchall()
            if not rows:
                return applied
            now = timezone.now()
            with_offers = [pk for pk, *_, has_offers in rows if has_offers]
            if with_offers:
                cursor.execute(SUPERSEDE, [now, with_offers])
            disputes: list[Any] = []
            entries: list[Any] = []
            events: list[Any] = []
            for pk, seq, head, respond_by, version, _ in rows:
                payload = {"escalation_reason": "seller_no_response", "respond_by": str(respond_by)}
                content = {
                    "dispute": pk,
                    "seq": seq + 1,
                    "actor": None,
                    "actor_display": "system",
                    "actor_role": "system",
                    "action": "deadline_passed",
                    "from_state": "awaiting_seller",
                    "to_state": "escalated",
                    "payload": payload,
                    "visibility": "all",
                    "created_at": now.isoformat(timespec="microseconds"),
                    "prev_hash": head,
                }
                digest = hashlib.sha256(
                    json.dumps(
                        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ).encode()
                ).hexdigest()
                body = json.dumps(payload)
                disputes += [pk, now + sla, version + 1, seq + 1, digest, now]
                entries += [pk, seq + 1, body, now, head, digest]
                for event_type in EVENT_TYPES:
                    events += [uuid.uuid4(), pk, seq + 1, event_type, body, now]
            count = len(rows)
            cursor.execute(UPDATE_DISPUTES.format(rows=", ".join([DISPUTE_ROW] * count)), disputes)
            cursor.execute(INSERT_ENTRIES.format(rows=", ".join([ENTRY_ROW] * count)), entries)
            cursor.execute(INSERT_EVENTS.format(rows=", ".join([EVENT_ROW] * 2 * count)), events)
            applied += count
