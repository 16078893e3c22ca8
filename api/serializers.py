"""Input and output serializers. Inputs list their writable fields explicitly; nothing a
client sends can set a state, an actor or a refunded amount."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mediation.models import (
    PARTY_ESCALATION_CHOICES,
    PARTY_REMEDY_CHOICES,
    AuditEntry,
    Dispute,
    Evidence,
    EvidenceKind,
    Feedback,
    FeedbackReason,
    FulfilmentKind,
    Funder,
    Message,
    Offer,
    Order,
    OrderItem,
    Party,
    Reason,
    Remedy,
    ReturnResult,
    Ruling,
    Shop,
    ShopPolicy,
    ShopRole,
)
from mediation.money import CURRENCY_CHOICES
from mediation.party_history import Rates, party_history, thresholds
from workflows import conversation, visibility
from workflows.transitions import CHECKS, allowed_actions

AMOUNT_HELP = "Integer amount in minor units of the order's currency (3000 = 30.00 USD)."


def _username() -> serializers.SlugRelatedField[Any]:
    return serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="The user's username"
    )


def _slug() -> serializers.SlugRelatedField[Any]:
    return serializers.SlugRelatedField(slug_field="slug", read_only=True)


# --- Output ---------------------------------------------------------------------------------


# What each output serializer class's fields are built from (its field class, arguments and
# keyword arguments), worked out once per class: see ReadModelSerializer.get_fields.
_FIELD_RECIPES: dict[type, dict[str, Any]] = {}


def _holds_a_field(field: Any) -> bool:
    """A list serializer, or a field given another field (``child=``): constructed from a
    deep copy, since the field it holds is bound to its first parent."""
    values = [*field._args, *field._kwargs.values()]
    return isinstance(field, serializers.ListSerializer) or any(
        isinstance(v, serializers.Field) for v in values
    )


class ReadModelSerializer(serializers.ModelSerializer):
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields."""

    # ModelSerializer works its fields out of the model's metadata for every instance (a
    # dispute's response builds five serializers, a page of disputes two per row for the
    # offers and rulings): here that is done once per class, and each instance constructs
    # its fields from the recipe (the way DRF copies a declared field, without the metadata
    # walk; a field holding another, a list serializer's child or a list field's, is
    # deep-copied, so no two instances share it).
    def get_fields(self) -> dict[str, serializers.Field]:
        recipes = _FIELD_RECIPES.get(type(self))
        if recipes is None:
            recipes = _FIELD_RECIPES[type(self)] = {
                name: field if _holds_a_field(field) else (type(field), field._args, field._kwargs)
                for name, field in self._model_fields().items()  # type: ignore[attr-defined]
            }
        fields: dict[str, serializers.Field] = {}
        for name, recipe in recipes.items():
            if isinstance(recipe, tuple):
                cls, args, kwargs = recipe
                fields[name] = cls(*args, **kwargs)
            else:
                fields[name] = copy.deepcopy(recipe)
        return fields

    def _model_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()
        model: Any = self.Meta.model
        opts = model._meta
        for name, field in fields.items():
            source = field.source or name
            if "." in source or source == "*":
                continue
            try:
                column = opts.get_field(source)
            except FieldDoesNotExist:
                continue
            # In the keyword arguments too, which the recipe constructs the field from.
            kwargs = field._kwargs
            if getattr(column, "null", False):
                field.allow_null = kwargs["allow_null"] = True
            if getattr(column, "blank", False) and isinstance(field, serializers.ChoiceField):
                field.allow_blank = kwargs["allow_blank"] = True
        return fields


class OrderItemSerializer(ReadModelSerializer):
    # Declared, so the schema does not depend on the database's integer range.
    quantity = serializers.IntegerField(read_only=True, min_value=1)

    class Meta:
        model = OrderItem
        fields = ["id", "sku", "title", "quantity", "unit_price"]
        read_only_fields = fields


class OrderSerializer(ReadModelSerializer):
    shop = _slug()
    buyer = _username()
    refundable = serializers.IntegerField(
        read_only=True, help_text="total + shipping - refunded_total"
    )
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "shop",
            "buyer",
            "currency",
            "total",
            "shipping",
            "refunded_total",
            "refundable",
            "placed_at",
            "shipped_at",
            "carrier",
            "tracking_number",
            "delivered_at",
            "items",
        ]
        read_only_fields = fields


