"""The scale dataset of ``make bench-scale``: a marketplace's disputes at 10k, 100k or 1m,
written with PostgreSQL's ``COPY FROM STDIN`` (psycopg 3 ``cursor.copy()``), not the ORM.

:class:`Spec` holds every count as a function of the number of disputes (the proportions
of the 1m dataset: ~3 % open, ~4 audit entries per dispute in valid hash chains, 1.5 orders
per dispute, 20 shops per 1,000 disputes with a Zipf-like size, buyers mostly with 1-5
disputes, ~30 mediators, one integration account). :func:`fill` writes it into a migrated,
empty database through one psycopg connection: it drops the loaded tables' keys, indexes
and foreign keys, copies the rows, then recreates them (which validates every constraint
on the data), resets the sequences and analyzes. :func:`build_database` does that in a
fresh database ``mediation_scale_<size>`` (created, migrated with ``manage.py migrate``,
renamed into place when complete), or reuses the one already built at that size with the
same migrations (:data:`META_TABLE` records the size and a schema fingerprint).

The audit hashes are computed with :func:`mediation.audit.compute_hash`, so
``manage.py verify_audit`` finds every chain intact.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg
from knox.crypto import hash_token
from psycopg import sql

from mediation.audit import canonical_values

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
# Bump when the generated data changes, so that existing databases are rebuilt.
DATASET_VERSION = 1
META_TABLE = "bench_scale_meta"
PASSWORD = "bench"
SEED = 20260101

# The tables the builder fills (the order their files are loaded in does not matter: the
# foreign keys are recreated once every row is in).
TABLES: dict[str, tuple[str, ...]] = {
    "auth_user": (
        "id",
        "password",
        "last_login",
        "is_superuser",
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "date_joined",
    ),
    "knox_authtoken": ("digest", "token_key", "created", "user_id", "expiry"),
    "mediation_integrationaccount": ("id", "name", "user_id"),
    "mediation_mediatorprofile": ("id", "tier", "authority", "active", "user_id"),
    "mediation_shop": ("id", "slug", "name", "created_at"),
    "mediation_shoppolicy": ("id", "shop_id", "version", "text", "effective_from"),
    "mediation_shopmember": (
        "id",
        "role",
        "offer_limit",
        "offer_limit_currency",
        "shop_id",
        "user_id",
    ),
    "mediation_order": (
        "id",
        "external_id",
        "currency",
        "total",
        "shipping",
        "refunded_total",
        "placed_at",
        "shipped_at",
        "carrier",
        "tracking_number",
        "delivered_at",
        "created_at",
        "updated_at",
        "buyer_id",
        "shop_id",
    ),
    "mediation_orderitem": ("id", "sku", "title", "quantity", "unit_price", "order_id"),
    "mediation_dispute": (
        "id",
        "reason",
        "requested_outcome",
        "requested_amount",
        "description",
        "state",
        "respond_by",
        "escalation_reason",
        "required_tier",
        "info_requested_from",
        "outcome",
        "counter_rounds",
        "appealed",
        "agreed_kind",
        "agreed_amount",
        "funded_by",
        "agreed_outcome",
        "delivered_amount",
        "replacement_shipped",
        "return_shipped",
        "return_acknowledged",
        "ruled_at",
        "closed_at",
        "created_at",
        "updated_at",
        "version",
        "audit_seq",
        "audit_head",
        "assigned_to_id",
        "buyer_id",
        "order_id",
        "shop_id",
        "policy_version_id",
        "overdue_flagged_for",
        "reminded_for",
        "return_result",
        "conduct_reported_at",
    ),
    "mediation_dispute_items": ("id", "dispute_id", "orderitem_id"),
    "mediation_auditentry": (
        "id",
        "seq",
        "actor_display",
        "actor_role",
        "action",
        "from_state",
        "to_state",
        "payload",
        "visibility",
        "created_at",
        "prev_hash",
        "hash",
        "actor_id",
        "dispute_id",
    ),
    "mediation_offer": (
        "id",
        "side",
        "kind",
        "amount",
        "note",
        "fulfilment_days",
        "status",
        "created_at",
        "decided_at",
        "approved_by_id",
        "author_id",
        "dispute_id",
        "accepts_request",
    ),
    "mediation_ruling": (
        "id",
        "kind",
        "amount",
        "funded_by",
        "rationale",
        "status",
        "decision_note",
        "created_at",
        "decided_at",
        "approver_id",
        "dispute_id",
        "proposer_id",
        "value",
    ),
    "mediation_message": (
        "id",
        "author_role",
        "body",
        "internal",
        "reported",
        "report_reason",
        "reported_at",
        "created_at",
        "author_id",
        "dispute_id",
        "reported_by_id",
    ),
    "mediation_fulfilment": (
        "id",
        "kind",
        "amount",
        "reference",
        "carrier",
        "tracking_number",
        "created_at",
        "dispute_id",
        "recorded_by_id",
    ),
    "mediation_feedback": (
        "id",
        "party",
        "rating",
        "comment",
        "created_at",
        "author_id",
        "dispute_id",
        "reason",
        "outcome",
        "mediator_id",
    ),
}
# Tables with an ``id`` sequence to move past the copied rows.
SEQUENCED = [t for t, cols in TABLES.items() if cols[0] == "id"]

# Buyers' dispute counts: this pattern repeated (mean 3.19; mostly 1-5, a few serial).
BUYER_PATTERN = [1] * 22 + [2] * 22 + [3] * 20 + [4] * 16 + [5] * 14 + [6] * 3 + [8] * 2 + [25]
ZIPF_EXPONENT = 1.1


@dataclass(frozen=True)
class Spec:
    """Every count of the dataset, from the number of disputes."""

    disputes: int

    @property
    def factor(self) -> float:
        return self.disputes / 1_000_000

    @property
    def orders(self) -> int:
        return self.disputes * 3 // 2

    @property
    def repeats(self) -> int:
        """Disputes raised on an order whose earlier dispute closed (a second one)."""
        return self.disputes // 100

    @property
    def shops(self) -> int:
        # 20 per 1,000 disputes, but a few hundred at least (fewer only for tiny test sets).
        return max(self.disputes * 20 // 1000, min(300, self.disputes // 2))

    @property
    def mediators(self) -> int:
        return max(6, round(30 * self.factor))

    @property
    def open_share(self) -> float:
        return 0.03

    def agents_for_rank(self, rank: int) -> int:
        """Support agents of the shop at this size rank (1 = the largest)."""
        share = rank / self.shops
        if share <= 0.0005:
            return 10
        if share <= 0.005:
            return 3
        if share <= 0.07:
            return 1
        return 0

    @property
    def agents(self) -> int:
        return sum(self.agents_for_rank(r) for r in range(1, self.shops + 1))

    @property
    def buyers(self) -> int:
        return len(buyer_counts(self.disputes - self.repeats))

    @property
    def users(self) -> int:
        return 1 + self.mediators + self.shops + self.agents + self.buyers


def spec_for(size: str) -> Spec:
    if size in SIZES:
        return Spec(SIZES[size])
    return Spec(int(size))


def buyer_counts(total: int) -> list[int]:
    """Disputed orders per buyer, summing to ``total``."""
    counts: list[int] = []
    left = total
    i = 0
    while left > 0:
        c = min(BUYER_PATTERN[i % len(BUYER_PATTERN)], left)
        counts.append(c)
        left -= c
        i += 1
    return counts


def zipf_counts(total: int, shops: int, exponent: float = ZIPF_EXPONENT) -> list[int]:
    """``total`` split over ``shops`` by rank (index 0 = rank 1) with weights 1/r^s, every
    shop at least one, by largest remainder."""
    weights = [1 / (r**exponent) for r in range(1, shops + 1)]
    scale = (total - shops) / sum(weights)
    raw = [w * scale for w in weights]
    counts = [1 + int(x) for x in raw]
    left = total - sum(counts)
    order = sorted(range(shops), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[:left]:
        counts[i] += 1
    return counts


def schema_fingerprint() -> str:
    """The generator's version: a database built by the same generator is reused, and
    migrated forward to the migrations on disk (a new index, a rollup built from the
    data) rather than built again."""
    text = json.dumps({"version": DATASET_VERSION})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def migrate_forward(url: str, log: Callable[[str], None] = print) -> None:
    """``manage.py migrate`` on a reused database (nothing when it is up to date)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    log(f"  migrated in {time.perf_counter() - started:.1f} s")


