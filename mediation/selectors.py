"""Read queries, scoped to what the caller may see before any lookup by id."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from mediation.actors import (
    SystemActor,
    is_integration,
    mediator_profile,
    memberships_of,
    with_joined_membership,
    with_membership,
)
from mediation.models import (
    DEADLINE_STATES,
    AuditEntry,
    Dispute,
    Fulfilment,
    Message,
    Offer,
    Order,
    Ruling,
    Shop,
    ShopMember,
    State,
    Visibility,
)


def sees_every_dispute(user: Any) -> bool:
    return (
        isinstance(user, SystemActor) or mediator_profile(user) is not None or is_integration(user)
    )


def disputes_for(user: Any, *, by_id: bool = False) -> QuerySet[Dispute]:
    """Disputes the user may see: as buyer, as a member of the shop, or as platform staff.

    For a list, a party's condition is split by role, ``buyer_id = me OR shop_id IN (my
    shops)``, with the user's shops read first (:func:`~mediation.actors.memberships_of`)
    and written into the query as constants, so each side is served by its own index
    ((buyer_id, id), (shop_id, id)) at any size: a condition that looked the membership up
    per row walked the whole table for a buyer with three disputes. ``by_id``: the caller
    looks one dispute up by its id (the detail, a use case's lock), and the membership is
    joined in the same query instead (:func:`~mediation.actors.with_joined_membership`)."""
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
    if by_id:
        qs = with_joined_membership(qs, user)
        party = Q(buyer_id=user.pk) | Q(viewer_member_id__isnull=False)
    else:
        memberships = memberships_of(user)
        qs = with_membership(qs, user, memberships)
        party = _party_condition(user, memberships)
    return qs if sees_every_dispute(user) else qs.filter(party)


def _party_condition(user: Any, memberships: dict[int, Any]) -> Q:
    """``buyer_id = me``, or the shops ``user`` is a member of (constants, not a lookup)."""
    condition = Q(buyer_id=user.pk)
    if memberships:
        condition |= Q(shop_id__in=sorted(memberships))
    return condition


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


def dispute_detail_queryset(user: Any, *, by_id: bool = False) -> QuerySet[Dispute]:
    return disputes_for(user, by_id=by_id).prefetch_related(*detail_prefetches())


def with_detail(dispute: Dispute) -> Dispute:
    """(Re)load the offers and rulings of a dispute row the caller holds fresh (the row a
    use case locked and saved), as :func:`dispute_detail_queryset` loads them."""
    dispute._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    prefetch_related_objects([dispute], *detail_prefetches())
    return dispute


# At most this many orders, people or shops a search term matches are looked for.
SEARCH_MATCHES = 500
_CASE_NUMBER = re.compile(r"#?(\d{1,18})")


def search_condition(term: str) -> Q:
    """The disputes a console search for ``term`` finds: the case number (``11`` or
    ``#11``), the order's marketplace id, a tracking number (the order's, a replacement's
    or a return's), a party (the buyer's, or a shop member's, user name or email, exact,
    any case), a shop whose slug is ``term`` or whose name contains it, or the words of a
    message (every word of ``term``, whole words on PostgreSQL).

    Each kind of match is resolved to ids first (on an index, or on the small shop table),
    so the condition on disputes is an ``OR`` of indexed columns; a ``LIKE`` across the
    joined tables would read every dispute at a marketplace's size."""
    term = term.strip()
    condition = Q(pk__in=[])
    if not term:
        return condition
    number = _CASE_NUMBER.fullmatch(term)
    if number:
        condition |= Q(pk=int(number.group(1)))
    orders = Order.objects.filter(
        Q(external_id__in={term, term.upper()}) | Q(tracking_number=term)
    ).values_list("pk", flat=True)
    people = list(
        get_user_model()
        .objects.filter(Q(username=term) | Q(email__iexact=term))
        .values_list("pk", flat=True)[:SEARCH_MATCHES]
    )
    shops = Shop.objects.filter(
        Q(slug=term) | Q(name__icontains=term) | Q(pk__in=_member_shops(people))
    ).values_list("pk", flat=True)
    for field, ids in (
        ("order_id", orders),
        ("shop_id", shops),
        (
            "pk",
            Fulfilment.objects.filter(tracking_number=term).values_list("dispute_id", flat=True),
        ),
        ("pk", _message_matches(term)),
    ):
        found = list(ids.order_by()[:SEARCH_MATCHES])
        if found:
            condition |= Q(**{f"{field}__in": found})
    if people:
        condition |= Q(buyer_id__in=people)
    return condition


def _member_shops(people: list[int]) -> list[int]:
    if not people:
        return []
    return list(ShopMember.objects.filter(user_id__in=people).values_list("shop_id", flat=True))


# A message search needs a word of this many characters at least (fewer would match most).
MESSAGE_SEARCH_MIN = 3


def _message_matches(term: str) -> QuerySet[Any]:
    """The disputes with a message holding every word of ``term``: through the GIN index
    of the words of messages on PostgreSQL (migration 0028), a LIKE on SQLite."""
    words = [w for w in term.split() if len(w) >= MESSAGE_SEARCH_MIN]
    if not words:
        return Message.objects.none().values_list("dispute_id", flat=True)
    if connection.vendor == "postgresql":
        match = RawSQL(
            "to_tsvector('simple', body) @@ plainto_tsquery('simple', %s)",
            [" ".join(words)],
            output_field=BooleanField(),
        )
        found = Message.objects.filter(match)
    else:
        found = Message.objects.all()
        for word in words:
            found = found.filter(body__icontains=word)
    return found.values_list("dispute_id", flat=True).distinct()


def overdue_filter(now: Any = None) -> Q:
    """:meth:`Dispute.is_overdue` as a query. Every state but ``closed`` has a deadline
    (``DEADLINE_STATES``), so the condition is written ``state <> 'closed'``: the partial
    index of open disputes (``dispute_open_id``) serves it in id order."""
    assert State.CLOSED not in DEADLINE_STATES and len(DEADLINE_STATES) == len(State) - 1
    return ~Q(state=State.CLOSED) & Q(respond_by__lt=now or timezone.now())


def orders_for(user: Any) -> QuerySet[Order]:
    """Orders the user bought, or that were placed with a shop they belong to (split by
    role as :func:`disputes_for`)."""
    qs = Order.objects.select_related("shop", "buyer")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if mediator_profile(user) is not None or is_integration(user):
        return qs
    return qs.filter(_party_condition(user, memberships_of(user)))


def messages_for(dispute: Dispute, *, include_internal: bool) -> QuerySet[Message]:
    qs = Message.objects.filter(dispute=dispute).select_related("author")
    return qs if include_internal else qs.filter(internal=False)


def audit_entries(dispute: Dispute) -> list[AuditEntry]:
    """The whole chain, in order (the console's case, the case file, the chain check)."""
    return list(chain_of(dispute))


def chain_of(dispute: Dispute, *, include_internal: bool = True) -> QuerySet[AuditEntry]:
    """The dispute's audit entries in ``seq`` order, as a query the API pages through on
    the ``(dispute, seq)`` index; without ``include_internal``, only those every party may
    read (the timeline's)."""
    qs = AuditEntry.objects.filter(dispute_id=dispute.pk).order_by("seq")
    return qs if include_internal else qs.exclude(visibility=Visibility.MEDIATORS)
