"""Demo data of DESIGN §11: the people, shops and orders of the README's walkthrough, and a
handful of disputes in different states, all made through the real services."""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.storage import Storage
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from console.models import SavedReply
from mediation import audit_anchor
from mediation.models import (
    ApiKey,
    Dispute,
    IntegrationAccount,
    MediatorProfile,
    Order,
    OrderItem,
    Shop,
    ShopMember,
    ShopPolicy,
    Tier,
)
from workflows import conversation
from workflows import transitions as t

PASSWORD = "demo-pass-123"
# The demo storefront's API key (Authorization: Bearer ...): demo data only, never a secret.
DEMO_PLATFORM_KEY = "demo0key.storefront-demo-key-not-secret"

USERS = {
    "alice": ("Alice", "Archer"),
    "bob": ("Bob", "Baker"),
    "petals_owner": ("Poppy", "Petal"),
    "petals_agent": ("Pat", "Agent"),
    "inkwell_owner": ("Ivy", "Inkwell"),
    "mia_agent": ("Mia", "Moreau"),
    "sam_senior": ("Sam", "Sato"),
    "lee_lead": ("Lee", "Lindqvist"),
    "storefront": ("Storefront", "Integration"),
}

# (external id, buyer, shop, total, shipping, days ago, items)
ORDERS: list[tuple[str, str, str, int, int, int, list[tuple[str, str, int, int]]]] = [
    (
        "IW-2006",
        "bob",
        "inkwell-studio",
        18000,
        0,
        14,
        [("IW-DESK-SET", "Walnut desk set with blotter", 1, 18000)],
    ),
    (
        "IW-2007",
        "alice",
        "inkwell-studio",
        7200,
        500,
        18,
        [("IW-NIB-SET", "Calligraphy nib set", 1, 7200)],
    ),
    (
        "PP-1001",
        "alice",
        "paper-petals",
        24000,
        0,
        12,
        [("PP-BOUQ-XL", "Everlasting paper peony bouquet, XL", 1, 24000)],
    ),
    (
        "PP-1002",
        "alice",
        "paper-petals",
        4500,
        500,
        30,
        [("PP-ROSE-3", "Three crepe-paper roses", 1, 4500)],
    ),
    (
        "IW-2001",
        "alice",
        "inkwell-studio",
        3200,
        450,
        20,
        [("IW-CARD-10", "Letterpress cards, pack of 10", 2, 1600)],
    ),
    (
        "IW-2002",
        "alice",
        "inkwell-studio",
        8900,
        600,
        8,
        [("IW-PEN-GLD", "Gold-nib fountain pen", 1, 8900)],
    ),
    ("PP-1003", "bob", "paper-petals", 6800, 500, 5, [("PP-TULIP-6", "Six paper tulips", 1, 6800)]),
    (
        "PP-1004",
        "bob",
        "paper-petals",
        12500,
        700,
        9,
        [("PP-WREATH", "Paper wreath, 40 cm", 1, 12500)],
    ),
    ("PP-1005", "bob", "paper-petals", 3900, 500, 15, [("PP-BOUT-2", "Two boutonnieres", 1, 3900)]),
    (
        "IW-2003",
        "bob",
        "inkwell-studio",
        2400,
        450,
        4,
        [("IW-INK-BLU", "Blue-black ink, 50 ml", 2, 1200)],
    ),
    (
        "IW-2004",
        "bob",
        "inkwell-studio",
        15600,
        0,
        25,
        [("IW-JOURNAL", "Hand-bound leather journal", 1, 15600)],
    ),
    (
        "IW-2005",
        "bob",
        "inkwell-studio",
        5400,
        450,
        40,
        [("IW-STAMP", "Custom wax seal stamp", 1, 5400)],
    ),
    (
        "PP-1006",
        "alice",
        "paper-petals",
        2900,
        500,
        60,
        [("PP-BUD", "Single paper bud vase filler", 1, 2900)],
    ),
]


