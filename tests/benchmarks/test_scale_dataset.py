"""The scale dataset of ``make bench-scale``, built small (300 disputes) by COPY in the test
database: the proportions of the spec, every constraint, intact audit chains, sequences
past the copied rows; and the plan reader that reports sequential scans."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from knox.crypto import hash_token
from knox.models import AuthToken

from benchmarks.plans import seq_scans
from benchmarks.scale import TABLES, Spec, fill
from mediation.models import (
    AuditEntry,
    Dispute,
    IntegrationAccount,
    MediatorProfile,
    Order,
    OrderItem,
    Shop,
    ShopMember,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and EXPLAIN: PostgreSQL"),
]

N = 300


def _schema() -> set[tuple[str, str]]:
    """Names of the constraints and indexes of the loaded tables (and of the tables whose
    foreign keys point at them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname FROM pg_constraint
            WHERE conrelid::regclass::text = ANY(%s) OR confrelid::regclass::text = ANY(%s)
            UNION
            SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)
            """,
            [list(TABLES)] * 3,
        )
        return set(cursor.fetchall())


@pytest.fixture
def dataset(db: Any) -> dict[str, Any]:
    before = _schema()
    connection.ensure_connection()
    result = fill(connection.connection, Spec(N))
    assert _schema() == before, "the keys, indexes and foreign keys are all back"
    return {"result": result}


def test_counts_follow_the_spec(dataset: dict[str, Any]) -> None:
    spec = Spec(N)
    users = get_user_model().objects
    assert Dispute.objects.count() == N
    assert Order.objects.count() == spec.orders == N * 3 // 2
    assert Shop.objects.count() == spec.shops
    assert users.count() == spec.users
    assert MediatorProfile.objects.count() == spec.mediators
    assert IntegrationAccount.objects.count() == 1
    assert ShopMember.objects.filter(role="owner").count() == spec.shops
    assert ShopMember.objects.count() == spec.shops + spec.agents
    # Every order has an item; about 4 audit entries per dispute; about 3 % open.
    assert not Order.objects.filter(items__isnull=True).exists()
    assert OrderItem.objects.count() >= spec.orders
    assert 3.5 <= AuditEntry.objects.count() / N <= 5
    open_ = Dispute.objects.exclude(state="closed")
    assert 0.01 * N <= open_.count() <= 0.06 * N
    assert not open_.filter(respond_by__isnull=True).exists()
    assert not Dispute.objects.filter(state="closed", outcome="").exists()
    assert not Dispute.objects.filter(state="closed", closed_at__isnull=True).exists()
    # Skewed shops: the largest far above the median.
    per_shop = sorted(
        Dispute.objects.values("shop").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert per_shop[-1] >= 5 * per_shop[len(per_shop) // 2]
    # Buyers mostly with 1-5 disputes.
    per_buyer = Counter(Dispute.objects.values_list("buyer_id", flat=True))
    assert sum(1 for n in per_buyer.values() if n <= 5) >= 0.9 * len(per_buyer)
    # The subjects of the benchmark exist, with their tokens.
    subjects = dataset["result"].subjects
    assert Dispute.objects.filter(buyer__username=subjects["buyer"]).count() == 3
    for owner in subjects["owners"].values():
        token = AuthToken.objects.get(digest=hash_token(subjects["tokens"][owner]))
        assert token.user.get_username() == owner
    assert users.get(username=subjects["mediator"]).mediator_profile.tier == "senior"


def test_constraints_hold(dataset: dict[str, Any]) -> None:
    # Recreated after the load, so validated on the data; and the rules behind them:
    open_per_order = Dispute.objects.exclude(state="closed").values("order").annotate(n=Count("id"))
    assert not open_per_order.filter(n__gt=1).exists()
    mismatched = Dispute.objects.raw(
        "SELECT d.id FROM mediation_dispute d JOIN mediation_order o ON o.id = d.order_id "
        "WHERE o.buyer_id <> d.buyer_id OR o.shop_id <> d.shop_id"
    )
    assert list(mismatched) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE NOT convalidated "
            "AND conrelid::regclass::text = ANY(%s)",
            [list(TABLES)],
        )
        assert cursor.fetchone() == (0,)


def test_audit_chains_are_intact(dataset: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"Verified {N} disputes" in out.getvalue()
    assert f"{N} intact, 0 broken" in out.getvalue()
    head = Dispute.objects.order_by("?").first()
    assert head is not None
    last = AuditEntry.objects.filter(dispute=head).order_by("-seq").first()
    assert last is not None and (last.seq, last.hash) == (head.audit_seq, head.audit_head)


def test_sequences_continue_after_the_copied_rows(dataset: dict[str, Any]) -> None:
    users = get_user_model().objects
    user = users.create_user("after-the-copy")
    shop = Shop.objects.create(slug="after-the-copy", name="After")
    order = Order.objects.create(
        external_id="AFTER-1",
        buyer=user,
        shop=shop,
        currency="USD",
        total=100,
        placed_at=shop.created_at,
    )
    item = OrderItem.objects.create(order=order, sku="X", title="X", unit_price=100)
    dispute = Dispute.objects.create(
        order=order,
        buyer=user,
        shop=shop,
        reason="other",
        requested_outcome="full_refund",
        description="After the copy",
    )
    assert user.pk == users.count()
    assert shop.pk == Spec(N).shops + 1
    assert order.pk == Spec(N).orders + 1
    assert item.pk == OrderItem.objects.count()
    assert dispute.pk == N + 1


def test_seq_scans_reads_the_plan(dataset: dict[str, Any]) -> None:
    unindexed = "SELECT id FROM mediation_dispute WHERE description = %s"
    assert seq_scans(unindexed, ["nothing"], connection) == ["mediation_dispute"]
    by_pk = "SELECT * FROM mediation_dispute WHERE id = %s"
    assert seq_scans(by_pk, [1], connection) == []
    # A sub-plan (here an InitPlan) is walked too.
    nested = (
        "SELECT id, (SELECT count(*) FROM mediation_dispute d WHERE d.description = 'x') "
        "FROM mediation_shop WHERE id = 1"
    )
    assert seq_scans(nested, None, connection) == ["mediation_dispute"]
    # Tables outside the list are reported only when asked for.
    small = "SELECT id FROM mediation_shop WHERE name = 'x'"
    assert seq_scans(small, None, connection) == []
    assert seq_scans(small, None, connection, tables=None) == ["mediation_shop"]