class OrderSummarySerializer(ReadModelSerializer):
    refundable = serializers.IntegerField(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "currency",
            "total",
            "shipping",
            "refunded_total",
            "refundable",
            "placed_at",
        ]
        read_only_fields = fields


class OfferSerializer(ReadModelSerializer):
    author = _username()
    approved_by = _username()

    class Meta:
        model = Offer
        fields = [
            "id",
            "side",
            "author",
            "kind",
            "amount",
            "note",
            "fulfilment_days",
            "status",
            "approved_by",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class RulingSerializer(ReadModelSerializer):
    proposer = _username()
    approver = _username()

    class Meta:
        model = Ruling
        fields = [
            "id",
            "kind",
            "amount",
            "value",
            "funded_by",
            "rationale",
            "status",
            "proposer",
            "approver",
            "decision_note",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class ShopRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


def shop_ref(shop: Shop) -> dict[str, Any]:
    """A shop as :class:`ShopRefSerializer` shows it."""
    return {"id": shop.pk, "slug": shop.slug, "name": shop.name}


class AgreementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Remedy.choices)
    amount = serializers.IntegerField(help_text=AMOUNT_HELP)
    funded_by = serializers.ChoiceField(choices=Funder.choices)
    delivered_amount = serializers.IntegerField()
    replacement_shipped = serializers.BooleanField()
    return_shipped = serializers.BooleanField()
    return_acknowledged = serializers.BooleanField()
    return_result = serializers.ChoiceField(
        choices=ReturnResult.choices,
        allow_blank=True,
        help_text="What the shop found in the returned item; blank until it says.",
    )


class PolicyRefSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    effective_from = serializers.DateTimeField()
    text = serializers.CharField()


class ShopPolicySerializer(ReadModelSerializer):
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the text, hex")

    class Meta:
        model = ShopPolicy
        fields = ["version", "text", "effective_from", "sha256"]
        read_only_fields = fields


class ShopPolicyInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, trim_whitespace=True)
    effective_from = serializers.DateTimeField(
        required=False, help_text="Now by default; never earlier than now or the last version"
    )


class PartyRatesSerializer(serializers.Serializer):
    orders = serializers.IntegerField()
    disputed_orders = serializers.IntegerField()
    disputes = serializers.IntegerField()
    decided = serializers.IntegerField()
    won = serializers.IntegerField(help_text="Decided disputes the buyer won (ruled or agreed)")
    dispute_rate = serializers.FloatField(allow_null=True)
    win_rate = serializers.FloatField(allow_null=True)


class PartyHistorySerializer(serializers.Serializer):
    buyer = PartyRatesSerializer()
    shop = PartyRatesSerializer()
    marketplace = PartyRatesSerializer()
    buyer_flags = serializers.ListField(
        child=serializers.CharField(), help_text="Why the buyer is a possible serial claimant"
    )
    shop_flags = serializers.ListField(
        child=serializers.CharField(), help_text="Why the shop is a possible problem seller"
    )
    thresholds = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField()),
        help_text="The settings the flags are computed with (SERIAL_CLAIMANT_*, PROBLEM_SELLER_*)",
    )


def _rates(rates: Rates) -> dict[str, Any]:
    return {
        **{f.name: getattr(rates, f.name) for f in dataclass_fields(rates)},
        "dispute_rate": rates.dispute_rate,
        "win_rate": rates.win_rate,
    }


