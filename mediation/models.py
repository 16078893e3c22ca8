"""The dispute domain (DESIGN §3).

Money is always an integer number of minor units next to an ISO 4217 currency. The
dispute's ``state`` is a protected django-fsm field: it changes only through the
transition methods below, and those are called only by the services in
``workflows.transitions``, inside one transaction with the audit entry.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

import django_fsm as fsm
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from mediation.money import CURRENCY_CHOICES, MINOR_UNITS


class State(models.TextChoices):
    AWAITING_SELLER = "awaiting_seller", "Awaiting seller"
    AWAITING_BUYER = "awaiting_buyer", "Awaiting buyer"
    ESCALATED = "escalated", "Escalated"
    UNDER_REVIEW = "under_review", "Under review"
    AWAITING_INFO = "awaiting_info", "Awaiting information"
    PENDING_APPROVAL = "pending_approval", "Ruling pending approval"
    AWAITING_FULFILMENT = "awaiting_fulfilment", "Awaiting fulfilment"
    CLOSED = "closed", "Closed"


S = State


class Reason(models.TextChoices):
    NOT_RECEIVED = "not_received", "Not received"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    DAMAGED_OR_DEFECTIVE = "damaged_or_defective", "Damaged or defective"
    WRONG_ITEM = "wrong_item", "Wrong item"
    MISSING_PARTS = "missing_parts", "Missing parts"
    RETURN_NOT_REFUNDED = "return_not_refunded", "Return not refunded"
    CANCELLATION_NOT_HONOURED = "cancellation_not_honoured", "Cancellation not honoured"
    OTHER = "other", "Other"


class Remedy(models.TextChoices):
    FULL_REFUND = "full_refund", "Full refund"
    PARTIAL_REFUND = "partial_refund", "Partial refund"
    REPLACEMENT = "replacement", "Replacement"
    RETURN_AND_REFUND = "return_and_refund", "Return and refund"
    STORE_CREDIT = "store_credit", "Store credit"
    GOODWILL = "goodwill", "Goodwill gesture"
    NO_ACTION = "no_action", "No action"


# Remedies a party may propose; ``no_action`` is a mediator's ruling only.
PARTY_REMEDIES = [r for r in Remedy.values if r != Remedy.NO_ACTION]
PARTY_REMEDY_CHOICES = [(r.value, r.label) for r in Remedy if r != Remedy.NO_ACTION]


class Outcome(models.TextChoices):
    AGREEMENT = "agreement", "Agreement"
    RULED_FOR_BUYER = "ruled_for_buyer", "Ruled for the buyer"
    RULED_FOR_SELLER = "ruled_for_seller", "Ruled for the seller"
    RULED_PARTIAL = "ruled_partial", "Ruled partially for the buyer"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LAPSED = "lapsed", "Lapsed"


class EscalationReason(models.TextChoices):
    BUYER_REQUEST = "buyer_request", "Buyer asked for the platform"
    SELLER_REQUEST = "seller_request", "Seller asked for the platform"
    ABUSIVE_CONDUCT = "abusive_conduct", "Abusive conduct"
    SELLER_NO_RESPONSE = "seller_no_response", "Seller did not answer in time"
    FULFILMENT_OVERDUE = "fulfilment_overdue", "Remedy not delivered in time"
    APPEAL = "appeal", "Ruling appealed"
    RETURN_DISPUTED = "return_disputed", "The returned item was not as expected"


class ReturnResult(models.TextChoices):
    """What the shop found when the returned item arrived (PayPal's acknowledgement types);
    anything but ``as_expected`` escalates the dispute at once."""

    AS_EXPECTED = "as_expected", "Arrived as expected"
    DAMAGED = "damaged", "Arrived damaged"
    EMPTY_OR_DIFFERENT = "empty_or_different", "Empty box or a different item"
    MISSING_PARTS = "missing_parts", "Parts are missing"
    NOT_RECEIVED = "not_received", "Nothing arrived"


# What a party may give as the reason when escalating by hand.
PARTY_ESCALATION_CHOICES = [
    (r.value, r.label)
    for r in (
        EscalationReason.BUYER_REQUEST,
        EscalationReason.SELLER_REQUEST,
        EscalationReason.ABUSIVE_CONDUCT,
    )
]


class Funder(models.TextChoices):
    SELLER = "seller", "Seller"
    PLATFORM = "platform", "Platform"


class Tier(models.TextChoices):
    AGENT = "agent", "Agent"
    SENIOR = "senior", "Senior"
    LEAD = "lead", "Lead"


TIER_RANK = {Tier.AGENT: 1, Tier.SENIOR: 2, Tier.LEAD: 3}


class Party(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class MediatorProfile(models.Model):
    """Platform staff who rule on escalated disputes, within a per-currency authority."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mediator_profile"
    )
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.AGENT)
    # {"USD": 10000, "EUR": 10000}: the largest ruling amount (minor units) this mediator
    # may decide alone in each currency. A lead has no limit; a currency not listed is 0.
    authority = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    # The IANA time zone the console shows this mediator's times in; blank: the
    # marketplace's (settings.TIME_ZONE). Chosen on the console's "My settings" page.
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.tier})"

    @property
    def rank(self) -> int:
        return TIER_RANK[Tier(self.tier)]

    def authority_for(self, currency: str) -> int | None:
        """The limit in minor units, or None when unlimited."""
        if self.tier == Tier.LEAD:
            return None
        return int(self.authority.get(currency, 0))

    def covers(self, amount: int, currency: str) -> bool:
        """Whether the amount is within the mediator's authority: what they may approve
        as the second mediator of someone else's ruling."""
        limit = self.authority_for(currency)
        return limit is None or amount <= limit

    def sole_limit_for(self, currency: str) -> int | None:
        """The largest ruling (minor units) they decide alone, without a second mediator:
        their authority, and for a lead ``MEDIATION_LEAD_SECOND_APPROVAL`` (None: unlimited)."""
        if self.tier != Tier.LEAD:
            return self.authority_for(currency)
        major = settings.MEDIATION_LEAD_SECOND_APPROVAL
        if major is None:
            return None
        return int(major * 10 ** MINOR_UNITS.get(currency, 2))

    def rules_alone(self, amount: int, currency: str) -> bool:
        limit = self.sole_limit_for(currency)
        return limit is None or amount <= limit


