"""factory_boy factories for the domain's people, shops and orders.

Disputes are deliberately absent: their state is protected and changes only through the
services of ``workflows.transitions``; use :mod:`tests.scenarios` to get a dispute into
any state of DESIGN §4 the way a real one gets there.

Users get an unusable password by default (hashing one costs a tenth of a second each);
pass ``password="..."`` when a test logs in with one::

    buyer = UserFactory()
    owner = ShopMemberFactory(role="owner").user
    agent = ShopMemberFactory(shop=owner_shop, agent=True, offer_limit=5000)
    mediator = MediatorProfileFactory(senior=True).user
    order = OrderFactory(buyer=buyer, total=24000, shipping=1000)   # one item of 24000
    order = OrderFactory(total=1000, items=[("SKU-1", "Card", 2, 500)], placed_days_ago=200)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from factory.django import DjangoModelFactory

from mediation.models import (
    IntegrationAccount,
    MediatorProfile,
    Order,
    OrderItem,
    Shop,
    ShopMember,
    ShopPolicy,
    ShopRole,
    Tier,
)

__all__ = [
    "IntegrationAccountFactory",
    "MediatorProfileFactory",
    "OrderFactory",
    "OrderItemFactory",
    "ShopFactory",
    "ShopMemberFactory",
    "ShopPolicyFactory",
    "UserFactory",
]


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(obj: Any, create: bool, extracted: str | None, **kwargs: Any) -> None:
        """``UserFactory(password="secret")`` sets a real one; otherwise it is unusable."""
        if extracted:
            obj.set_password(extracted)
        else:
            obj.set_unusable_password()
        if create:
            obj.save(update_fields=["password"])


class ShopFactory(DjangoModelFactory[Shop]):
    class Meta:
        model = Shop
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.replace("-", " ").title())


class ShopPolicyFactory(DjangoModelFactory[ShopPolicy]):
    class Meta:
        model = ShopPolicy

    shop = factory.SubFactory(ShopFactory)
    version = factory.Sequence(lambda n: n + 1)
    text = "Returns within 30 days of delivery for a full refund."
    effective_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=365))


class ShopMemberFactory(DjangoModelFactory[ShopMember]):
    """A shop member; an ``owner`` by default. ``agent=True`` makes a support agent."""

    class Meta:
        model = ShopMember

    shop = factory.SubFactory(ShopFactory)
    user = factory.SubFactory(UserFactory)
    role = ShopRole.OWNER
    offer_limit = 0
    offer_limit_currency = "USD"

    class Params:
        agent = factory.Trait(role=ShopRole.AGENT, offer_limit=5000)


class MediatorProfileFactory(DjangoModelFactory[MediatorProfile]):
    """A mediator; tier ``agent`` with 100.00 USD by default, or ``senior=True`` (1,000.00)
    or ``lead=True`` (unlimited), like the demo's mia_agent, sam_senior and lee_lead."""

    class Meta:
        model = MediatorProfile

    user = factory.SubFactory(UserFactory, is_staff=True)
    tier = Tier.AGENT
    authority = factory.LazyFunction(lambda: {"USD": 10000})
    active = True

    class Params:
        senior = factory.Trait(tier=Tier.SENIOR, authority={"USD": 100000})
        lead = factory.Trait(tier=Tier.LEAD, authority={})


class IntegrationAccountFactory(DjangoModelFactory[IntegrationAccount]):
    """The marketplace's own backend (the platform integration's service account)."""

    class Meta:
        model = IntegrationAccount

    user = factory.SubFactory(UserFactory)
    name = "Storefront"


class OrderItemFactory(DjangoModelFactory[OrderItem]):
    class Meta:
        model = OrderItem

    order = factory.SubFactory("tests.factories.OrderFactory", items=[])
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    title = factory.Faker("sentence", nb_words=3)
    quantity = 1
    unit_price = 1000


class OrderFactory(DjangoModelFactory[Order]):
    """An order with items, placed ten days ago, shipped and delivered.

    ``items`` is a list of ``(sku, title, quantity, unit_price)``; by default one item
    priced at ``total`` (24,000 minor units unless given). ``placed_days_ago`` moves
    ``placed_at`` and the fulfilment facts with it.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

    class Params:
        placed_days_ago = 10

    external_id = factory.Sequence(lambda n: f"ORD-{n:05d}")
    buyer = factory.SubFactory(UserFactory)
    shop = factory.SubFactory(ShopFactory)
    currency = "USD"
    total = 24000
    shipping = 500
    refunded_total = 0
    placed_at = factory.LazyAttribute(lambda o: timezone.now() - timedelta(days=o.placed_days_ago))
    shipped_at = factory.LazyAttribute(lambda o: o.placed_at + timedelta(days=1))
    carrier = "USPS"
    tracking_number = factory.Sequence(lambda n: f"9400{n:012d}")
    delivered_at = factory.LazyAttribute(lambda o: o.placed_at + timedelta(days=4))

    @factory.post_generation
    def items(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        if extracted is None:
            extracted = [(f"{obj.external_id}-1", "Everlasting paper bouquet", 1, obj.total)]
        for sku, title, quantity, unit_price in extracted:
            OrderItem.objects.create(
                order=obj, sku=sku, title=title, quantity=quantity, unit_price=unit_price
            )