def _viewer(context: Mapping[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


class DisputeSerializer(ReadModelSerializer):
    order = OrderSummarySerializer(read_only=True)
    shop = serializers.SerializerMethodField()
    buyer = _username()
    assigned_to = _username()
    currency = serializers.CharField(source="order.currency", read_only=True)
    overdue = serializers.SerializerMethodField()
    agreement = serializers.SerializerMethodField()
    policy_version = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    offers = serializers.SerializerMethodField()
    rulings = serializers.SerializerMethodField()
    party_history = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id",
            "order",
            "shop",
            "buyer",
            "reason",
            "requested_outcome",
            "requested_amount",
            "currency",
            "description",
            "state",
            "outcome",
            "respond_by",
            "overdue",
            "escalation_reason",
            "conduct_reported_at",
            "assigned_to",
            "required_tier",
            "info_requested_from",
            "counter_rounds",
            "appealed",
            "agreement",
            "policy_version",
            "version",
            "created_at",
            "updated_at",
            "closed_at",
            "allowed_actions",
            "offers",
            "rulings",
            "party_history",
        ]
        read_only_fields = fields

    @extend_schema_field(PartyHistorySerializer(allow_null=True))
    def get_party_history(self, obj: Dispute) -> dict[str, Any] | None:
        """For mediators, on ``GET /disputes/{id}/`` (``with_history`` in the context): the
        figures and flags of the console's party history; null otherwise."""
        if not self.context.get("with_history"):
            return None
        if not visibility.sees_internal(_viewer(self.context)):
            return None
        history = party_history(obj, limit=0)
        return {
            "buyer": _rates(history.buyer),
            "shop": _rates(history.shop),
            "marketplace": _rates(history.marketplace),
            "buyer_flags": history.buyer_flags,
            "shop_flags": history.shop_flags,
            "thresholds": thresholds(),
        }

    @extend_schema_field(ShopRefSerializer)
    def get_shop(self, obj: Dispute) -> dict[str, Any]:
        return shop_ref(obj.shop)

    def get_overdue(self, obj: Dispute) -> bool:
        return obj.is_overdue()

    @extend_schema_field(AgreementSerializer(allow_null=True))
    def get_agreement(self, obj: Dispute) -> dict[str, Any] | None:
        if not obj.agreed_kind:
            return None
        return {
            "kind": obj.agreed_kind,
            "amount": obj.agreed_amount,
            "funded_by": obj.funded_by,
            "delivered_amount": obj.delivered_amount,
            "replacement_shipped": obj.replacement_shipped,
            "return_shipped": obj.return_shipped,
            "return_acknowledged": obj.return_acknowledged,
            "return_result": obj.return_result,
        }

    @extend_schema_field(PolicyRefSerializer(allow_null=True))
    def get_policy_version(self, obj: Dispute) -> dict[str, Any] | None:
        policy = obj.policy_version
        if policy is None:
            return None
        return {
            "version": policy.version,
            "effective_from": policy.effective_from,
            "text": policy.text,
        }

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(CHECKS))))
    def get_allowed_actions(self, obj: Dispute) -> list[str]:
        return allowed_actions(obj, _viewer(self.context))

    @extend_schema_field(OfferSerializer(many=True))
    def get_offers(self, obj: Dispute) -> Any:
        viewer = _viewer(self.context)
        to_buyer = getattr(viewer, "pk", None) == obj.buyer_id
        offers = visibility.visible_offers(obj, to_buyer=to_buyer)
        data = OfferSerializer(offers, many=True).data
        if viewer is not None and not visibility.sees_conversation(obj, viewer):
            for row in data:
                row["note"] = ""  # what the parties wrote to each other
        return data

    @extend_schema_field(RulingSerializer(many=True))
    def get_rulings(self, obj: Dispute) -> Any:
        staff = visibility.sees_internal(_viewer(self.context))
        rulings = visibility.visible_rulings(obj, staff=staff)
        return RulingSerializer(rulings, many=True).data


class MessageSerializer(ReadModelSerializer):
    author = _username()

    class Meta:
        model = Message
        fields = [
            "id",
            "author",
            "author_role",
            "body",
            "internal",
            "reported",
            "report_reason",
            "created_at",
        ]
        read_only_fields = fields