class IntegrationAccount(models.Model):
    """The marketplace's own backend: syncs orders and records refunds it executed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_account"
    )
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Shop(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class PolicyIsPublished(Exception):
    """A published policy version is never changed: publish a new version instead."""


class ShopPolicyQuerySet(models.QuerySet["ShopPolicy"]):
    def update(self, **kwargs: Any) -> int:
        raise PolicyIsPublished("A published shop policy is not changed; publish a new version.")


class ShopPolicy(models.Model):
    """A version of the shop's return and refund policy; disputes keep the one in force.

    Versions are immutable once saved (the disputes raised under one cite its text): a
    change is a new version (``workflows.shop_policies.publish_policy``)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    text = models.TextField()
    effective_from = models.DateTimeField()

    objects = ShopPolicyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="shop_policy_version_unique")
        ]
        ordering = ["shop", "-version"]
        verbose_name_plural = "shop policies"

    def __str__(self) -> str:
        return f"{self.shop} policy v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PolicyIsPublished(
                "A published shop policy is not changed; publish a new version."
            )
        super().save(*args, **kwargs)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


class ShopRole(models.TextChoices):
    OWNER = "owner", "Owner"
    AGENT = "agent", "Support agent"


class ShopMember(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shop_memberships"
    )
    role = models.CharField(max_length=10, choices=ShopRole.choices, default=ShopRole.AGENT)
    # An agent may offer up to this amount alone; above it the owner approves. Owners are
    # unlimited for their shop. The limit holds in ``offer_limit_currency`` only.
    offer_limit = models.PositiveBigIntegerField(default=0)
    offer_limit_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="shop_member_unique")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role} of {self.shop})"

    def limit_for(self, currency: str) -> int | None:
        if self.role == ShopRole.OWNER:
            return None
        return self.offer_limit if currency == self.offer_limit_currency else 0


def actor_reference() -> models.ForeignKey:
    """Who acted, in a record that is never updated: no database constraint, so deleting a
    user leaves the id (and the name copied beside it, ``actor_display``)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )


class ApiKey(AbstractAPIKey):
    """An integration's key (``Authorization: Bearer <key>``): the library keeps its prefix
    and a SHA-512 digest, never the key. A key acts as its own user: for a shop's key, a
    member of the shop made for it with the key's role (an agent within ``offer_limit``, or an
    owner), so every rule of a member holds for it and the audit log names the key; for the
    platform's, the integration account's user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    # None for a key of the platform's integration.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="api_keys", null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class CredentialAction(models.TextChoices):
    API_KEY_CREATED = "api_key_created", "API key created"
    API_KEY_REVOKED = "api_key_revoked", "API key revoked"
    LOGGED_OUT_EVERYWHERE = "logged_out_everywhere", "Logged out everywhere"


