"""What ``make bench-api`` (``bench_api``) and its test share: the cast and disputes it
seeds through the product's services, the ping-pong of offers and counter-offers, and the
capture of the SQL one transition sends, written out as a pgbench script.

The SQL is captured, not typed: one offer and one counter-offer go through the product's
view (Django's test client, the whole middleware and DRF stack, with an
``Idempotency-Key``) while a connection execute wrapper records every statement with its
parameters rendered as SQL literals by psycopg (``cursor.mogrify``). The requests run
inside a transaction that is rolled back at the end, so nothing they did is kept and the
script can replay them on the very rows they ran on. Inside that transaction the
request's own transaction shows up as a savepoint; the script turns it back into what a
request sends on its own: the statements before it in autocommit, then ``BEGIN``, the
statements of the transaction, and ``ROLLBACK`` where the request sends ``COMMIT`` (so
the script can run again and again: the INSERTs carry unique values, such as the audit
sequence and the idempotency key). A ROLLBACK does not wait for the WAL flush a COMMIT
waits for: the script is a lower bound of the database's share of a transition.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from mediation.models import Order, OrderItem, Shop, ShopMember, ShopPolicy, ShopRole
from workflows.credentials import issue_token
from workflows.transitions import raise_dispute

ORDER_TOTAL = 4800
SHIPPING = 500


@dataclass
class Cast:
    """A shop with its owner and a buyer, each with an API token."""

    tag: str
    shop: Shop
    owner: Any
    buyer: Any
    owner_token: str
    buyer_token: str
    disputes: set[int] = field(default_factory=set)  # those raised by raise_disputes

    def token(self, who: str) -> str:
        return self.owner_token if who == "owner" else self.buyer_token


def make_cast(tag: str) -> Cast:
    """A shop, its owner and a buyer, as the demo data makes them (no password: tokens)."""
    user_model = get_user_model()
    owner = user_model.objects.create(username=f"bench-owner-{tag}", email=f"o-{tag}@example.com")
    buyer = user_model.objects.create(username=f"bench-buyer-{tag}", email=f"b-{tag}@example.com")
    shop = Shop.objects.create(slug=f"bench-shop-{tag}", name=f"Bench shop {tag}")
    ShopPolicy.objects.create(
        shop=shop,
        version=1,
        text="Returns within 30 days of delivery for a full refund.",
        effective_from=timezone.now() - timedelta(days=365),
    )
    ShopMember.objects.create(shop=shop, user=owner, role=ShopRole.OWNER)
    return Cast(
        tag=tag,
        shop=shop,
        owner=owner,
        buyer=buyer,
        owner_token=issue_token(owner)[1],
        buyer_token=issue_token(buyer)[1],
    )


def raise_disputes(cast: Cast, n: int) -> list[int]:
    """``n`` delivered orders of the cast's buyer, each with a dispute the buyer raised
    through the product's service (``awaiting_seller``, audit entry and events)."""
    now = timezone.now()
    start = Order.objects.filter(shop=cast.shop).count()
    orders = Order.objects.bulk_create(
        [
            Order(
                external_id=f"BENCH-{cast.tag}-{start + i:06d}",
                buyer=cast.buyer,
                shop=cast.shop,
                currency="USD",
                total=ORDER_TOTAL,
                shipping=SHIPPING,
                placed_at=now - timedelta(days=10),
                shipped_at=now - timedelta(days=9),
                carrier="USPS",
                tracking_number=f"9400{start + i:012d}",
                delivered_at=now - timedelta(days=6),
            )
            for i in range(n)
        ]
    )
    OrderItem.objects.bulk_create(
        [
            OrderItem(order=o, sku="BENCH-1", title="Bench vase", quantity=1, unit_price=4800)
            for o in orders
        ]
    )
    ids = [
        raise_dispute(
            actor=cast.buyer,
            order_id=o.pk,
            reason="damaged_or_defective",
            requested_outcome="full_refund",
            description="Arrived broken.",
        ).dispute.pk
        for o in orders
    ]
    cast.disputes.update(ids)
    return ids


# --- The ping-pong ------------------------------------------------------------------------


def ping_pong() -> list[tuple[str, str]]:
    """(action slug, who) of every transition a dispute can take in the negotiation before
    the counter-offer limit ends it: the owner offers, the buyer counters, ... and the
    owner's last offer (``2 * MAX_COUNTER_ROUNDS + 1`` transitions)."""
    rounds = settings.MEDIATION_MAX_COUNTER_ROUNDS
    return [("offer", "owner"), ("counter", "buyer")] * rounds + [("offer", "owner")]