def _user(username: str, **extra: Any) -> Any:
    user_model = get_user_model()
    first, last = USERS[username]
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.com",
            **extra,
        },
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def _demo_platform_key(account: IntegrationAccount) -> None:
    """The storefront's API key, with a value the README's walkthrough can print (a real
    platform's key comes from ``manage.py create_api_key`` and is random). The integration
    has no password: it authenticates with its key only."""
    prefix = DEMO_PLATFORM_KEY.partition(".")[0]
    if not ApiKey.objects.filter(prefix=prefix).exists():
        hashed = ApiKey.objects.key_generator.hash(DEMO_PLATFORM_KEY)
        ApiKey.objects.create(
            id=f"{prefix}.{hashed}",
            prefix=prefix,
            hashed_key=hashed,
            name="Demo order sync",
            user=account.user,
        )
    if account.user.has_usable_password():
        account.user.set_unusable_password()
        account.user.save(update_fields=["password"])


@transaction.atomic
def seed() -> dict[str, int]:
    """Create what is missing; running it again changes nothing."""
    now = timezone.now()
    users = {
        name: _user(name, is_staff=name in {"mia_agent", "sam_senior", "lee_lead"})
        for name in USERS
    }
    petals, _ = Shop.objects.get_or_create(slug="paper-petals", defaults={"name": "Paper Petals"})
    inkwell, _ = Shop.objects.get_or_create(
        slug="inkwell-studio", defaults={"name": "Inkwell Studio"}
    )
    for shop, text in (
        (
            petals,
            "Returns within 30 days of delivery for a full refund; damaged items replaced free.",
        ),
        (
            inkwell,
            "Custom items are final sale unless damaged; others may be returned within 14 days.",
        ),
    ):
        ShopPolicy.objects.get_or_create(
            shop=shop,
            version=1,
            defaults={"text": text, "effective_from": now - timedelta(days=365)},
        )
    ShopMember.objects.get_or_create(
        shop=petals, user=users["petals_owner"], defaults={"role": "owner"}
    )
    ShopMember.objects.get_or_create(
        shop=petals,
        user=users["petals_agent"],
        defaults={"role": "agent", "offer_limit": 5000, "offer_limit_currency": "USD"},
    )
    ShopMember.objects.get_or_create(
        shop=inkwell, user=users["inkwell_owner"], defaults={"role": "owner"}
    )
    for name, tier, limit in (
        ("mia_agent", Tier.AGENT, 10000),
        ("sam_senior", Tier.SENIOR, 100000),
        ("lee_lead", Tier.LEAD, None),
    ):
        MediatorProfile.objects.get_or_create(
            user=users[name],
            defaults={"tier": tier, "authority": {} if limit is None else {"USD": limit}},
        )
    storefront, _ = IntegrationAccount.objects.get_or_create(
        user=users["storefront"], defaults={"name": "Storefront"}
    )
    _demo_platform_key(storefront)

    shops = {"paper-petals": petals, "inkwell-studio": inkwell}
    orders = {}
    for ext, buyer, shop_slug, total, shipping, days, items in ORDERS:
        placed = now - timedelta(days=days)
        order, created = Order.objects.get_or_create(
            external_id=ext,
            defaults={
                "buyer": users[buyer],
                "shop": shops[shop_slug],
                "currency": "USD",
                "total": total,
                "shipping": shipping,
                "placed_at": placed,
                "shipped_at": placed + timedelta(days=1),
                "carrier": "USPS",
                "tracking_number": f"9400{zlib.crc32(ext.encode()):012d}",
                "delivered_at": placed + timedelta(days=4) if days > 6 else None,
            },
        )
        if created:
            for sku, title, qty, price in items:
                OrderItem.objects.create(
                    order=order, sku=sku, title=title, quantity=qty, unit_price=price
                )
        orders[ext] = order

    if not Dispute.objects.filter(
        order__external_id__in=["IW-2001", "IW-2003", "IW-2004", "IW-2005", "IW-2006", "PP-1006"]
    ).exists():
        _demo_disputes(users, orders)
    _demo_replies(users["lee_lead"])
    return {"users": len(users), "orders": len(orders), "disputes": Dispute.objects.count()}