class CredentialEvent(models.Model):
    """Who created or revoked which credential, when and from where: an append-only log
    (never updated; the console shows it read-only)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=30, choices=CredentialAction.choices)
    actor = actor_reference()
    # Copied so the entry stays readable after the user is renamed or deleted.
    actor_display = models.CharField(max_length=200)
    shop = models.ForeignKey(
        Shop,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    key_prefix = models.CharField(max_length=8, blank=True)
    key_name = models.CharField(max_length=50, blank=True)
    detail = models.JSONField(default=dict)
    client_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} by {self.actor_display}"


class Order(models.Model):
    """An order synced from the marketplace. Amounts in minor units of ``currency``."""

    external_id = models.CharField(max_length=100, unique=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders", db_index=False)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    total = models.PositiveBigIntegerField(help_text="Goods total, minor units")
    shipping = models.PositiveBigIntegerField(default=0, help_text="Shipping, minor units")
    refunded_total = models.PositiveBigIntegerField(default=0)
    placed_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "id"], name="order_buyer_id"),
            models.Index(fields=["shop", "id"], name="order_shop_id"),
            # The console's search by tracking number.
            models.Index(fields=["tracking_number"], name="order_tracking"),
        ]
        constraints = [
            # The money invariant, held by the database as well as the services.
            models.CheckConstraint(
                condition=Q(refunded_total__lte=F("total") + F("shipping")),
                name="order_refunds_within_total",
            )
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def refundable(self) -> int:
        return self.total + self.shipping - self.refunded_total


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


# States with a deadline (``respond_by``): every open one. Past it, the dispute is overdue
# (:meth:`Dispute.is_overdue`, ``mediation.selectors.overdue_filter``).
DEADLINE_STATES: frozenset[str] = frozenset(s for s in State.values if s != State.CLOSED)
# Of those, the states whose deadline moves the dispute (DESIGN §4, applied by the sweeper),
# and those whose deadline is the platform's service level: a breach is flagged, the state
# stays.
TRANSITION_STATES: tuple[str, ...] = (
    State.AWAITING_SELLER,
    State.AWAITING_BUYER,
    State.AWAITING_INFO,
    State.AWAITING_FULFILMENT,
)
SLA_STATES: tuple[str, ...] = (State.ESCALATED, State.UNDER_REVIEW, State.PENDING_APPROVAL)
# The platform's review before a ruling is proposed, and the states in which the shop may
# still concede or offer (the first, while it is asked; the others before any ruling).
REVIEW_STATES: tuple[str, ...] = (State.ESCALATED, State.UNDER_REVIEW, State.AWAITING_INFO)
SHOP_ANSWER_STATES: tuple[str, ...] = (State.AWAITING_SELLER, *REVIEW_STATES)


class Dispute(fsm.FSMModelMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    items = models.ManyToManyField(OrderItem, blank=True, related_name="disputes")
    # buyer, shop, state, respond_by: indexed together with the id (Meta.indexes), so a
    # party's list and each queue filter read its page in id order from one index.
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="disputes_raised",
        db_index=False,
    )
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="disputes", db_index=False
    )
    reason = models.CharField(max_length=40, choices=Reason.choices)
    requested_outcome = models.CharField(max_length=30, choices=Remedy.choices)
    requested_amount = models.PositiveBigIntegerField(default=0)
    description = models.TextField()
    state = fsm.FSMField(
        max_length=30, choices=State.choices, default=State.AWAITING_SELLER, protected=True
    )
    respond_by = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(
        max_length=30, choices=EscalationReason.choices, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes_assigned",
    )
    # An appeal must be heard by a mediator of at least this tier.
    required_tier = models.CharField(max_length=10, choices=Tier.choices, blank=True)
    info_requested_from = models.CharField(max_length=10, choices=Party.choices, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    policy_version = models.ForeignKey(
        ShopPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    counter_rounds = models.PositiveSmallIntegerField(default=0)
    appealed = models.BooleanField(default=False)
    # The remedy agreed or ruled, which fulfilment must deliver.
    agreed_kind = models.CharField(max_length=30, choices=Remedy.choices, blank=True)
    agreed_amount = models.PositiveBigIntegerField(default=0)
    funded_by = models.CharField(max_length=10, choices=Funder.choices, blank=True)
    agreed_outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    # Delivery progress of the agreed remedy.
    delivered_amount = models.PositiveBigIntegerField(default=0)
    replacement_shipped = models.BooleanField(default=False)
    return_shipped = models.BooleanField(default=False)
    return_acknowledged = models.BooleanField(default=False)
    # What the shop found in the return (blank until it says; see ReturnResult).
    return_result = models.CharField(max_length=20, choices=ReturnResult.choices, blank=True)
    ruled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: bumped by every change to what the API shows (ETag).
    version = models.PositiveIntegerField(default=1)
    # Head of the audit chain, so appending needs no read and concurrent appends serialize
    # on the dispute row lock.
    audit_seq = models.PositiveIntegerField(default=0)
    audit_head = models.CharField(max_length=64, blank=True)
    # The ``audit_seq`` the last signed checkpoint outside the database anchored (DESIGN §8):
    # the heads still to anchor are those past it, read through a partial index. Only the
    # anchoring writes it; a use case saves only the columns it changed.
    audit_anchored_seq = models.PositiveIntegerField(default=0, db_default=0)
    # The deadline (``respond_by``) a reminder went out for, and the one whose SLA breach was
    # flagged: each happens once per deadline, and a new deadline makes them due again.
    # When a party first reported a message or escalated for abusive conduct: the
    # mediators' "reported conduct" queue.
    conduct_reported_at = models.DateTimeField(null=True, blank=True)
    reminded_for = models.DateTimeField(null=True, blank=True)
    overdue_flagged_for = models.DateTimeField(null=True, blank=True)
    # The reminder to rate the handling: due at this time after the dispute closed (NULL
    # when none is due), and when it went out (once per dispute, even if it is reopened).
    feedback_due_at = models.DateTimeField(null=True, blank=True)
    feedback_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=~Q(state="closed"),
                name="one_open_dispute_per_order",
            )
        ]
        indexes = [
            models.Index(fields=["state", "respond_by"], name="dispute_state_deadline"),
            models.Index(fields=["buyer", "id"], name="dispute_buyer_id"),
            models.Index(fields=["shop", "id"], name="dispute_shop_id"),
            models.Index(fields=["state", "id"], name="dispute_state_id"),
            # The console's queue: nearest deadline first.
            models.Index(fields=["respond_by", "id"], name="dispute_deadline_id"),
            # Open disputes in id order (the overdue filter): a few percent of the rows.
            models.Index(fields=["id"], condition=~Q(state="closed"), name="dispute_open_id"),
            # The reported-conduct queue: few rows.
            models.Index(
                fields=["id"],
                condition=Q(conduct_reported_at__isnull=False),
                name="dispute_conduct_reported_id",
            ),
            # The heads the next audit checkpoint anchors: the disputes changed since the last.
            models.Index(
                fields=["id"],
                condition=Q(audit_seq__gt=F("audit_anchored_seq")),
                name="dispute_audit_unanchored",
            ),
            # The feedback reminders due: the disputes closed in the last days only.
            models.Index(
                fields=["feedback_due_at", "id"],
                condition=Q(feedback_due_at__isnull=False),
                name="dispute_feedback_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute #{self.pk} on {self.order_id}"

    @property
    def currency(self) -> str:
        return self.order.currency

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Past the deadline of its (open) state: the API's ``overdue`` flag and filter and
        the console's "overdue" column all use this rule."""
        return (
            self.state in DEADLINE_STATES
            and self.respond_by is not None
            and self.respond_by < (now or timezone.now())
        )

    # --- Transitions (DESIGN §4), named like the actions of the API and the console (the
    # generated state diagram shows these names). Guards and effects live in the services
    # of ``workflows`` (see ``workflows.actions``); these methods only move the state, so
    # the table of sources and targets is declared in one place.

    @fsm.transition(
        field=state,
        source=SHOP_ANSWER_STATES,
        target=fsm.RETURN_VALUE(S.AWAITING_FULFILMENT, S.CLOSED),
    )
    def accept_request(self, *, nothing_to_deliver: bool) -> str:
        """The shop concedes: while it is asked, or at any point of the review before a
        ruling (the agreement closes the case before the mediator rules)."""
        return S.CLOSED if nothing_to_deliver else S.AWAITING_FULFILMENT

    @fsm.transition(
        field=state,
        source=SHOP_ANSWER_STATES,
        target=fsm.RETURN_VALUE(S.AWAITING_BUYER, *REVIEW_STATES),
    )
    def offer(self) -> str:
        """An offer within the member's limit goes to the buyer; one made while the
        platform reviews the case leaves it with the mediator until the buyer accepts."""
        return S.AWAITING_BUYER if self.state == S.AWAITING_SELLER else self.state

    @fsm.transition(
        field=state,
        source=SHOP_ANSWER_STATES,
        target=fsm.RETURN_VALUE(S.AWAITING_BUYER, *REVIEW_STATES),
    )
    def approve_offer(self) -> str:
        """The owner approves an agent's offer above the agent's limit (as ``offer``)."""
        return S.AWAITING_BUYER if self.state == S.AWAITING_SELLER else self.state

    @fsm.transition(
        field=state,
        source=SHOP_ANSWER_STATES,
        target=fsm.RETURN_VALUE(*SHOP_ANSWER_STATES),
    )
    def reject_offer(self) -> str:
        """The owner turns down an agent's offer above the agent's limit: nothing moves."""
        return str(self.state)

    @fsm.transition(field=state, source=S.AWAITING_SELLER, target=S.AWAITING_BUYER)
    def contest(self) -> None:
        pass

    @fsm.transition(
        field=state,
        source=[S.AWAITING_BUYER, *REVIEW_STATES],
        target=fsm.RETURN_VALUE(S.AWAITING_FULFILMENT, S.CLOSED),
    )
    def accept_offer(self, *, nothing_to_deliver: bool) -> str:
        return S.CLOSED if nothing_to_deliver else S.AWAITING_FULFILMENT

    @fsm.transition(field=state, source=S.AWAITING_BUYER, target=S.AWAITING_SELLER)
    def counter(self) -> None:
        pass

    @fsm.transition(
        field=state,
        source=[S.AWAITING_SELLER, S.AWAITING_BUYER, S.AWAITING_FULFILMENT],
        target=S.ESCALATED,
    )
    def escalate(self) -> None:
        """By a party, or by the system when the seller's or the remedy's deadline passes."""

    @fsm.transition(
        field=state,
        source=[
            S.AWAITING_SELLER,
            S.AWAITING_BUYER,
            S.ESCALATED,
            S.UNDER_REVIEW,
            S.AWAITING_INFO,
            S.AWAITING_FULFILMENT,
        ],
        target=S.CLOSED,
    )
    def withdraw(self) -> None:
        pass

    @fsm.transition(field=state, source=S.AWAITING_BUYER, target=S.CLOSED)
    def lapse(self) -> None:
        """The buyer's deadline passed (system)."""

    @fsm.transition(
        field=state,
        source=[S.ESCALATED, S.UNDER_REVIEW, S.AWAITING_INFO],
        target=fsm.RETURN_VALUE(S.UNDER_REVIEW, S.AWAITING_INFO),
    )
    def assign(self) -> str:
        return S.AWAITING_INFO if self.state == S.AWAITING_INFO else S.UNDER_REVIEW

    @fsm.transition(field=state, source=S.UNDER_REVIEW, target=S.AWAITING_INFO)
    def request_info(self) -> None:
        pass

    @fsm.transition(field=state, source=S.AWAITING_INFO, target=S.UNDER_REVIEW)
    def provide_info(self) -> None:
        pass

    @fsm.transition(field=state, source=S.AWAITING_INFO, target=S.UNDER_REVIEW)
    def resume_review(self) -> None:
        """The information deadline passed unanswered (system)."""

    @fsm.transition(
        field=state,
        source=S.UNDER_REVIEW,
        target=fsm.RETURN_VALUE(S.PENDING_APPROVAL, S.AWAITING_FULFILMENT, S.CLOSED),
    )
    def rule(self, *, needs_approval: bool, nothing_to_deliver: bool) -> str:
        if needs_approval:
            return S.PENDING_APPROVAL
        return S.CLOSED if nothing_to_deliver else S.AWAITING_FULFILMENT

    @fsm.transition(
        field=state,
        source=S.PENDING_APPROVAL,
        target=fsm.RETURN_VALUE(S.AWAITING_FULFILMENT, S.CLOSED),
    )
    def approve_ruling(self, *, nothing_to_deliver: bool) -> str:
        return S.CLOSED if nothing_to_deliver else S.AWAITING_FULFILMENT

    @fsm.transition(field=state, source=S.PENDING_APPROVAL, target=S.UNDER_REVIEW)
    def reject_ruling(self) -> None:
        pass

    @fsm.transition(
        field=state,
        source=S.AWAITING_FULFILMENT,
        target=fsm.RETURN_VALUE(S.AWAITING_FULFILMENT, S.CLOSED),
    )
    def fulfil(self, *, all_delivered: bool) -> str:
        """A delivery is recorded; the last one closes the dispute."""
        return S.CLOSED if all_delivered else S.AWAITING_FULFILMENT

    @fsm.transition(
        field=state,
        source=S.AWAITING_FULFILMENT,
        target=fsm.RETURN_VALUE(S.AWAITING_FULFILMENT, S.ESCALATED),
    )
    def acknowledge_return(self, *, as_expected: bool) -> str:
        """The shop has the returned item and the refund may follow; an item that is not
        as expected goes to the platform at once."""
        return S.AWAITING_FULFILMENT if as_expected else S.ESCALATED

    @fsm.transition(field=state, source=S.AWAITING_FULFILMENT, target=S.CLOSED)
    def confirm_received(self) -> None:
        pass

    @fsm.transition(field=state, source=S.AWAITING_FULFILMENT, target=S.CLOSED)
    def complete(self) -> None:
        """Delivered already: the replacement's delivery window passed (system), or a new
        ruling after an appeal is covered by what was delivered before."""

    @fsm.transition(field=state, source=[S.AWAITING_FULFILMENT, S.CLOSED], target=S.ESCALATED)
    def appeal(self) -> None:
        pass


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING_APPROVAL = "pending_approval", "Waiting for the shop owner"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class Offer(models.Model):
    """A remedy proposed by the seller, or a buyer's counter-request."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="offers")
    side = models.CharField(max_length=10, choices=Party.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=Remedy.choices)
    amount = models.PositiveBigIntegerField(default=0)
    note = models.TextField(blank=True)
    fulfilment_days = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    # An agent's acceptance of the buyer's request beyond their limit, waiting for the
    # owner: approved, it is the agreement itself (the buyer asked for it).
    accepts_request = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.side} {self.kind} {self.amount} ({self.status})"


class RulingStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Ruling(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="rulings")
    kind = models.CharField(max_length=30, choices=Remedy.choices)
    amount = models.PositiveBigIntegerField(default=0)
    # What the remedy is worth against authority limits (minor units): the amount of a
    # money remedy, the order value of the items concerned for a replacement.
    value = models.PositiveBigIntegerField(default=0)
    funded_by = models.CharField(max_length=10, choices=Funder.choices, default=Funder.SELLER)
    rationale = models.TextField()
    status = models.CharField(max_length=20, choices=RulingStatus.choices)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rulings_proposed"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rulings_approved",
    )
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Ruling {self.kind} {self.amount} ({self.status})"


class Message(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="messages")
    # Looked up through the (author, created_at) index below: no index of its own.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    author_role = models.CharField(max_length=20)
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="Mediator-only note")
    reported = models.BooleanField(default=False)
    report_reason = models.TextField(blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # MESSAGE_RATE_PER_MINUTE: a writer's messages of the last minute, a few rows
            # whatever the writer's history.
            models.Index(fields=["author", "created_at"], name="message_author_recent"),
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk} on dispute {self.dispute_id}"


class FulfilmentKind(models.TextChoices):
    REFUND = "refund", "Refund"
    REPLACEMENT_SHIPMENT = "replacement_shipment", "Replacement shipment"
    RETURN_LABEL = "return_label", "Return label"
    RETURN_SHIPMENT = "return_shipment", "Return shipment"
    STORE_CREDIT = "store_credit", "Store credit"


class Fulfilment(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="fulfilments")
    kind = models.CharField(max_length=30, choices=FulfilmentKind.choices)
    amount = models.PositiveBigIntegerField(default=0)
    reference = models.CharField(max_length=200, blank=True, help_text="Refund id or credit code")
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        # The console's search by tracking number (a replacement's, a return's).
        indexes = [models.Index(fields=["tracking_number"], name="fulfilment_tracking")]

    def __str__(self) -> str:
        return f"{self.kind} for dispute {self.dispute_id}"


class Visibility(models.TextChoices):
    ALL = "all", "Parties and mediators"
    MEDIATORS = "mediators", "Mediators only"


class AuditEntry(models.Model):
    """One append-only, hash-chained record per action on a dispute (DESIGN §8)."""

    # Looked up through the (dispute, seq) unique index: no index of its own.
    dispute = models.ForeignKey(
        Dispute, on_delete=models.PROTECT, related_name="audit_entries", db_index=False
    )
    seq = models.PositiveIntegerField()
    # No database constraint: entries are never updated (a trigger refuses it on
    # PostgreSQL), so deleting a user leaves the id and the copied name below.
    actor = actor_reference()
    # Copied so the entry stays readable after the user is renamed or deleted.
    actor_display = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=20)
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    payload = models.JSONField(default=dict)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default="all")
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    # The id of the key ``hash`` is an HMAC under (AUDIT_HMAC_KEY_ID); empty for the plain
    # SHA-256 of the entries written before the chain was keyed. The key itself is never
    # stored in the database.
    key_id = models.CharField(max_length=32, blank=True, default="", db_default="")

    class Meta:
        ordering = ["dispute_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["dispute", "seq"], name="audit_seq_unique")]
        indexes = [
            # The dashboard's SLA breaches per week: a few rows of millions.
            models.Index(
                fields=["created_at"],
                condition=Q(action="sla_breached"),
                name="audit_sla_breached",
            )
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} on dispute {self.dispute_id}"


class AuditCheckpoint(models.Model):
    """The record of a signed checkpoint of audit heads written outside the database.

    The document in the ``audit_anchors`` storage is what counts (``verify_audit`` reads it);
    this row only tells the next checkpoint its number, the digest it chains to, and the
    storage name, without listing the storage.
    """

    number = models.PositiveBigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    # SHA-256 of the stored document, which the next checkpoint's ``previous`` repeats.
    digest = models.CharField(max_length=64)
    heads = models.PositiveIntegerField()
    # The highest dispute id whose chain may hold unkeyed (legacy) entries: fixed by the
    # first checkpoint, repeated by every later one.
    legacy_until = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"audit checkpoint {self.number}"


class OutboxEvent(models.Model):
    """An event of a dispute, written in the transaction of the change it reports (DESIGN §6).

    The relay reads committed rows after the fact and hands them to the consumers (email,
    webhooks), which are idempotent by event id, so a crash between delivery and marking the
    row only causes a harmless redelivery. A rolled-back change leaves no event.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="+")
    audit_seq = models.PositiveIntegerField()
    type = models.CharField(max_length=60)
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    # The party-visible facts of the change; internal events reach mediators only.
    payload = models.JSONField(default=dict)
    # The dispute as its consumers show it, taken in the change's transaction (the webhooks:
    # the body each endpoint's viewer gets, by viewer); empty when no one was subscribed.
    snapshot = models.JSONField(default=dict, blank=True)
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    relayed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "dispute_id", "audit_seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "audit_seq", "type"], name="outbox_event_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(relayed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} on dispute {self.dispute_id} (#{self.audit_seq})"


class DeadlinePolicy(models.Model):
    """How long each state gives its party (DESIGN §4 deadline column, §6 reminders).

    The row with a blank ``reason`` is the state's default; a row with a reason overrides it
    for disputes raised for that reason. A blank duration falls back to the state's default
    row, then to the ``DEADLINE_*`` / ``REMINDER_*`` settings, so a fresh installation
    behaves as configured until someone edits the table.
    """

    state = models.CharField(max_length=30, choices=State.choices)
    reason = models.CharField(
        max_length=40, choices=Reason.choices, blank=True, help_text="Blank: every reason."
    )
    duration = models.DurationField(
        null=True,
        blank=True,
        help_text="Time from entering the state to its deadline (respond_by). "
        "Blank: the default (DEADLINE_* settings).",
    )
    remind_before = models.DurationField(
        null=True,
        blank=True,
        help_text="Remind the party this long before the deadline; 0 for no reminder. "
        "Blank: the default (REMINDER_* settings).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["state", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["state", "reason"], name="deadline_policy_unique"),
            models.CheckConstraint(condition=~Q(state="closed"), name="deadline_policy_open_state"),
        ]
        verbose_name_plural = "deadline policies"

    def __str__(self) -> str:
        return f"{self.state} ({self.reason or 'every reason'})"


class AssignmentPolicy(models.Model):
    """How newly escalated cases find a mediator: one row for the marketplace, edited in the
    console (*Assignment policy*) by whoever holds its permissions; no deploy needed.

    With ``auto_assign`` on, a case that enters the platform's queue is given, by the system,
    to the eligible active mediator holding the fewest open cases (``workflows.assignment``).
    Without the row, or with it off, cases wait in the queue for a mediator to take them.
    """

    auto_assign = models.BooleanField(
        default=False,
        help_text="Give each newly escalated case to the eligible active mediator with the "
        "fewest open cases (tier, authority and conflicts of interest respected).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "assignment policy"
        verbose_name_plural = "assignment policy"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="assignment_policy_single_row"),
        ]

    def __str__(self) -> str:
        return "Automatic assignment " + ("on" if self.auto_assign else "off")