class AuditEntrySerializer(ReadModelSerializer):
    actor = serializers.CharField(source="actor_display", read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "seq",
            "created_at",
            "actor",
            "actor_role",
            "action",
            "from_state",
            "to_state",
            "payload",
            "visibility",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last")
    previous = serializers.URLField(allow_null=True, help_text="The page before; null on the first")
    results = AuditEntrySerializer(many=True)
    verified = serializers.BooleanField(
        help_text=(
            "The page's entries match their hashes and chain to the entry before the page "
            "(and, on the last page, to the head recorded on the dispute)"
        )
    )
    broken_at = serializers.IntegerField(allow_null=True, help_text="The first broken entry")
    problem = serializers.CharField(allow_blank=True)


class TimelineEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    actor_role = serializers.CharField()
    action = serializers.CharField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    summary = serializers.CharField()
    note = serializers.CharField(
        allow_blank=True,
        help_text=(
            "What its author wrote with the step: a note, a statement, a question, an answer, "
            "a ruling's rationale, an appeal's reason"
        ),
    )


class FeedbackSerializer(ReadModelSerializer):
    author = _username()

    class Meta:
        model = Feedback
        fields = ["id", "party", "author", "rating", "comment", "reason", "created_at"]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")
    expires_at = serializers.DateTimeField(
        help_text="When the token stops working unless used: each use moves it on "
        "(API_TOKEN_TTL_HOURS), up to API_TOKEN_MAX_TTL_DAYS after the login."
    )


class LogoutAllSerializer(serializers.Serializer):
    tokens_revoked = serializers.IntegerField()


class ApiKeySerializer(serializers.Serializer):
    """A shop's API key as its owners see it: never the key itself."""

    prefix = serializers.CharField(help_text="The key's first 8 characters, its id.")
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=ShopRole.choices)
    offer_limit = serializers.IntegerField(help_text=AMOUNT_HELP)
    offer_limit_currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        help_text="Shown this once: send it as `Authorization: Bearer <key>`."
    )


# --- Input ----------------------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128, style={"input_type": "password"}, trim_whitespace=False
    )


class ApiKeyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, help_text="Who uses the key, e.g. 'Helpdesk'.")
    role = serializers.ChoiceField(choices=ShopRole.choices, default=ShopRole.AGENT)
    offer_limit = serializers.IntegerField(
        min_value=0,
        default=0,
        help_text="For an agent's key: the largest offer it makes alone (minor units); "
        "above it the offer waits for an owner.",
    )
    offer_limit_currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, default="USD")


MAX_TEXT = 10_000
# Amounts in minor units stay far inside the database's 64-bit integers.
MAX_AMOUNT = 10**15


def _amount(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=0, max_value=MAX_AMOUNT, help_text=AMOUNT_HELP, **kwargs
    )


class OrderItemInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=300)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = _amount()


class OrderUpsertSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    buyer = serializers.CharField(
        max_length=150, help_text="The buyer's username on the marketplace"
    )
    buyer_email = serializers.EmailField(required=False, allow_blank=True, default="")
    shop = serializers.SlugField(help_text="The shop's slug")
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    total = _amount()
    shipping = _amount(default=0)
    placed_at = serializers.DateTimeField()
    items = OrderItemInputSerializer(many=True, required=False, default=list)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


def _text(**kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("default", "")
    return serializers.CharField(max_length=MAX_TEXT, **kwargs)


# Row ids are positive 64-bit integers: a larger one can name no row (and SQLite cannot
# even take it as a parameter).
MAX_ID = 2**63 - 1


def _id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class DisputeCreateSerializer(serializers.Serializer):
    order = _id(help_text="The order's id (from GET /api/v1/orders/)")
    items = serializers.ListField(child=_id(), required=False, default=list, max_length=500)
    reason = serializers.ChoiceField(choices=Reason.choices)
    requested_outcome = serializers.ChoiceField(choices=PARTY_REMEDY_CHOICES)
    requested_amount = _amount(required=False, allow_null=True, default=None)
    description = serializers.CharField(max_length=MAX_TEXT)


# --- Action inputs: one serializer per action of the registry (workflows.actions), whose
# fields are the service's keyword arguments.

ActionInput = TypeVar("ActionInput", bound=type[serializers.Serializer])
INPUTS: dict[str, type[serializers.Serializer]] = {}


def input_for(*slugs: str) -> Callable[[ActionInput], ActionInput]:
    """Register the decorated serializer as the input of the actions ``slugs``."""

    def register(cls: ActionInput) -> ActionInput:
        for slug in slugs:
            INPUTS[slug] = cls
        return cls

    return register


@input_for(
    "accept-request",
    "approve-offer",
    "reject-offer",
    "withdraw",
    "approve-ruling",
    "reject-ruling",
)
class NoteSerializer(serializers.Serializer):
    note = _text()


@input_for("acknowledge-return")
class AcknowledgeReturnSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=ReturnResult.choices,
        default=ReturnResult.AS_EXPECTED,
        help_text=(
            "What arrived. Anything but as_expected escalates the dispute at once (reason "
            "return_disputed) and needs a note."
        ),
    )
    note = _text()
    evidence = serializers.ListField(
        child=_id(),
        required=False,
        max_length=20,
        help_text="Ids of evidence you uploaded to this dispute (photos of what arrived).",
    )