# The team's shared saved replies, curated by the lead: warm, plain, and specific about
# what happens next.
REPLIES = [
    (
        "Taking the case",
        "message",
        "Hello {{ buyer_name }} and {{ shop_name }}, I'm {{ mediator_name }}, the mediator now "
        "looking at case {{ case }} (order {{ order }}). I will read everything you have both "
        "sent and come back to you within two working days. Thank you for your patience "
        "while I do.",
    ),
    (
        "Photos of the item and packaging",
        "request_info",
        "Dear {{ party_name }}, to understand what happened with order {{ order }}, could you "
        "send clear photos of the item and its packaging, including any damage and the "
        "shipping label? They help me reach a fair decision quickly.",
    ),
    (
        "Proof of delivery",
        "request_info",
        "Dear {{ party_name }}, could you share the carrier's proof of delivery for order "
        "{{ order }} (a delivery scan, photo or signature)? The buyer says it did not arrive "
        "as expected, and this is the fastest way to settle it.",
    ),
    (
        "The ruling explained",
        "message",
        "Hello {{ buyer_name }} and {{ shop_name }}, I have ruled on case {{ case }}: "
        "{{ ruled_amount }}. The reasons are in the ruling on the case. Thank you both for "
        "your patience and for the details you shared.",
    ),
]


def _demo_replies(lead: Any) -> None:
    for title, kind, body in REPLIES:
        SavedReply.objects.get_or_create(
            title=title, owner=lead, defaults={"kind": kind, "body": body, "shared": True}
        )


def _demo_disputes(users: dict[str, Any], orders: dict[str, Order]) -> None:
    alice, bob = users["alice"], users["bob"]
    ink, petals_owner = users["inkwell_owner"], users["petals_owner"]
    mia = users["mia_agent"]

    # Waiting for the shop to answer.
    t.raise_dispute(
        actor=bob,
        order_id=orders["IW-2003"].pk,
        reason="not_received",
        requested_outcome="full_refund",
        description="Tracking has not moved for four days and the ink has not arrived.",
    )

    # The shop offered a partial refund; the buyer has to answer.
    d = t.raise_dispute(
        actor=bob,
        order_id=orders["IW-2004"].pk,
        reason="damaged_or_defective",
        requested_outcome="replacement",
        description="The journal's spine is cracked.",
    ).dispute
    t.make_offer(
        dispute_id=d.pk,
        actor=ink,
        kind="partial_refund",
        amount=4000,
        note="I am sorry the spine cracked. Could 40.00 back help while you keep the journal?",
    )

    # Contested and escalated: in the platform's queue.
    d = t.raise_dispute(
        actor=alice,
        order_id=orders["IW-2001"].pk,
        reason="not_as_described",
        requested_outcome="full_refund",
        description="The cards are cream, not the bright white in the photos.",
    ).dispute
    t.contest(
        dispute_id=d.pk,
        actor=ink,
        statement="The listing says 'natural cream stock' in the first line.",
    )
    t.escalate(
        dispute_id=d.pk,
        actor=alice,
        reason="buyer_request",
        note="I would like someone to look at the photos.",
    )
    # ... and past the platform's deadline, as if escalated two days and three hours ago:
    # the queue's Overdue filter and its red "overdue" have a case to show (the sweeper
    # flags the breach on its next run, and the case stays in the queue).
    Dispute.objects.filter(pk=d.pk).update(respond_by=timezone.now() - timedelta(hours=3))

    # Under review by a mediator, with an internal note.
    d = t.raise_dispute(
        actor=bob,
        order_id=orders["IW-2005"].pk,
        reason="wrong_item",
        requested_outcome="return_and_refund",
        description="I received a different seal design from the one I ordered.",
    ).dispute
    t.escalate(
        dispute_id=d.pk,
        actor=ink,
        reason="seller_request",
        note="The proof was approved by the buyer.",
    )
    t.assign(dispute_id=d.pk, actor=mia)
    conversation.post_message(
        dispute_id=d.pk, actor=mia, body="Check the proof approval email.", internal=True
    )

    # Settled by agreement and refunded: closed.
    d = t.raise_dispute(
        actor=alice,
        order_id=orders["PP-1006"].pk,
        reason="damaged_or_defective",
        requested_outcome="partial_refund",
        requested_amount=1500,
        description="One petal was torn in transit.",
    ).dispute
    t.accept_request(dispute_id=d.pk, actor=petals_owner, note="So sorry! Refunding 15.00 now.")
    t.fulfil(
        dispute_id=d.pk,
        actor=users["storefront"],
        kind="refund",
        amount=1500,
        reference="re_demo_1006",
    )
    conversation.leave_feedback(dispute_id=d.pk, actor=alice, rating=5, comment="Quick and kind.")

    # Ruled within the mediator's authority: the refund is due.
    d = t.raise_dispute(
        actor=alice,
        order_id=orders["IW-2007"].pk,
        reason="missing_parts",
        requested_outcome="partial_refund",
        requested_amount=3000,
        description="Two of the six nibs were missing from the set.",
    ).dispute
    t.escalate(dispute_id=d.pk, actor=ink, reason="seller_request", note="We packed all six.")
    t.assign(dispute_id=d.pk, actor=mia)
    t.rule(
        dispute_id=d.pk,
        actor=mia,
        kind="partial_refund",
        amount=2400,
        rationale="The packing photo shows four nibs; two missing nibs are worth 24.00.",
    )

    # A ruling beyond the mediator's authority, waiting for a senior's approval.
    d = t.raise_dispute(
        actor=bob,
        order_id=orders["IW-2006"].pk,
        reason="not_as_described",
        requested_outcome="full_refund",
        description="The desk set is veneer, not solid walnut as the listing says.",
    ).dispute
    t.contest(
        dispute_id=d.pk, actor=ink, statement="The listing says walnut veneer in its details."
    )
    t.escalate(dispute_id=d.pk, actor=bob, reason="buyer_request")
    t.assign(dispute_id=d.pk, actor=mia)
    t.rule(
        dispute_id=d.pk,
        actor=mia,
        kind="full_refund",
        rationale="The title says 'solid walnut'; the details contradict it.",
    )