# --- COPY text format ------------------------------------------------------------------------


def _ts(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _v(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# One encoder for every payload (json.dumps builds one per call when given separators).
_dumps = json.JSONEncoder(separators=(",", ":")).encode


class Writer:
    """Rows of one table, as COPY text, in chunk files handed to ``ready`` when full."""

    def __init__(
        self, table: str, folder: Path, ready: Callable[[str, Path], None], chunk_rows: int
    ) -> None:
        self.table = table
        self.folder = folder
        self.ready = ready
        self.chunk_rows = chunk_rows
        self.rows = 0
        self._lines: list[str] = []
        self._in_chunk = 0
        self._chunk = 0
        self._file: TextIO | None = None
        self._path: Path | None = None

    def row(self, *values: Any) -> None:
        self._lines.append("\t".join([v if type(v) is str else _v(v) for v in values]))
        self.rows += 1
        self._in_chunk += 1
        if len(self._lines) >= 5000:
            self._flush()
        if self._in_chunk >= self.chunk_rows:
            self._rotate()

    def _flush(self) -> None:
        if not self._lines:
            return
        if self._file is None:
            self._chunk += 1
            self._path = self.folder / f"{self.table}.{self._chunk:04d}.copy"
            self._file = self._path.open("w", encoding="utf-8")
        self._file.write("\n".join(self._lines))
        self._file.write("\n")
        self._lines = []

    def _rotate(self) -> None:
        self._flush()
        if self._file is not None:
            self._file.close()
            assert self._path is not None
            self.ready(self.table, self._path)
        self._file = None
        self._path = None
        self._in_chunk = 0

    def close(self) -> None:
        self._rotate()


def copy_file(conn: psycopg.Connection[Any], table: str, path: Path) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in TABLES[table])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
    with conn.cursor() as cursor, cursor.copy(statement) as copy, path.open("rb") as f:
        while data := f.read(1 << 20):
            copy.write(data)
    path.unlink()


class Loader:
    """Copies finished chunk files into the database: in a thread on a connection of its
    own (while the generator goes on), or, with ``threaded=False``, on the caller's
    connection when :meth:`finish` is called (one transaction, as in the tests)."""

    def __init__(self, conn: psycopg.Connection[Any], *, threaded: bool) -> None:
        self.conn = conn
        self.threaded = threaded
        self._queue: queue.Queue[tuple[str, Path] | None] = queue.Queue()
        self._pending: list[tuple[str, Path]] = []
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def __call__(self, table: str, path: Path) -> None:
        if self.threaded:
            self._queue.put((table, path))
        else:
            self._pending.append((table, path))

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                copy_file(self.conn, *item)
                self.conn.commit()
        except BaseException as exc:  # reported by finish()
            self._error = exc
            while self._queue.get() is not None:
                pass

    def finish(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            if self._error is not None:
                raise self._error
        for item in self._pending:
            copy_file(self.conn, *item)
        self._pending = []


# --- The generator ---------------------------------------------------------------------------


def entry_hash(e: _Entry) -> str:
    """The entry's hash, over :func:`mediation.audit.canonical_values`."""
    return hashlib.sha256(
        canonical_values(
            e.dispute_id,
            e.seq,
            e.actor_id,
            e.actor_display,
            e.actor_role,
            e.action,
            e.from_state,
            e.to_state,
            e.payload,
            e.visibility,
            e.created_at,
            e.prev_hash,
        )
    ).hexdigest()


class _Entry:
    """The fields :func:`mediation.audit.canonical_values` takes, without a model instance."""

    __slots__ = (
        "action",
        "actor_display",
        "actor_id",
        "actor_role",
        "created_at",
        "dispute_id",
        "from_state",
        "payload",
        "prev_hash",
        "seq",
        "to_state",
        "visibility",
    )

    def __init__(
        self,
        *,
        dispute_id: int,
        seq: int,
        actor_id: int | None,
        actor_display: str,
        actor_role: str,
        action: str,
        from_state: str,
        to_state: str,
        payload: dict[str, Any],
        visibility: str,
        created_at: datetime,
        prev_hash: str,
    ) -> None:
        self.dispute_id = dispute_id
        self.seq = seq
        self.actor_id = actor_id
        self.actor_display = actor_display
        self.actor_role = actor_role
        self.action = action
        self.from_state = from_state
        self.to_state = to_state
        self.payload = payload
        self.visibility = visibility
        self.created_at = created_at
        self.prev_hash = prev_hash


FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
LAST = ["Abbott", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones"]
WORDS = ["Blue", "Oak", "North", "Bright", "Little", "Urban", "Happy", "Green", "Royal", "Swift"]
GOODS = ["Lamp", "Kettle", "Sneakers", "Backpack", "Headphones", "Mug", "Jacket", "Watch", "Desk"]
CURRENCIES = ["USD"] * 7 + ["EUR"] * 2 + ["GBP"]
REASONS = [
    ("not_received", 26),
    ("not_as_described", 20),
    ("damaged_or_defective", 18),
    ("wrong_item", 10),
    ("missing_parts", 8),
    ("return_not_refunded", 8),
    ("cancellation_not_honoured", 5),
    ("other", 5),
]
REQUESTED = [("full_refund", 55), ("partial_refund", 25), ("return_and_refund", 20)]
# Closed paths and their weights; open states and theirs.
CLOSED_PATHS = [
    ("agree_offer", 30),
    ("agree_request", 15),
    ("withdrawn", 15),
    ("lapsed", 8),
    ("ruled_buyer", 15),
    ("ruled_seller", 10),
    ("ruled_partial", 7),
]
OPEN_PATHS = [
    ("awaiting_seller", 30),
    ("awaiting_buyer", 20),
    ("escalated", 12),
    ("under_review", 12),
    ("awaiting_info", 6),
    ("pending_approval", 5),
    ("awaiting_fulfilment", 15),
]
DEADLINE_HOURS = {
    "awaiting_seller": 24,
    "awaiting_buyer": 72,
    "escalated": 48,
    "under_review": 48,
    "awaiting_info": 72,
    "pending_approval": 24,
    "awaiting_fulfilment": 120,
}
SLA_STATES = {"escalated", "under_review", "pending_approval"}
TIERS = ["agent", "agent", "senior", "senior", "lead"]


def _picker(rng: random.Random, table: list[tuple[str, int]]) -> Callable[[], str]:
    names = [n for n, _ in table]
    cum: list[int] = []
    total = 0
    for _, w in table:
        total += w
        cum.append(total)

    def pick() -> str:
        return names[bisect.bisect_right(cum, rng.random() * total)]

    return pick


def token_key(username: str) -> str:
    return hashlib.sha1(f"bench-scale-token:{username}".encode()).hexdigest()


class Generator:
    def __init__(self, spec: Spec, writer: Callable[[str], Writer], now: datetime) -> None:
        self.spec = spec
        self.writer = writer
        self.now = now
        self.rng = random.Random(SEED)
        self.start = now - timedelta(days=730)
        self.subjects: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    # ids of the people
    def _layout(self) -> None:
        s = self.spec
        self.integration_id = 1
        self.mediator_ids = list(range(2, 2 + s.mediators))
        self.owner_base = 2 + s.mediators  # owner of shop id k is owner_base + k - 1
        self.agent_base = self.owner_base + s.shops
        self.buyer_base = self.agent_base + s.agents

    def run(self, password_hash: str) -> None:
        s = self.spec
        rng = self.rng
        self._layout()
        # Shop sizes by rank, shops' ids shuffled against their ranks.
        disputed = s.disputes - s.repeats
        shop_counts = zipf_counts(disputed, s.shops)
        rank_of_shop = list(range(1, s.shops + 1))
        rng.shuffle(rank_of_shop)  # rank_of_shop[id - 1]
        shop_of_rank = [0] * (s.shops + 1)
        for i, rank in enumerate(rank_of_shop):
            shop_of_rank[rank] = i + 1
        self._people(password_hash, shop_of_rank)
        self._orders_and_disputes(shop_counts, shop_of_rank, disputed)
        self.subjects["shops"] = {
            "largest": f"shop-{shop_of_rank[1]:05d}",
            "median": f"shop-{shop_of_rank[max(1, s.shops // 2)]:05d}",
            "small": f"shop-{shop_of_rank[max(1, s.shops * 9 // 10)]:05d}",
        }
        self.subjects["owners"] = {k: f"owner-{v}" for k, v in self.subjects["shops"].items()}
        self.subjects["shop_disputes"] = {
            "largest": shop_counts[0],
            "median": shop_counts[max(1, s.shops // 2) - 1],
            "small": shop_counts[max(1, s.shops * 9 // 10) - 1],
        }
        self._tokens()

    def _people(self, password_hash: str, shop_of_rank: list[int]) -> None:
        s = self.spec
        users = self.writer("auth_user")
        joined = self.start - timedelta(days=30)

        def user(uid: int, username: str, first: str = "", last: str = "") -> None:
            users.row(
                uid,
                password_hash,
                None,
                False,
                username,
                first,
                last,
                f"{username}@example.com",
                False,
                True,
                _ts(joined + timedelta(minutes=uid)),
            )

        user(self.integration_id, "integration", "Marketplace", "Backend")
        self.writer("mediation_integrationaccount").row(1, "Marketplace backend", 1)
        profiles = self.writer("mediation_mediatorprofile")
        self.mediator_names: list[str] = []
        self.mediator_tiers: list[str] = []
        for i, uid in enumerate(self.mediator_ids):
            name = f"mediator{i + 1:02d}"
            tier = TIERS[i % len(TIERS)]
            user(uid, name, FIRST[i % len(FIRST)], "Mediator")
            limit = (10_000 if tier == "agent" else 50_000) * (1 + i % 3)
            authority = {} if tier == "lead" else {"USD": limit, "EUR": limit, "GBP": limit}
            profiles.row(i + 1, tier, json.dumps(authority), True, uid)
            self.mediator_names.append(name)
            self.mediator_tiers.append(tier)
        self.agent_mediators = [i for i, t in enumerate(self.mediator_tiers) if t == "agent"] or [0]
        # The benchmark's mediator: the first senior.
        self.subjects["mediator"] = self.mediator_names[self.mediator_tiers.index("senior")]
        shops = self.writer("mediation_shop")
        policies = self.writer("mediation_shoppolicy")
        members = self.writer("mediation_shopmember")
        rank_of = {shop_id: rank for rank, shop_id in enumerate(shop_of_rank) if rank}
        member_id = 0
        agent_uid = self.agent_base
        for shop_id in range(1, s.shops + 1):
            slug = f"shop-{shop_id:05d}"
            created = self.start - timedelta(days=60, minutes=shop_id)
            shops.row(
                shop_id,
                slug,
                f"{WORDS[shop_id % len(WORDS)]} {GOODS[shop_id % len(GOODS)]} {shop_id}",
                _ts(created),
            )
            policies.row(shop_id, shop_id, 1, "Returns within 30 days of delivery.", _ts(created))
            owner = self.owner_base + shop_id - 1
            user(owner, f"owner-{slug}", FIRST[shop_id % len(FIRST)], LAST[shop_id % len(LAST)])
            member_id += 1
            members.row(member_id, "owner", 0, "USD", shop_id, owner)
            for k in range(s.agents_for_rank(rank_of[shop_id])):
                user(agent_uid, f"agent-{slug}-{k + 1}", FIRST[k % len(FIRST)], "Agent")
                member_id += 1
                members.row(member_id, "agent", 5000, "USD", shop_id, agent_uid)
                agent_uid += 1
        assert agent_uid == self.buyer_base
        self.counts["mediation_shopmember"] = member_id

    def _orders_and_disputes(
        self, shop_counts: list[int], shop_of_rank: list[int], disputed: int
    ) -> None:
        s = self.spec
        rng = self.rng
        n_orders = s.orders
        span = (self.now - timedelta(days=3) - self.start).total_seconds()
        # Which orders have a dispute: ``disputed`` of them, spread evenly over time.
        has_dispute = bytearray(n_orders)
        for k in range(disputed):
            has_dispute[(k * n_orders) // disputed] = 1
        # Buyers and shops of the disputed orders, shuffled.
        counts = buyer_counts(disputed)
        buyers_of_disputed = [b for b, c in enumerate(counts) for _ in range(c)]
        rng.shuffle(buyers_of_disputed)
        shops_of_disputed = [
            shop_of_rank[rank + 1] for rank, c in enumerate(shop_counts) for _ in range(c)
        ]
        rng.shuffle(shops_of_disputed)
        # Buyers (the users after the shops' people).
        users = self.writer("auth_user")
        joined = self.start - timedelta(days=30)
        n_buyers = len(counts)
        for b in range(n_buyers):
            uid = self.buyer_base + b
            name = f"buyer{b + 1:07d}"
            users.row(
                uid,
                self.password_hash,
                None,
                False,
                name,
                FIRST[b % len(FIRST)],
                LAST[(b // 7) % len(LAST)],
                f"{name}@example.com",
                False,
                True,
                _ts(joined + timedelta(seconds=b)),
            )
        self.counts["auth_user"] = self.buyer_base + n_buyers - 1
        # Orders: buyer, shop, time, totals, items.
        order_buyer = [0] * n_orders
        order_shop = [0] * n_orders
        order_placed: list[datetime] = [self.start] * n_orders
        order_total = [0] * n_orders
        order_currency = [""] * n_orders
        order_first_item = [0] * n_orders
        order_items = bytearray(n_orders)
        k = 0
        item_id = 0
        for j in range(n_orders):
            if has_dispute[j]:
                buyer = buyers_of_disputed[k]
                shop = shops_of_disputed[k]
                k += 1
            else:
                buyer = rng.randrange(n_buyers)
                shop = shops_of_disputed[rng.randrange(disputed)]
            order_buyer[j] = self.buyer_base + buyer
            order_shop[j] = shop
            order_placed[j] = self.start + timedelta(
                seconds=span * j / n_orders + rng.random() * 3600
            )
            order_currency[j] = CURRENCIES[j % len(CURRENCIES)]
            r = rng.random()
            n_items = 1 if r < 0.6 else 2 if r < 0.9 else 3
            order_items[j] = n_items
            order_first_item[j] = item_id + 1
            item_id += n_items
        # Dispute plans: one per disputed order, plus the repeats; sorted by creation.
        pick_closed = _picker(rng, CLOSED_PATHS)
        pick_open = _picker(rng, OPEN_PATHS)
        plans: list[tuple[datetime, int, bool]] = []  # created, order index, repeat
        disputed_orders = [j for j in range(n_orders) if has_dispute[j]]
        # Second disputes only on orders of the first 80 % of the time, so both fit before now.
        early = disputed_orders[: len(disputed_orders) * 4 // 5]
        step = max(1, len(early) // max(1, s.repeats))
        repeat_of = set(early[::step][: s.repeats])
        for j in disputed_orders:
            age = (self.now - order_placed[j]).total_seconds()
            delay = min(3600 * (24 + rng.random() * 24 * 20), age * 0.9)
            created = order_placed[j] + timedelta(seconds=delay)
            plans.append((created, j, False))
            if j in repeat_of:
                plans.append((created + timedelta(days=25 + rng.random() * 10), j, True))
        plans.sort()
        n = len(plans)
        assert n == s.disputes, (n, s.disputes)
        # Open: half of the most recent 6 %; never the first dispute of an order disputed twice.
        first_of_repeated = {j for j in repeat_of}
        window = n - int(n * s.open_share * 2)
        refunds = [0] * n_orders
        self._disputes(
            plans,
            window,
            first_of_repeated,
            pick_closed,
            pick_open,
            order_buyer,
            order_shop,
            order_total,
            order_currency,
            order_first_item,
            order_items,
            refunds,
            rng_items=random.Random(SEED + 1),
        )
        # Orders and their items, now that the refunds are known (totals set by _disputes
        # for disputed orders; the others get theirs here).
        orders = self.writer("mediation_order")
        items = self.writer("mediation_orderitem")
        irng = random.Random(SEED + 1)
        for j in range(n_orders):
            first = order_first_item[j]
            total = 0
            for i in range(order_items[j]):
                price = _item_price(irng)
                qty = 1 + (first + i) % 2
                total += price * qty
                items.row(
                    first + i,
                    f"SKU-{(first + i) % 9973:05d}",
                    f"{WORDS[(first + i) % len(WORDS)]} {GOODS[(first + i) % len(GOODS)]}",
                    qty,
                    price,
                    j + 1,
                )
            assert order_total[j] in (0, total)
            placed = order_placed[j]
            shipped = placed + timedelta(days=1)
            shipping = 0 if j % 3 else 499
            orders.row(
                j + 1,
                f"ORD-{j + 1:08d}",
                order_currency[j],
                total,
                shipping,
                min(refunds[j], total + shipping),
                _ts(placed),
                _ts(shipped),
                "UPS",
                f"1Z{j + 1:010d}",
                _ts(placed + timedelta(days=4)) if j % 5 else None,
                _ts(placed),
                _ts(placed),
                order_buyer[j],
                order_shop[j],
            )
        self.counts["mediation_order"] = n_orders
        self.counts["mediation_orderitem"] = item_id
        # The benchmark's buyer: the first from the middle of the ids with exactly 3 disputes.
        per_buyer = [0] * n_buyers
        for _, j, _ in plans:
            per_buyer[order_buyer[j] - self.buyer_base] += 1
        b = next(
            (b for b in range(n_buyers // 2, n_buyers) if per_buyer[b] == 3),
            next(b for b in range(n_buyers) if per_buyer[b] == 3),
        )
        self.subjects["buyer"] = f"buyer{b + 1:07d}"
        self.subjects["search"] = f"buyer{b + 1:07d}"
        # An order (with a dispute) for the ?order= filter, the middle one.
        self.subjects["order"] = f"ORD-{plans[n // 2][1] + 1:08d}"
        self.subjects["case"] = n // 2

    def _disputes(
        self,
        plans: list[tuple[datetime, int, bool]],
        window: int,
        first_of_repeated: set[int],
        pick_closed: Callable[[], str],
        pick_open: Callable[[], str],
        order_buyer: list[int],
        order_shop: list[int],
        order_total: list[int],
        order_currency: list[str],
        order_first_item: list[int],
        order_items: bytearray,
        refunds: list[int],
        rng_items: random.Random,
    ) -> None:
        rng = self.rng
        now = self.now
        # Item prices, drawn now in the order's sequence (the same draws as the order pass).
        n_orders = len(order_buyer)
        for j in range(n_orders):
            total = 0
            first = order_first_item[j]
            for i in range(order_items[j]):
                total += _item_price(rng_items) * (1 + (first + i) % 2)
            order_total[j] = total
        pick_reason = _picker(rng, REASONS)
        pick_requested = _picker(rng, REQUESTED)
        w = {
            name: self.writer(name)
            for name in (
                "mediation_dispute",
                "mediation_auditentry",
                "mediation_offer",
                "mediation_ruling",
                "mediation_message",
                "mediation_fulfilment",
                "mediation_feedback",
                "mediation_dispute_items",
            )
        }
        ids = dict.fromkeys(w, 0)
        seen_repeat_first: set[int] = set()
        mediators = self.mediator_ids
        names = self.mediator_names
        for idx, (created, j, repeat) in enumerate(plans):
            did = idx + 1
            # Open only in the recent window, and never the first of two on one order.
            first_of_two = j in first_of_repeated and not repeat and j not in seen_repeat_first
            if first_of_two:
                seen_repeat_first.add(j)
            is_open = idx >= window and not first_of_two and rng.random() < 0.5
            path = pick_open() if is_open else pick_closed()
            buyer = order_buyer[j]
            shop = order_shop[j]
            owner = self.owner_base + shop - 1
            currency = order_currency[j]
            total = order_total[j]
            reason = pick_reason()
            requested = pick_requested()
            req_amount = total if requested != "partial_refund" else total // 2
            entries: list[tuple[str, int | None, str, str, str, str, dict[str, Any], str]] = []
            # (action, actor id, display, role, from, to, payload, visibility)
            buyer_name = f"buyer{buyer - self.buyer_base + 1:07d}"
            owner_name = f"owner-shop-{shop:05d}"
            ext = f"ORD-{j + 1:08d}"
            item_ids: list[int] = []
            if rng.random() < 0.5:
                item_ids = [order_first_item[j]]
                ids["mediation_dispute_items"] += 1
                w["mediation_dispute_items"].row(
                    ids["mediation_dispute_items"], did, order_first_item[j]
                )
            entries.append(
                (
                    "raise",
                    buyer,
                    buyer_name,
                    "buyer",
                    "",
                    "awaiting_seller",
                    {
                        "order": ext,
                        "reason": reason,
                        "requested_outcome": requested,
                        "requested_amount": req_amount,
                        "currency": currency,
                        "description": "The parcel did not match the listing.",
                        "items": item_ids,
                        "policy_version": 1,
                    },
                    "all",
                )
            )
            # Times: the steps spread from creation to now (open) or over a few days.
            if is_open:
                left = (now - created).total_seconds()
                hours = max(0.05, min(left / 3600 * 0.8, 24 * 6))
            else:
                hours = 24 * (1 + rng.random() * 12)
            state = "awaiting_seller"
            outcome = escalation = agreed_kind = funded_by = agreed_outcome = ""
            agreed_amount = delivered = 0
            assigned: int | None = None
            ruled_at: datetime | None = None
            info_from = ""
            offer_id: int | None = None
            offer_amount = 0
            mi = rng.randrange(len(mediators))
            if path == "pending_approval":
                mi = self.agent_mediators[idx % len(self.agent_mediators)]
            mediator, mname = mediators[mi], names[mi]
            steps: list[str] = []
            if path in (
                "agree_offer",
                "withdrawn",
                "lapsed",
                "awaiting_buyer",
                "ruled_seller",
                "ruled_partial",
                "awaiting_fulfilment",
            ):
                steps.append("offer")
            if path in ("agree_offer", "awaiting_fulfilment"):
                steps.append("accept_offer")
            if path == "agree_request":
                steps.append("accept_request")
            if path == "withdrawn":
                steps.append("withdraw")
            if path == "lapsed":
                steps.append("lapse")
            if path in ("ruled_buyer",) or (path == "escalated" and idx % 2):
                steps.append("seller_timeout")
            elif path in (
                "ruled_seller",
                "ruled_partial",
                "escalated",
                "under_review",
                "awaiting_info",
                "pending_approval",
            ):
                steps.append("escalate")
            if path in (
                "ruled_buyer",
                "ruled_seller",
                "ruled_partial",
                "under_review",
                "awaiting_info",
                "pending_approval",
            ):
                steps.append("assign")
            if path == "awaiting_info":
                steps.append("request_info")
            if path in ("ruled_buyer", "ruled_seller", "ruled_partial", "pending_approval"):
                steps.append("rule")
            if path in ("agree_offer", "agree_request", "ruled_buyer", "ruled_partial"):
                steps.append("fulfil")
            message = rng.random() < 0.15
            if message:
                steps.insert(0, "message")
            gap = timedelta(hours=hours / (len(steps) + 1))
            times = [created + gap * (k + 1) for k in range(len(steps))]
            for step in steps:
                frm = state
                if step == "message":
                    ids["mediation_message"] += 1
                    mid = ids["mediation_message"]
                    w["mediation_message"].row(
                        mid,
                        "buyer",
                        "Any news about my order?",
                        False,
                        False,
                        "",
                        None,
                        _ts(created + gap * 0.5),
                        buyer,
                        did,
                        None,
                    )
                    entries.append(
                        (
                            "message",
                            buyer,
                            buyer_name,
                            "buyer",
                            frm,
                            frm,
                            {"message": mid, "body": "Any news about my order?"},
                            "all",
                        )
                    )
                elif step == "offer":
                    ids["mediation_offer"] += 1
                    offer_id = ids["mediation_offer"]
                    offer_amount = max(1, req_amount // 2)
                    state = "awaiting_buyer"
                    entries.append(
                        (
                            "offer",
                            owner,
                            owner_name,
                            "seller_owner",
                            frm,
                            state,
                            {
                                "offer": offer_id,
                                "kind": "partial_refund",
                                "amount": offer_amount,
                                "note": "",
                            },
                            "all",
                        )
                    )
                elif step == "accept_offer":
                    state = "awaiting_fulfilment"
                    agreed_kind, agreed_amount = "partial_refund", offer_amount
                    funded_by, agreed_outcome = "seller", "agreement"
                    entries.append(
                        (
                            "accept_offer",
                            buyer,
                            buyer_name,
                            "buyer",
                            frm,
                            state,
                            {"offer": offer_id, "kind": "partial_refund", "amount": offer_amount},
                            "all",
                        )
                    )
                elif step == "accept_request":
                    state = "awaiting_fulfilment"
                    agreed_kind = "full_refund" if requested != "partial_refund" else requested
                    agreed_amount, funded_by, agreed_outcome = req_amount, "seller", "agreement"
                    entries.append(
                        (
                            "accept_request",
                            owner,
                            owner_name,
                            "seller_owner",
                            frm,
                            state,
                            {"kind": requested, "amount": req_amount, "note": ""},
                            "all",
                        )
                    )
                elif step == "withdraw":
                    state, outcome = "closed", "withdrawn"
                    entries.append(
                        ("withdraw", buyer, buyer_name, "buyer", frm, state, {"note": ""}, "all")
                    )
                elif step == "lapse":
                    state, outcome = "closed", "lapsed"
                    entries.append(
                        (
                            "deadline_passed",
                            None,
                            "system",
                            "system",
                            frm,
                            state,
                            {
                                "respond_by": (times[0] + timedelta(hours=72)).isoformat(),
                                "escalation_reason": "",
                            },
                            "all",
                        )
                    )
                elif step == "seller_timeout":
                    state, escalation = "escalated", "seller_no_response"
                    entries.append(
                        (
                            "deadline_passed",
                            None,
                            "system",
                            "system",
                            frm,
                            state,
                            {
                                "respond_by": (created + timedelta(hours=24)).isoformat(),
                                "escalation_reason": escalation,
                            },
                            "all",
                        )
                    )
                elif step == "escalate":
                    state, escalation = "escalated", "buyer_request"
                    entries.append(
                        (
                            "escalate",
                            buyer,
                            buyer_name,
                            "buyer",
                            frm,
                            state,
                            {"reason": escalation, "note": "We cannot agree."},
                            "all",
                        )
                    )
                elif step == "assign":
                    state = "under_review"
                    assigned = mediator
                    entries.append(
                        (
                            "assign",
                            mediator,
                            mname,
                            "mediator",
                            frm,
                            state,
                            {"mediator": mname, "previous": None},
                            "all",
                        )
                    )
                elif step == "request_info":
                    state, info_from = "awaiting_info", "seller"
                    entries.append(
                        (
                            "request_info",
                            mediator,
                            mname,
                            "mediator",
                            frm,
                            state,
                            {
                                "party": "seller",
                                "question": "Proof of delivery?",
                                "respond_by": None,
                            },
                            "all",
                        )
                    )
                elif step == "rule":
                    ids["mediation_ruling"] += 1
                    rid = ids["mediation_ruling"]
                    kind, amount, rstatus = {
                        "ruled_buyer": ("full_refund", req_amount, "approved"),
                        "ruled_seller": ("no_action", 0, "approved"),
                        "ruled_partial": ("partial_refund", max(1, req_amount // 3), "approved"),
                        "pending_approval": ("full_refund", req_amount, "pending_approval"),
                    }[path]
                    at = times[steps.index("rule")]
                    fund = "platform" if idx % 10 == 0 else "seller"
                    w["mediation_ruling"].row(
                        rid,
                        kind,
                        amount,
                        fund,
                        "Based on the evidence on file.",
                        rstatus,
                        "",
                        _ts(at),
                        _ts(at) if rstatus == "approved" else None,
                        None,
                        did,
                        mediator,
                        amount,  # money rulings only: worth their amount
                    )
                    if rstatus == "pending_approval":
                        state = "pending_approval"
                    else:
                        ruled_at = at
                        outcome = {
                            "ruled_buyer": "ruled_for_buyer",
                            "ruled_seller": "ruled_for_seller",
                        }.get(path, "ruled_partial")
                        agreed_kind, agreed_amount, funded_by = kind, amount, fund
                        agreed_outcome = outcome
                        state = "closed" if amount == 0 else "awaiting_fulfilment"
                        if state == "closed":
                            agreed_kind = agreed_outcome = ""
                            agreed_amount = 0
                            funded_by = ""
                    entries.append(
                        (
                            "rule",
                            mediator,
                            mname,
                            "mediator",
                            frm,
                            state,
                            {
                                "ruling": rid,
                                "kind": kind,
                                "amount": amount,
                                "funded_by": fund,
                                "rationale": "Based on the evidence on file.",
                            },
                            "all",
                        )
                    )
                elif step == "fulfil":
                    ids["mediation_fulfilment"] += 1
                    fid = ids["mediation_fulfilment"]
                    at = times[steps.index("fulfil")]
                    w["mediation_fulfilment"].row(
                        fid,
                        "refund",
                        agreed_amount,
                        f"RF-{fid:08d}",
                        "",
                        "",
                        _ts(at),
                        did,
                        self.integration_id,
                    )
                    delivered = agreed_amount
                    refunds[j] += agreed_amount
                    state = "closed"
                    outcome = agreed_outcome
                    entries.append(
                        (
                            "fulfil",
                            self.integration_id,
                            "Marketplace Backend",
                            "platform",
                            frm,
                            state,
                            {
                                "fulfilment": fid,
                                "kind": "refund",
                                "amount": agreed_amount,
                                "reference": f"RF-{fid:08d}",
                                "carrier": "",
                                "tracking_number": "",
                            },
                            "all",
                        )
                    )
            # Offers: one per dispute that had one.
            if offer_id is not None:
                offer_at = times[steps.index("offer")]
                status = {"accept_offer": "accepted"}.get(
                    steps[steps.index("offer") + 1]
                    if steps.index("offer") + 1 < len(steps)
                    else "",
                    "open",
                )
                if state == "closed" and status == "open":
                    status = "superseded"
                if status == "open" and state != "awaiting_buyer":
                    status = "rejected"
                w["mediation_offer"].row(
                    offer_id,
                    "seller",
                    "partial_refund",
                    offer_amount,
                    "",
                    7,
                    status,
                    _ts(offer_at),
                    None if status == "open" else _ts(offer_at + gap),
                    None,
                    owner,
                    did,
                    False,
                )
            last = times[-1] if times else created
            respond_by: datetime | None = None
            flagged: datetime | None = None
            if state != "closed":
                # Deadlines from two days past to three weeks ahead: some overdue.
                respond_by = now + timedelta(hours=-48 + rng.random() * 24 * 23)
                respond_by = max(respond_by, last + timedelta(minutes=5))
                if state in SLA_STATES and respond_by < now:
                    flagged = respond_by
                    entries.append(
                        (
                            "sla_breached",
                            None,
                            "system",
                            "system",
                            state,
                            state,
                            {"respond_by": respond_by.isoformat(), "state": state},
                            "all",
                        )
                    )
            closed_at = last if state == "closed" else None
            if state == "closed" and rng.random() < 0.25:
                ids["mediation_feedback"] += 1
                rating = 1 + (did * 7) % 5
                w["mediation_feedback"].row(
                    ids["mediation_feedback"],
                    "buyer",
                    rating,
                    "",
                    _ts(last + gap),
                    buyer,
                    did,
                    "",
                    outcome,
                    assigned,
                )
                entries.append(
                    (
                        "feedback",
                        buyer,
                        buyer_name,
                        "buyer",
                        "closed",
                        "closed",
                        {"party": "buyer", "rating": rating, "comment": ""},
                        "all",
                    )
                )
            # The chain.
            head = ""
            audit = w["mediation_auditentry"]
            t0 = created
            for seq, (action, actor, display, role, frm, to, payload, vis) in enumerate(entries, 1):
                at = (
                    t0
                    if seq == 1
                    else (
                        times[seq - 2] if seq - 2 < len(times) else last + gap * (seq - len(times))
                    )
                )
                at = at.replace(microsecond=(did * 37 + seq) % 1_000_000)
                e = _Entry(
                    dispute_id=did,
                    seq=seq,
                    actor_id=actor,
                    actor_display=display,
                    actor_role=role,
                    action=action,
                    from_state=frm,
                    to_state=to,
                    payload=payload,
                    visibility=vis,
                    created_at=at,
                    prev_hash=head,
                )
                digest = entry_hash(e)
                ids["mediation_auditentry"] += 1
                audit.row(
                    ids["mediation_auditentry"],
                    seq,
                    display,
                    role,
                    action,
                    frm,
                    to,
                    _dumps(payload),
                    vis,
                    at.isoformat(),
                    head,
                    digest,
                    actor,
                    did,
                )
                head = digest
            w["mediation_dispute"].row(
                did,
                reason,
                requested,
                req_amount,
                "The parcel did not match the listing.",
                state,
                _ts(respond_by),
                escalation,
                "",
                info_from,
                outcome,
                0,
                False,
                agreed_kind,
                agreed_amount,
                funded_by,
                agreed_outcome,
                delivered,
                False,
                False,
                False,
                _ts(ruled_at),
                _ts(closed_at),
                _ts(created),
                _ts(last),
                len(entries),
                len(entries),
                head,
                assigned,
                buyer,
                j + 1,
                shop,
                shop,
                _ts(flagged),
                None,
                "",
                None,
            )
        for name, count in ids.items():
            self.counts[name] = count
        self.counts["mediation_dispute"] = len(plans)

    def _tokens(self) -> None:
        wanted = [
            self.subjects["buyer"],
            *self.subjects["owners"].values(),
            *self.mediator_names,
            "integration",
        ]
        self.subjects["tokens"] = {}
        for name in wanted:
            self.subjects["tokens"][name] = token_key(name)
        self._token_users = wanted

    password_hash = ""


def _item_price(rng: random.Random) -> int:
    return 500 + int(rng.random() * 20000)


# --- Keys, indexes and foreign keys around the load ------------------------------------------


@dataclass
class SavedSchema:
    constraints: list[tuple[str, str, str]]  # table, name, definition (keys before FKs)
    indexes: list[str]


def drop_keys(conn: psycopg.Connection[Any], tables: Iterable[str]) -> SavedSchema:
    """Drop the primary keys, unique constraints, foreign keys (those of the tables and those
    pointing at them) and indexes of ``tables``; returns what recreates them."""
    names = list(tables)
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c
            WHERE c.contype IN ('p', 'u', 'f')
              AND (c.conrelid::regclass::text = ANY(%s)
                   OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY(%s)))
            """,
            [names, names],
        )
        rows = cur.fetchall()
        cur.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [names],
        )
        indexes = cur.fetchall()
        fks = [(t, n, d) for t, n, d, kind in rows if kind == "f"]
        keys = [(t, n, d) for t, n, d, kind in rows if kind != "f"]
        for table, name, _ in fks + keys:
            cur.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
            )
        for name, _ in indexes:
            cur.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name)))
    # Primary keys first, then unique constraints, then foreign keys.
    keys.sort(key=lambda r: not r[2].startswith("PRIMARY"))
    return SavedSchema(constraints=keys + fks, indexes=[d for _, d in indexes])


def restore_keys(
    conn: psycopg.Connection[Any], saved: SavedSchema, log: Callable[[str], None]
) -> None:
    with conn.cursor() as cur:
        for table, name, definition in saved.constraints:
            if definition.startswith("FOREIGN KEY"):
                continue
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
                + sql.SQL(definition)  # type: ignore[arg-type]
            )
        log("  keys and unique constraints")
        for definition in saved.indexes:
            cur.execute(sql.SQL(definition))  # type: ignore[arg-type]
        log("  indexes")
        for table, name, definition in saved.constraints:
            if not definition.startswith("FOREIGN KEY"):
                continue
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
                + sql.SQL(definition)  # type: ignore[arg-type]
            )
        log("  foreign keys (validated)")


def reset_sequences(conn: psycopg.Connection[Any]) -> None:
    with conn.cursor() as cur:
        for table in SEQUENCED:
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "COALESCE((SELECT max(id) FROM {}), 0) + 1, false)"
                ).format(sql.Identifier(table)),
                [table],
            )


# --- Filling and building --------------------------------------------------------------------


@dataclass
class Result:
    spec: Spec
    counts: dict[str, int]
    subjects: dict[str, Any]
    phases: list[tuple[str, float]]


@contextmanager
def _phase(
    phases: list[tuple[str, float]], name: str, log: Callable[[str], None]
) -> Iterator[None]:
    started = time.perf_counter()
    log(f"{name} ...")
    yield
    seconds = time.perf_counter() - started
    phases.append((name, seconds))
    log(f"{name}: {seconds:.1f} s")


def fill(
    conn: psycopg.Connection[Any],
    spec: Spec,
    *,
    loader_conn: psycopg.Connection[Any] | None = None,
    log: Callable[[str], None] = lambda _: None,
    now: datetime | None = None,
    analyze: bool = True,
) -> Result:
    """Write the dataset of ``spec`` into the migrated, empty database of ``conn``.

    With ``loader_conn`` (another connection to the same database, autocommit off), files
    are copied as they are written, each committed, and ``conn``'s DDL is committed first;
    without, everything runs in ``conn``'s current transaction (the caller commits or rolls
    back), which is what the tests do.
    """
    from django.contrib.auth.hashers import make_password

    now = now or datetime.now(UTC)
    phases: list[tuple[str, float]] = []
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
            row = cur.fetchone()
            if row and row[0]:
                raise RuntimeError(f"{table} is not empty: fill() needs an empty database")
        cur.execute("SET maintenance_work_mem = '512MB'")
    with _phase(phases, "drop keys and indexes", log):
        saved = drop_keys(conn, TABLES)
        if loader_conn is not None:
            conn.commit()
    loader = Loader(loader_conn or conn, threaded=loader_conn is not None)
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    writers: dict[str, Writer] = {}
    chunk_rows = 250_000

    def writer(table: str) -> Writer:
        if table not in writers:
            writers[table] = Writer(table, folder, loader, chunk_rows)
        return writers[table]

    gen = Generator(spec, writer, now)
    try:
        with _phase(phases, "generate rows and hash chains (copying as they come)", log):
            gen.password_hash = make_password(PASSWORD)
            gen.run(gen.password_hash)
            for w in writers.values():
                w.close()
        with _phase(phases, "finish COPY", log):
            loader.finish()
    finally:
        for leftover in folder.glob("*"):
            leftover.unlink()
        folder.rmdir()
    token_users = gen._token_users
    with conn.cursor() as cur:
        # Tokens for the users the benchmark speaks as (looked up by name).
        cur.execute("SELECT id, username FROM auth_user WHERE username = ANY(%s)", [token_users])
        found = dict((name, uid) for uid, name in cur.fetchall())
        # Personal tokens as the product keeps them (knox: the digest, never the token),
        # without an expiry so that a reused database keeps working.
        with cur.copy(
            "COPY knox_authtoken (digest, token_key, created, user_id, expiry) FROM STDIN"
        ) as copy:
            for name in token_users:
                token = token_key(name)
                copy.write_row((hash_token(token), token[:15], now, found[name], None))
    counts = {t: w.rows for t, w in writers.items()}
    counts["knox_authtoken"] = len(token_users)
    with _phase(phases, "recreate keys, indexes, foreign keys", log):
        restore_keys(conn, saved, log)
    with _phase(phases, "reset sequences", log):
        reset_sequences(conn)
    subjects = dict(gen.subjects)
    subjects["built_at"] = now.isoformat()
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value jsonb NOT NULL)"
        )
        cur.execute(f"DELETE FROM {META_TABLE} WHERE key = 'dataset'")
        cur.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES ('dataset', %s)",
            [json.dumps({"disputes": spec.disputes, "counts": counts, "subjects": subjects})],
        )
    if analyze:
        with _phase(phases, "ANALYZE", log), conn.cursor() as cur:
            cur.execute("ANALYZE")
    return Result(spec=spec, counts=counts, subjects=subjects, phases=phases)


def server_url(base: str, database: str) -> str:
    return base.rstrip("/") + "/" + database


def database_name(size: str) -> str:
    return f"mediation_scale_{size.lower()}"


def read_meta(url: str) -> dict[str, Any] | None:
    try:
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", [META_TABLE])
            row = cur.fetchone()
            if not row or row[0] is None:
                return None
            cur.execute(f"SELECT key, value FROM {META_TABLE}")
            return {k: v for k, v in cur.fetchall()}
    except psycopg.OperationalError:
        return None


def build_database(
    size: str,
    server: str,
    *,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[dict[str, Any], list[tuple[str, float]]]:
    """Build ``mediation_scale_<size>`` (or reuse it); returns its metadata and the phases
    timed (empty when reused)."""
    spec = spec_for(size)
    name = database_name(size)
    if not name.startswith("mediation_scale_"):
        raise ValueError(name)
    fingerprint = schema_fingerprint()
    meta = read_meta(server_url(server, name))
    if (
        not force
        and meta
        and meta.get("dataset", {}).get("disputes") == spec.disputes
        and meta.get("schema", {}).get("fingerprint") == fingerprint
    ):
        log(
            f"{name}: reusing (built {meta['dataset']['subjects']['built_at']}, "
            f"generator {fingerprint})"
        )
        migrate_forward(server_url(server, name), log)
        return meta, []
    building = f"{name}_build"
    phases: list[tuple[str, float]] = []
    started = time.perf_counter()
    admin = server_url(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(building)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
    with _phase(phases, "migrate", log):
        env = {**os.environ, "DATABASE_URL": server_url(server, building)}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            check=True,
        )
    url = server_url(server, building)
    with psycopg.connect(url) as conn, psycopg.connect(url) as loader_conn:
        for c in (conn, loader_conn):
            c.execute("SET synchronous_commit = off")
        loader_conn.commit()
        result = fill(conn, spec, loader_conn=loader_conn, log=log, analyze=False)
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {META_TABLE} (key, value) VALUES ('schema', %s)",
                [json.dumps({"fingerprint": fingerprint, "size": size})],
            )
        conn.commit()
        phases += result.phases
    with _phase(phases, "rollups", log):
        # The rows were written around the services: the dashboard's rollups are rebuilt.
        subprocess.run(
            [sys.executable, "manage.py", "rebuild_rollups", "-v", "0"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            check=True,
        )
    with _phase(phases, "VACUUM ANALYZE", log), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(building), sql.Identifier(name)
            )
        )
    total = time.perf_counter() - started
    phases.append(("total", total))
    log(f"{name}: built in {total:.1f} s")
    meta = read_meta(server_url(server, name))
    assert meta is not None
    return meta, phases
