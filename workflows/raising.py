"""A buyer raises a dispute on their order (DESIGN §4 ``raise``)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from mediation import rollups
from mediation.actors import Actor, Roles
from mediation.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from mediation.models import (
    PARTY_REMEDIES,
    Dispute,
    OrderItem,
    Reason,
    ShopPolicy,
    State,
)
from mediation.selectors import orders_for
from workflows import events
from workflows.base import (
    Context,
    Result,
    deadline_for,
)
from workflows.rules import (
    MONEY_REMEDIES,
    check_amount,
    default_amount,
    nothing_refundable,
)
from workflows.shop_policies import policy_record

S = State


def raise_dispute(
    *,
    actor: Actor,
    order_id: int,
    reason: str,
    requested_outcome: str,
    description: str,
    requested_amount: int | None = None,
    item_ids: list[int] | None = None,
) -> Result:
    """The buyer opens a dispute on their order (DESIGN §4 ``raise``)."""
    if reason not in Reason.values:
        raise InvalidInput(f"Unknown reason {reason!r}.", field="reason")
    if requested_outcome not in PARTY_REMEDIES:
        raise InvalidInput(f"Unknown outcome {requested_outcome!r}.", field="requested_outcome")
    now = timezone.now()
    with transaction.atomic():
        order = (
            orders_for(actor).select_for_update(of=("self",)).filter(pk=order_id).first()
            if getattr(actor, "is_authenticated", False)
            else None
        )
        if order is None or order.buyer_id != actor.pk:
            raise NotFound("You have no order with this id.", code="not_found")
        window = settings.MEDIATION_DISPUTE_WINDOW
        if now > order.placed_at + window:
            raise RuleViolation(
                f"Orders can be disputed for {window.days} days after they are placed; this one "
                f"was placed on {order.placed_at:%Y-%m-%d}.",
                code="deadline_passed",
            )
        earlier = Dispute.objects.filter(order=order).aggregate(
            any=Count("pk"), open=Count("pk", filter=~Q(state=S.CLOSED))
        )
        if earlier["open"]:
            raise Conflict("This order already has an open dispute.", code="dispute_already_open")
        items = []
        if item_ids:
            items = list(OrderItem.objects.filter(order=order, pk__in=item_ids))
            if len(items) != len(set(item_ids)):
                raise RuleViolation("Some items are not part of this order.", field="items")
        policy = (
            ShopPolicy.objects.filter(shop_id=order.shop_id, effective_from__lte=order.placed_at)
            .order_by("-version")
            .first()
        )
        dispute = Dispute(
            order=order,
            buyer_id=order.buyer_id,
            shop_id=order.shop_id,
            reason=reason,
            requested_outcome=requested_outcome,
            description=description,
            policy_version=policy,
        )
        if requested_outcome in MONEY_REMEDIES and order.refundable <= 0:
            raise nothing_refundable(dispute)
        dispute.requested_amount = default_amount(dispute, requested_outcome, requested_amount)
        check_amount(dispute, requested_outcome, dispute.requested_amount)
        dispute.respond_by = deadline_for(S.AWAITING_SELLER, now, reason=reason)
        try:
            with transaction.atomic():
                dispute.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                "This order already has an open dispute.", code="dispute_already_open"
            ) from None
        if items:
            dispute.items.set(items)
        roles = Roles(buyer=True)
        ctx = Context(dispute=dispute, actor=actor, roles=roles, now=now, from_state="")
        ctx.record(
            "raise",
            {
                "order": order.external_id,
                "reason": reason,
                "requested_outcome": requested_outcome,
                "requested_amount": dispute.requested_amount,
                "currency": order.currency,
                "description": description,
                "items": [i.pk for i in items],
                # The text in force when the order was placed, by version and hash.
                **policy_record(policy),
            },
        )
        dispute.save(update_fields=["audit_seq", "audit_head"])
        events.emit(ctx.audit_entries)
        rollups.disputes_changed([(None, dispute.__dict__)], first_on_order=not earlier["any"])
    return Result(dispute)