# --- Back to the initial state (seed_demo --reset) ---------------------------------------

# Tables a reset keeps: what migrate and beat write and the demo never changes (content
# types and permissions, which other rows point at; beat's schedule, which a running beat
# holds in memory under the DatabaseScheduler).
KEPT_TABLE_PREFIXES = ("django_content_type", "auth_permission", "django_celery_beat_")


@dataclass
class Reset:
    """What :func:`reset` removed besides the database rows."""

    tables: int = 0
    files: int = 0
    checkpoints: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _erased_tables() -> list[str]:
    return sorted(
        name
        for name in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if not name.startswith(KEPT_TABLE_PREFIXES)
    )


def _stored_files() -> list[tuple[Storage, str]]:
    """(storage, name) of every file a row points at (the evidence)."""
    found: list[tuple[Storage, str]] = []
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            if isinstance(model_field, models.FileField):
                names = model._default_manager.exclude(**{model_field.name: ""}).values_list(
                    model_field.name, flat=True
                )
                found.extend((model_field.storage, name) for name in names)
    return found


def migration_defaults() -> None:
    """The rows migrations write (the deadline policy's default row per open state), as a
    freshly migrated database has them."""
    module = importlib.import_module("mediation.migrations.0005_deadline_policy")
    module.seed_defaults(apps, None)


def reset() -> Reset:
    """Erase every row the service wrote (disputes, messages, audit entries, checkpoints,
    outbox, notifications, webhooks, orders, users and their tokens and lockouts, sessions)
    with the id sequences, the evidence files and the signed audit checkpoints, and seed
    the demo data again: the state of a first ``make run`` on an empty ``var/``, the same
    ids included."""
    done = Reset()
    files = _stored_files()
    tables = _erased_tables()
    with transaction.atomic():
        statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True)
        connection.ops.execute_sql_flush(statements)
        migration_defaults()
        done.counts = seed()
    done.tables = len(tables)
    for storage, name in files:
        if storage.exists(name):
            storage.delete(name)
            done.files += 1
    # The checkpoints anchored the erased chains: kept, they would name heads the new
    # chains (with the same dispute ids) never had, and verify_audit would call it tampering.
    anchors = audit_anchor.storage()
    for name in audit_anchor.checkpoint_names():
        anchors.delete(name)
        done.checkpoints += 1
    # Request rates, login lockouts, the deadline policy's copy: all of the erased world.
    cache.clear()
    return done
