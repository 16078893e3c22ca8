"""``mediation.services.upsert_order``: how the marketplace's orders are created and updated."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from mediation.actors import SYSTEM
from mediation.errors import DomainError, InvalidInput, RuleViolation
from mediation.models import Order, OrderItem
from mediation.services import ItemData, OrderData, upsert_order
from workflows import transitions as t

User = get_user_model()


def order_data(external_id: str = "T-1", **changes: Any) -> OrderData:
    data = OrderData(
        external_id=external_id,
        buyer="alice",
        buyer_email="alice@example.com",
        shop="paper-petals",
        currency="USD",
        total=9000,
        shipping=500,
        placed_at=timezone.now() - timedelta(days=2),
        items=(
            ItemData("PP-PEONY", "Paper peony stem", 2, 3000),
            ItemData("PP-VASE", "Small glass vase", 1, 3000),
        ),
    )
    return replace(data, **changes)


def restated(external_id: str, **changes: Any) -> OrderData:
    """A demo order's data as it stands, with ``changes``."""
    order = Order.objects.select_related("buyer", "shop").get(external_id=external_id)
    data = OrderData(
        external_id=order.external_id,
        buyer=order.buyer.username,
        shop=order.shop.slug,
        currency=order.currency,
        total=order.total,
        shipping=order.shipping,
        placed_at=order.placed_at,
        shipped_at=order.shipped_at,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        delivered_at=order.delivered_at,
        items=tuple(
            ItemData(i.sku, i.title, i.quantity, i.unit_price) for i in order.items.order_by("pk")
        ),
    )
    return replace(data, **changes)


def items_of(order: Order) -> list[tuple[str, str, int, int]]:
    return list(order.items.order_by("sku").values_list("sku", "title", "quantity", "unit_price"))


def test_creates_an_order_with_its_items(demo: dict[str, Any]) -> None:
    order, created = upsert_order(actor=SYSTEM, data=order_data())
    assert created is True
    order.refresh_from_db()
    assert (order.buyer.username, order.shop.slug, order.currency) == (
        "alice",
        "paper-petals",
        "USD",
    )
    assert (order.total, order.shipping, order.refunded_total, order.refundable) == (
        9000,
        500,
        0,
        9500,
    )
    assert items_of(order) == [
        ("PP-PEONY", "Paper peony stem", 2, 3000),
        ("PP-VASE", "Small glass vase", 1, 3000),
    ]


def test_a_new_buyer_is_created_with_their_email(demo: dict[str, Any]) -> None:
    order, _ = upsert_order(
        actor=None, data=order_data(buyer="carol", buyer_email="carol@example.com")
    )
    carol = User.objects.get(username="carol")
    assert order.buyer_id == carol.pk and carol.email == "carol@example.com"


def test_updates_the_order_and_follows_its_items(demo: dict[str, Any]) -> None:
    order, _ = upsert_order(actor=SYSTEM, data=order_data())
    peony = order.items.get(sku="PP-PEONY")
    shipped = timezone.now() - timedelta(days=1)

    again, created = upsert_order(
        actor=SYSTEM,
        data=order_data(
            total=6500,
            shipped_at=shipped,
            carrier="UPS",
            tracking_number="1Z999",
            items=(
                ItemData("PP-PEONY", "Paper peony stem, pink", 2, 3000),
                ItemData("PP-CARD", "Greeting card", 1, 500),
            ),
        ),
    )

    assert created is False and again.pk == order.pk
    order.refresh_from_db()
    assert (order.total, order.shipped_at, order.carrier, order.tracking_number) == (
        6500,
        shipped,
        "UPS",
        "1Z999",
    )
    assert items_of(order) == [
        ("PP-CARD", "Greeting card", 1, 500),
        ("PP-PEONY", "Paper peony stem, pink", 2, 3000),
    ]
    # The same SKU keeps its row; the vase the marketplace no longer lists is gone.
    assert order.items.get(sku="PP-PEONY").pk == peony.pk
    assert Order.objects.filter(external_id="T-1").count() == 1