def body_for(slug: str, step: int) -> dict[str, Any]:
    """A valid body of ``offer`` or ``counter`` (``api/serializers.py``) at ``step``."""
    if slug == "offer":
        return {"kind": "partial_refund", "amount": 1000 + 100 * step, "note": ""}
    return {"requested_outcome": "partial_refund", "requested_amount": 3000 - 100 * step}


# --- SQL capture ----------------------------------------------------------------------------


@dataclass
class Captured:
    """The statements one request sent: before its transaction (autocommit), inside it,
    after it; and the response's status."""

    label: str
    before: list[str] = field(default_factory=list)
    inside: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    status: int = 0

    @property
    def statements(self) -> list[str]:
        return self.before + self.inside + self.after


class _Discard(Exception):
    pass


def _render(sql: str, params: Any) -> str:
    cursor = connection.connection.cursor()
    try:
        return cursor.mogrify(sql, params).strip()
    finally:
        cursor.close()


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a transaction and roll it back, whatever it did."""
    try:
        with transaction.atomic():
            yield
            raise _Discard
    except _Discard:
        pass


def capture(label: str, send: Callable[[], Any]) -> Captured:
    """Run ``send()`` (one request, inside :func:`rolled_back`) and record its statements."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The SQL capture renders literals with psycopg: PostgreSQL only.")
    if not connection.in_atomic_block:
        raise RuntimeError("capture() runs inside rolled_back(), so nothing is kept.")
    result = Captured(label)
    base = len(connection.savepoint_ids)
    state: dict[str, Any] = {"phase": "before", "sid": None}

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        words = sql.split()
        head = " ".join(words[:2])
        if (
            state["phase"] == "before"
            and words[:1] == ["SAVEPOINT"]
            and len(connection.savepoint_ids) == base
        ):
            # The request's outermost atomic block: its own transaction when it runs alone.
            state.update(phase="inside", sid=words[1])
        elif (
            state["phase"] == "inside"
            and head in {"RELEASE SAVEPOINT", "ROLLBACK TO"}
            and (words[-1] == state["sid"])
        ):
            state["phase"] = "after"
        else:
            rendered = [_render(sql, p) for p in params] if many else [_render(sql, params)]
            getattr(result, state["phase"]).extend(rendered)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = send()
    result.status = response.status_code
    if not 200 <= result.status < 300:
        raise RuntimeError(f"{label}: {result.status} {response.content[:500]!r}")
    return result


def post(client: Client, path: str, token: str, body: dict[str, Any], *, key: bool) -> Any:
    headers = {"Authorization": f"Token {token}"}
    if key:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def capture_transitions(cast: Cast, dispute_ids: list[int]) -> list[tuple[Captured, Captured]]:
    """For each dispute (in ``awaiting_seller``): the owner's offer and the buyer's
    counter-offer through the product's view, with an ``Idempotency-Key``, captured. The
    first dispute is a warm-up (caches, lazily built routes) and is not returned. All of
    it is rolled back: the disputes stay as they were."""
    client = Client()
    captured: list[tuple[Captured, Captured]] = []

    def send(pk: int, slug: str, token: str, step: int) -> Callable[[], Any]:
        path = f"/api/v1/disputes/{pk}/{slug}/"
        return lambda: post(client, path, token, body_for(slug, step), key=True)

    with rolled_back():
        for i, pk in enumerate(dispute_ids):
            offer = capture(f"offer on dispute {pk}", send(pk, "offer", cast.owner_token, 0))
            counter = capture(f"counter on dispute {pk}", send(pk, "counter", cast.buyer_token, 1))
            if i:
                captured.append((offer, counter))
    return captured


def _transaction_sql(cap: Captured) -> list[str]:
    lines = [f"-- {cap.label}: {len(cap.statements)} statements ({cap.status})"]
    lines += [f"{s};" for s in cap.before]
    lines.append("BEGIN;")
    lines += [f"{s};" for s in cap.inside]
    lines.append("ROLLBACK;")
    lines += [f"{s};" for s in cap.after]
    return lines


def pgbench_script(captures: list[Captured]) -> str:
    """A pgbench script replaying one captured request per client: client ``c`` runs
    ``captures[c % len(captures)]`` (its own dispute, so clients do not wait on each
    other's row locks), in ``BEGIN ... ROLLBACK``."""
    lines = [
        "-- Captured from the product's view by benchmarks/apibench.py; "
        "ROLLBACK stands for COMMIT so that it can repeat.",
    ]
    if len(captures) == 1:
        lines += _transaction_sql(captures[0])
    else:
        lines.append(f"\\set slot :client_id % {len(captures)}")
        for i, cap in enumerate(captures):
            keyword = "\\if" if i == 0 else "\\elif"
            lines.append(f"{keyword} :slot = {i}")
            lines += _transaction_sql(cap)
        lines.append("\\endif")
    return "\n".join(lines) + "\n"
