"""Read queries, scoped to what the caller may see before any lookup by id."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.utils import timezone

from mediation.actors import SystemActor, is_integration, mediator_profile
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


def with_membership(qs: QuerySet[Dispute], user: Any) -> QuerySet[Dispute]:
    """Annotate the caller's membership of the dispute's shop, so that roles need no query."""
    member = ShopMember.objects.filter(shop_id=OuterRef("shop_id"), user_id=user.pk)
    return qs.annotate(
        _member_id=Subquery(member.values("id")[:1]),
        _member_role=Subquery(member.values("role")[:1]),
        _member_limit=Subquery(member.values("offer_limit")[:1]),
        _member_limit_currency=Subquery(member.values("offer_limit_currency")[:1]),
    )


def attach_membership(dispute: Dispute, user: Any) -> Dispute:
    """Turn the annotations of :func:`with_membership` into ``dispute._member``."""
    member_id = getattr(dispute, "_member_id", None)
    dispute._member = (  # type: ignore[attr-defined]
        ShopMember(
            id=member_id,
            shop_id=dispute.shop_id,
            user_id=user.pk,
            role=dispute._member_role,  # type: ignore[attr-defined]
            offer_limit=dispute._member_limit,  # type: ignore[attr-defined]
            offer_limit_currency=dispute._member_limit_currency,  # type: ignore[attr-defined]
        )
        if member_id is not None
        else None
    )
    return dispute


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
        _other_open=Exists(
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
    return qs.filter(Q(buyer_id=user.pk) | Q(_member_id__isnull=False))


def _detail_prefetches() -> list[Prefetch]:
    return [
        Prefetch("offers", queryset=Offer.objects.select_related("author", "approved_by")),
        Prefetch(
            "rulings",
            queryset=Ruling.objects.select_related(
                "proposer__mediator_profile", "approver__mediator_profile"
            ),
        ),
    ]


def dispute_detail_queryset(user: Any) -> QuerySet[Dispute]:
    return disputes_for(user).prefetch_related(*_detail_prefetches())


def with_detail(dispute: Dispute) -> Dispute:
    """(Re)load the offers and rulings of a dispute row the caller holds fresh (the row a
    use case locked and saved), as :func:`dispute_detail_queryset` loads them."""
    dispute._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    prefetch_related_objects([dispute], *_detail_prefetches())
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
