"""Read queries, scoped to what the caller may see before any lookup by id."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.utils import timezone

from mediation.actors import SystemActor, is_integration, mediator_profile, with_membership
from mediation.models import (
    DEADLINE_STATES,
    AuditEntry,
    Dispute,
    Message,
    Offer,
    Order,
    Ruling,
    ShopMember,
    State,
)


def sees_every_dispute(user: Any) -> bool:
    return (
        isinstance(user, SystemActor) or mediator_profile(user) is not None or is_integration(user)
    )


def disputes_for(user: Any) -> QuerySet[Dispute]:
    """Disputes the user may see: as buyer, as a member of the shop, or as platform staff."""
    qs: QuerySet[Dispute] = Dispute.objects.select_related(
        "order", "shop", "buyer", "assigned_to", "policy_version"
    ).annotate(
        # For the appeal guard: a closed dispute cannot reopen while another is open.
        has_other_open_dispute=Exists(
            Dispute.objects.filter(order_id=OuterRef("order_id"))
            .exclude(pk=OuterRef("pk"))
            .exclude(state=State.CLOSED)
        )
    )
    if isinstance(user, SystemActor):
        return qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    qs = with_membership(qs, user)
    if sees_every_dispute(user):
        return qs
    return qs.filter(Q(buyer_id=user.pk) | Q(viewer_member_id__isnull=False))


def offers_prefetch() -> Prefetch:
    """A dispute's offers, with who made and who approved each."""
    return Prefetch("offers", queryset=Offer.objects.select_related("author", "approved_by"))


def rulings_prefetch() -> Prefetch:
    """A dispute's rulings, with who proposed and approved each and their tiers (appeals
    go to the tier above them)."""
    return Prefetch(
        "rulings",
        queryset=Ruling.objects.select_related(
            "proposer__mediator_profile", "approver__mediator_profile"
        ),
    )


def detail_prefetches() -> list[Prefetch]:
    """What a dispute's representation shows besides the row: its offers and rulings."""
    return [offers_prefetch(), rulings_prefetch()]


def dispute_detail_queryset(user: Any) -> QuerySet[Dispute]:
    return disputes_for(user).prefetch_related(*detail_prefetches())


def with_detail(dispute: Dispute) -> Dispute:
    """(Re)load the offers and rulings of a dispute row the caller holds fresh (the row a
    use case locked and saved), as :func:`dispute_detail_queryset` loads them."""
    dispute._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    prefetch_related_objects([dispute], *detail_prefetches())
    return dispute


def overdue_filter(now: Any = None) -> Q:
    """:meth:`Dispute.is_overdue` as a query."""
    return Q(state__in=sorted(DEADLINE_STATES), respond_by__lt=now or timezone.now())


def orders_for(user: Any) -> QuerySet[Order]:
    """Orders the user bought, or that were placed with a shop they belong to."""
    qs = Order.objects.select_related("shop", "buyer")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if mediator_profile(user) is not None or is_integration(user):
        return qs
    in_shop = ShopMember.objects.filter(shop_id=OuterRef("shop_id"), user_id=user.pk)
    return qs.filter(Q(buyer_id=user.pk) | Exists(in_shop))


def messages_for(dispute: Dispute, *, include_internal: bool) -> QuerySet[Message]:
    qs = Message.objects.filter(dispute=dispute).select_related("author")
    return qs if include_internal else qs.filter(internal=False)


def audit_entries(dispute: Dispute) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(dispute_id=dispute.pk).order_by("seq"))