class FeedbackReason(models.TextChoices):
    """Why a party rated the handling low (1 or 2), for the follow-up."""

    TOO_SLOW = "too_slow", "It took too long"
    UNFAIR_OUTCOME = "unfair_outcome", "The outcome was unfair"
    POOR_COMMUNICATION = "poor_communication", "Poor communication"
    NOT_RESOLVED = "not_resolved", "The problem is not resolved"
    OTHER = "other", "Something else"


LOW_RATING = 2  # ratings at or below this are followed up (a reason may be given)


class Feedback(models.Model):
    """Each party rates how a closed dispute was handled, once."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="feedback")
    party = models.CharField(max_length=10, choices=Party.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    # With a low rating only: why (FeedbackReason), for the follow-up.
    reason = models.CharField(max_length=30, choices=FeedbackReason.choices, blank=True)
    # What was rated, as it stood when the rating was given (an appeal may change the
    # dispute later): its outcome and the mediator who held the case (none when the
    # parties settled it alone). The ratings' breakdowns count these.
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The dashboard's low ratings to follow up, newest first: a few rows.
            models.Index(
                fields=["-created_at"], condition=Q(rating__lte=2), name="feedback_low_recent"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "party"], name="feedback_once_per_party"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party} rated dispute {self.dispute_id}: {self.rating}"


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", "Photo"
    RECEIPT = "receipt", "Receipt"
    TRACKING = "tracking", "Tracking"
    CORRESPONDENCE = "correspondence", "Correspondence"
    OTHER = "other", "Other"


def evidence_path(instance: Evidence, filename: str) -> str:
    """A random storage name: the client's file name never reaches the storage."""
    return f"evidence/{instance.dispute_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """One uploaded file (DESIGN §7): immutable once stored; its uploader may withdraw it."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploader_role = models.CharField(max_length=20)
    # "buyer" or "seller" for the parties (quotas are per party); blank for mediators.
    party = models.CharField(max_length=10, choices=Party.choices, blank=True)
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices, default="other")
    description = models.TextField(blank=True)
    file = models.FileField(upload_to=evidence_path, max_length=255)
    file_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # An image's pixel dimensions as its header gave them at upload (workflows.images);
    # null for other types and for images stored before they were recorded.
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    internal = models.BooleanField(default=False)
    withdrawn = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dispute_id", "id"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return f"{self.file_name} on dispute {self.dispute_id}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Notification(models.Model):
    """One email about one outbox event to one person (DESIGN §6): at most one per pair.

    The relay's consumer (``notifications.emails``) writes the row, with the message
    rendered, as ``pending`` in the relay's transaction; a re-relay of the event finds it
    and adds nothing. The sender (``notifications.sender``) claims due rows in a committed
    step (``sending``, leased until ``next_attempt_at``), talks to the mail server outside
    any transaction and records ``sent``, a retry (``pending`` again, with the error and a
    later ``next_attempt_at``) or ``failed`` for good. Every attempt carries the row's
    ``message_id``. ``skipped`` rows say why nothing was sent (opted out, no address).
    """

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    party = models.CharField(max_length=10, choices=Party.choices)
    email = models.EmailField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=NotificationStatus.choices)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The Message-ID header of every attempt: a resend after a crash is the same message.
    message_id = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # When the sender may take the row: the next try of a pending one, the end of the lease
    # of one being sent; None once it is sent, skipped or failed for good.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="notification_once_per_user")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=models.Q(next_attempt_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.email or self.user_id} ({self.status})"


