"""Order synchronisation: the marketplace's backend (API or CSV import) upserts orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from mediation.actors import Actor, SystemActor, is_integration
from mediation.errors import Forbidden, InvalidInput, RuleViolation
from mediation.models import Order, OrderItem, Shop
from mediation.money import is_currency


@dataclass(frozen=True)
class ItemData:
    sku: str
    title: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class OrderData:
    external_id: str
    buyer: str
    shop: str
    currency: str
    total: int
    placed_at: datetime
    shipping: int = 0
    buyer_email: str = ""
    items: tuple[ItemData, ...] = ()
    shipped_at: datetime | None = None
    carrier: str = ""
    tracking_number: str = ""
    delivered_at: datetime | None = None


def _validate(data: OrderData) -> None:
    if not data.external_id.strip():
        raise InvalidInput("external_id is required.", field="external_id")
    if not data.buyer.strip():
        raise InvalidInput("buyer is required.", field="buyer")
    if len({item.sku for item in data.items}) != len(data.items):
        raise RuleViolation("Each sku appears once per order.", field="items", code="duplicate_sku")
    if not is_currency(data.currency):
        raise InvalidInput(f"{data.currency!r} is not an ISO 4217 currency.", field="currency")
    for name in ("total", "shipping"):
        value = getattr(data, name)
        if not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{name} is a non-negative integer in minor units.", field=name)
    for item in data.items:
        if item.quantity < 1 or item.unit_price < 0 or not item.sku or not item.title:
            raise InvalidInput(
                "Each item needs a sku, a title, a quantity and a unit price.", field="items"
            )
    if data.delivered_at and data.shipped_at and data.delivered_at < data.shipped_at:
        raise RuleViolation(
            "delivered_at is before shipped_at.",
            field="delivered_at",
            code="delivered_before_shipped",
        )


def check_may_sync_orders(actor: Actor) -> None:
    """Only the marketplace's integration account (or the system: the CSV import) syncs
    orders."""
    if not (isinstance(actor, SystemActor) or is_integration(actor)):
        raise Forbidden("Only the marketplace's integration account syncs orders.")


def upsert_order(*, actor: Actor | None, data: OrderData) -> tuple[Order, bool]:
    """Create or update the order with ``data.external_id``; returns (order, created).

    The buyer is the marketplace's customer account (created when first seen); the shop
    must already exist (:func:`check_may_sync_orders` says who may call it). An update may
    not lower the order's amounts below what has been
    refunded, and may not move an order to another buyer, shop or currency.
    """
    _validate(data)
    user_model = get_user_model()
    with transaction.atomic():
        shop = Shop.objects.filter(slug=data.shop).first()
        if shop is None:
            raise RuleViolation(f"No shop {data.shop!r}.", field="shop", code="unknown_shop")
        buyer, _ = user_model.objects.get_or_create(
            username=data.buyer, defaults={"email": data.buyer_email}
        )
        order = Order.objects.select_for_update().filter(external_id=data.external_id).first()
        created = order is None
        if order is None:
            order = Order(
                external_id=data.external_id, buyer=buyer, shop=shop, currency=data.currency
            )
        else:
            if (order.buyer_id, order.shop_id, order.currency) != (
                buyer.pk,
                shop.pk,
                data.currency,
            ):
                raise RuleViolation(
                    "An order keeps its buyer, shop and currency.", code="order_immutable_field"
                )
            if data.total + data.shipping < order.refunded_total:
                raise RuleViolation(
                    "The new amounts are below what has already been refunded.",
                    code="amount_below_refunded",
                )
        order.total = data.total
        order.shipping = data.shipping
        order.placed_at = data.placed_at
        order.shipped_at = data.shipped_at
        order.carrier = data.carrier
        order.tracking_number = data.tracking_number
        order.delivered_at = data.delivered_at
        order.save()
        if data.items or not created:
            existing = {i.sku: i for i in order.items.all()} if not created else {}
            keep = []
            for item in data.items:
                row = existing.get(item.sku) or OrderItem(order=order, sku=item.sku)
                row.title, row.quantity, row.unit_price = item.title, item.quantity, item.unit_price
                row.save()
                keep.append(row.pk)
            if not created:
                # Items still named by a dispute stay; the rest follow the marketplace.
                order.items.exclude(pk__in=keep).filter(disputes__isnull=True).delete()
    return order, created