@input_for("confirm-received")
class EmptySerializer(serializers.Serializer):
    pass


@input_for("offer")
class OfferInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PARTY_REMEDY_CHOICES)
    amount = _amount(required=False, allow_null=True, default=None)
    note = _text()
    fulfilment_days = serializers.IntegerField(
        min_value=1, max_value=90, required=False, allow_null=True, default=None
    )


@input_for("contest")
class ContestSerializer(serializers.Serializer):
    statement = serializers.CharField(max_length=MAX_TEXT)


@input_for("accept-offer")
class AcceptOfferSerializer(serializers.Serializer):
    # The service's offer_id: the open offer by default.
    offer = _id(source="offer_id", required=False, allow_null=True, default=None)


@input_for("counter")
class CounterSerializer(serializers.Serializer):
    requested_outcome = serializers.ChoiceField(choices=PARTY_REMEDY_CHOICES)
    requested_amount = _amount(required=False, allow_null=True, default=None)
    note = _text()


@input_for("escalate")
class EscalateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=PARTY_ESCALATION_CHOICES,
        required=False,
        allow_blank=True,
        default="",
    )
    note = _text()


@input_for("assign")
class AssignSerializer(serializers.Serializer):
    mediator = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Username; yourself by default",
    )


@input_for("request-info")
class RequestInfoSerializer(serializers.Serializer):
    party = serializers.ChoiceField(choices=Party.choices)
    question = serializers.CharField(max_length=MAX_TEXT)
    respond_by = serializers.DateTimeField(required=False, allow_null=True, default=None)


@input_for("provide-info")
class ProvideInfoSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=MAX_TEXT)


@input_for("rule")
class RuleSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Remedy.choices)
    amount = _amount(required=False, allow_null=True, default=None)
    funded_by = serializers.ChoiceField(choices=Funder.choices, default=Funder.SELLER)
    rationale = serializers.CharField(max_length=MAX_TEXT)


@input_for("fulfil")
class FulfilSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FulfilmentKind.choices)
    amount = _amount(required=False, default=0)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


@input_for("appeal")
class AppealSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_TEXT)


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=conversation.MAX_BODY)
    internal = serializers.BooleanField(required=False, default=False)


class ReportSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=conversation.MAX_REASON)


class FeedbackInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = _text()
    reason = serializers.ChoiceField(
        choices=FeedbackReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="With a rating of 1 or 2 only: why, for the platform's follow-up",
    )


# --- Evidence -------------------------------------------------------------------------------


class EvidenceSerializer(ReadModelSerializer):
    uploaded_by = serializers.CharField(source="uploader_role", read_only=True)
    size = serializers.IntegerField(read_only=True, min_value=0)

    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "description",
            "uploaded_by",
            "file_name",
            "content_type",
            "size",
            "sha256",
            "internal",
            "created_at",
            "withdrawn",
            "withdrawn_at",
        ]
        read_only_fields = fields


class EvidenceFieldsSerializer(serializers.Serializer):
    """The text fields of an upload (the view takes the streamed file as it is)."""

    description = serializers.CharField(max_length=5_000, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, required=False, default="other")
    internal = serializers.BooleanField(required=False, default=False)


class EvidenceUploadSerializer(EvidenceFieldsSerializer):
    """The multipart upload as the schema shows it."""

    file = serializers.FileField(help_text="JPEG, PNG, GIF, WebP, HEIC, PDF or UTF-8 text.")