class NotificationPreference(models.Model):
    """What a person chose to hear by email. Rulings, agreements, escalations, closures and
    a mediator's questions are always sent; only reminders and routine updates can be
    turned off. No row means the defaults (everything on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    reminders = models.BooleanField(
        default=True, help_text="Reminders before your deadline to answer."
    )
    updates = models.BooleanField(
        default=True,
        help_text="Routine steps: a dispute raised, offers, counter-offers, replies, deliveries.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"


# --- Rollups: the dashboard's figures kept as they change (mediation.rollups) ---------------
#
# Written in the transaction of every change they count, by mediation.rollups; rebuilt from
# the disputes, orders and fulfilments by ``manage.py rebuild_rollups`` after data was
# written around the services (a bulk import, a restore). ``day`` is the date the dispute
# was created, in TIME_ZONE.


class Span(models.TextChoices):
    """The period a dated rollup row covers: the day ``day``, or the calendar month that
    starts on ``day`` (the sum of its days' rows, kept beside them, so a long window reads
    a row a month rather than a row a day)."""

    DAY = "d", "Day"
    MONTH = "m", "Month"


def _span_field() -> models.CharField[str, str]:
    return models.CharField(max_length=1, choices=Span.choices, default=Span.DAY)


class DisputeDayCount(models.Model):
    """How many disputes created on ``day`` are, right now, in this combination of the
    columns the dashboard's counts depend on."""

    span = _span_field()
    day = models.DateField()
    state = models.CharField(max_length=30)
    reason = models.CharField(max_length=40)
    outcome = models.CharField(max_length=20, blank=True)
    escalation_reason = models.CharField(max_length=30, blank=True)
    ruled = models.BooleanField()  # ruled_at is set
    breached = models.BooleanField()  # overdue_flagged_for is set
    timed = models.BooleanField()  # closed_at is set
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "span",
                    "day",
                    "state",
                    "reason",
                    "outcome",
                    "escalation_reason",
                    "ruled",
                    "breached",
                    "timed",
                ],
                name="dispute_day_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.state} {self.reason}: {self.n}"