def test_items_named_by_a_dispute_stay(demo: dict[str, Any]) -> None:
    order, _ = upsert_order(actor=SYSTEM, data=order_data())
    vase = order.items.get(sku="PP-VASE")
    t.raise_dispute(
        actor=demo["alice"],
        order_id=order.pk,
        reason="damaged_or_defective",
        requested_outcome="partial_refund",
        requested_amount=3000,
        description="The vase arrived cracked.",
        item_ids=[vase.pk],
    )

    upsert_order(actor=SYSTEM, data=order_data(items=()))

    assert list(order.items.values_list("sku", flat=True)) == ["PP-VASE"]


def test_unknown_shop_is_refused(demo: dict[str, Any]) -> None:
    with pytest.raises(RuleViolation) as info:
        upsert_order(actor=SYSTEM, data=order_data(shop="nowhere", buyer="newbie"))
    assert (info.value.code, info.value.status, info.value.extra) == (
        "unknown_shop",
        422,
        {"field": "shop"},
    )
    assert not Order.objects.filter(external_id="T-1").exists()
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize(
    "change",
    [{"buyer": "bob"}, {"buyer": "mallory"}, {"shop": "inkwell-studio"}, {"currency": "EUR"}],
    ids=["other-buyer", "new-buyer", "shop", "currency"],
)
def test_an_order_keeps_its_buyer_shop_and_currency(
    demo: dict[str, Any], change: dict[str, str]
) -> None:
    before = Order.objects.values().get(external_id="PP-1001")
    with pytest.raises(RuleViolation) as info:
        upsert_order(actor=SYSTEM, data=restated("PP-1001", **change))
    assert (info.value.code, info.value.status) == ("order_immutable_field", 422)
    assert Order.objects.values().get(external_id="PP-1001") == before
    # The buyer it would have created went with the refused transaction.
    assert not User.objects.filter(username="mallory").exists()


def test_amounts_may_not_go_below_what_was_refunded(demo: dict[str, Any]) -> None:
    order = Order.objects.get(external_id="PP-1006")
    assert order.refunded_total == 1500

    with pytest.raises(RuleViolation) as info:
        upsert_order(actor=SYSTEM, data=restated("PP-1006", total=1000, shipping=0))
    assert info.value.code == "amount_below_refunded"
    order.refresh_from_db()
    assert (order.total, order.shipping) == (2900, 500)

    # Down to exactly what was refunded is fine.
    upsert_order(actor=SYSTEM, data=restated("PP-1006", total=1500, shipping=0))
    order.refresh_from_db()
    assert (order.total, order.refundable) == (1500, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"external_id": "  "}, "external_id"),
        ({"total": -1}, "total"),
        ({"shipping": -1}, "shipping"),
        ({"items": (ItemData("A", "Alpha", 0, 100),)}, "items"),
        ({"items": (ItemData("A", "", 1, 100),)}, "items"),
        ({"items": (ItemData("A", "Alpha", 1, -1),)}, "items"),
    ],
)
def test_invalid_input_is_refused(demo: dict[str, Any], change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        upsert_order(actor=SYSTEM, data=order_data(**change))
    assert (info.value.code, info.value.status, info.value.extra) == (
        "invalid",
        400,
        {"field": field},
    )
    assert not Order.objects.filter(external_id="T-1").exists()


def test_an_invalid_currency_names_itself(demo: dict[str, Any]) -> None:
    with pytest.raises(DomainError, match="'XYZ' is not an ISO 4217 currency"):
        upsert_order(actor=SYSTEM, data=order_data(currency="XYZ"))


def test_delivery_before_shipping_is_refused(demo: dict[str, Any]) -> None:
    now = timezone.now()
    with pytest.raises(RuleViolation) as info:
        upsert_order(
            actor=SYSTEM,
            data=order_data(shipped_at=now, delivered_at=now - timedelta(hours=1)),
        )
    assert (info.value.status, info.value.code) == (422, "delivered_before_shipped")
    assert info.value.extra == {"field": "delivered_at"}


def test_a_refused_update_changes_nothing(demo: dict[str, Any]) -> None:
    before = list(OrderItem.objects.filter(order__external_id="PP-1006").values())
    with pytest.raises(RuleViolation):
        upsert_order(actor=SYSTEM, data=restated("PP-1006", total=1, shipping=0, items=()))
    assert list(OrderItem.objects.filter(order__external_id="PP-1006").values()) == before