class OpenedDayCount(models.Model):
    """Disputes created on ``day``: the weekly series of disputes opened, a row a day
    (``DisputeDayCount`` has a row per day and combination)."""

    day = models.DateField(unique=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.n} opened"


class ResolutionDayCount(models.Model):
    """Closed disputes created on ``day`` whose time to resolution (``closed_at -
    created_at``) falls in ``bucket``: a histogram in steps of 1 % (mediation.rollups)."""

    span = _span_field()
    day = models.DateField()
    bucket = models.IntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "day", "bucket"], name="resolution_day_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} bucket {self.bucket}: {self.n}"


class RefundDayTotal(models.Model):
    """Refunds recorded for disputes created on ``day``, per currency and the dispute's
    funder when the refund was recorded."""

    span = _span_field()
    day = models.DateField()
    currency = models.CharField(max_length=3)
    funded_by = models.CharField(max_length=10, blank=True)
    amount = models.BigIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "day", "currency", "funded_by"], name="refund_day_total_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency} {self.funded_by}: {self.amount}"


class FeedbackDayCount(models.Model):
    """Ratings given on disputes created on ``day``, per party, rating, reason, the outcome
    rated and the mediator who held the case (``mediator_id`` 0: none)."""

    span = _span_field()
    day = models.DateField()
    party = models.CharField(max_length=10)
    rating = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=30, default="")
    outcome = models.CharField(max_length=20, default="")
    mediator_id = models.BigIntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "day", "party", "rating", "reason", "outcome", "mediator_id"],
                name="feedback_day_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.party} rated {self.rating}: {self.n}"


class ShopCount(models.Model):
    """A shop's disputes, disputed orders, rulings, rulings against it, decided and won
    (by the buyer) disputes, orders, and the ratings of its cases (how many, their sum,
    how many low), ever (the per-shop tables, the party history)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, primary_key=True)
    disputes = models.BigIntegerField(default=0)
    disputed_orders = models.BigIntegerField(default=0)
    ruled = models.BigIntegerField(default=0)
    ruled_against = models.BigIntegerField(default=0)
    decided = models.BigIntegerField(default=0)
    won = models.BigIntegerField(default=0)
    orders = models.BigIntegerField(default=0)
    ratings = models.BigIntegerField(default=0)
    rating_sum = models.BigIntegerField(default=0)
    low_ratings = models.BigIntegerField(default=0)
    # Computed by the database from the counts, so the two rankings read their first rows
    # from an index rather than sort every shop: disputes per order (-1 without orders,
    # ranked last on every database) and the average rating (NULL without ratings).
    dispute_rate = models.GeneratedField(
        expression=Coalesce(
            Cast("disputes", models.FloatField())
            / NullIf(Cast("orders", models.FloatField()), Value(0.0)),
            Value(-1.0),
        ),
        output_field=models.FloatField(),
        db_persist=True,
    )
    average_rating = models.GeneratedField(
        expression=Cast("rating_sum", models.FloatField())
        / NullIf(Cast("ratings", models.FloatField()), Value(0.0)),
        output_field=models.FloatField(null=True),
        db_persist=True,
    )

    class Meta:
        indexes = [
            # The per-shop table: the highest dispute rate first.
            models.Index(
                F("dispute_rate").desc(),
                F("disputes").desc(),
                F("shop_id"),
                condition=Q(disputes__gt=0),
                name="shop_count_rate_rank",
            ),
            # The shops whose cases were rated lowest: most low ratings, lowest average.
            models.Index(
                F("low_ratings").desc(),
                F("average_rating"),
                F("ratings").desc(),
                F("shop_id"),
                condition=Q(ratings__gt=0),
                name="shop_count_rating_rank",
            ),
        ]

    def __str__(self) -> str:
        return f"shop {self.shop_id}: {self.disputes} disputes, {self.orders} orders"
