"""Who acts: a user in a role on a dispute, or the system (deadline sweeper, workers).

Roles come from data (shop membership, mediator profile, integration account, the
order's buyer), never from anything the client sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union, cast

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    F,
    Field,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from mediation.errors import Forbidden
from mediation.models import Dispute, MediatorProfile, ShopMember

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True)
class SystemActor:
    """The deadline sweeper and background workers."""

    display_name: str = "system"
    pk: None = None
    is_authenticated: bool = True


SYSTEM = SystemActor()

# Whoever calls a service: a person (the API's and the console's request.user, anonymous
# until authenticated; the services see nothing for an anonymous one) or the system.
Person = Union["User", "AnonymousUser"]
Actor = Person | SystemActor


def human(actor: Actor) -> User:
    """The signed-in person behind ``actor``, for what only a person can be (an offer's
    author, a ruling's proposer); the system and anonymous callers are refused."""
    if isinstance(actor, SystemActor) or not actor.is_authenticated:
        raise Forbidden("Only a signed-in person may do this.")
    return cast("User", actor)


def display_name(actor: Any) -> str:
    if isinstance(actor, SystemActor):
        return actor.display_name
    full = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return full or actor.get_username()


def mediator_profile(user: Any) -> MediatorProfile | None:
    """The user's active mediator profile (loaded with the user by the API's auth)."""
    if isinstance(user, SystemActor) or not getattr(user, "is_authenticated", False):
        return None
    try:
        profile = user.mediator_profile
    except Exception:  # RelatedObjectDoesNotExist
        return None
    return profile if profile is not None and profile.active else None


def is_integration(user: Any) -> bool:
    if isinstance(user, SystemActor) or not getattr(user, "is_authenticated", False):
        return False
    try:
        return user.integration_account is not None
    except Exception:  # RelatedObjectDoesNotExist
        return False


@dataclass(frozen=True)
class Roles:
    """What an actor is on one dispute."""

    buyer: bool = False
    member: ShopMember | None = None
    mediator: MediatorProfile | None = None
    platform: bool = False
    system: bool = False

    @property
    def seller(self) -> bool:
        return self.member is not None

    @property
    def owner(self) -> bool:
        return self.member is not None and self.member.role == "owner"

    @property
    def can_see(self) -> bool:
        return (
            self.buyer or self.seller or self.mediator is not None or self.platform or self.system
        )

    @property
    def party(self) -> str | None:
        if self.buyer:
            return "buyer"
        if self.seller:
            return "seller"
        return None

    def label(self) -> str:
        """The role recorded on audit entries and messages."""
        if self.system:
            return "system"
        if self.mediator is not None:
            return "mediator"
        if self.buyer:
            return "buyer"
        if self.member is not None:
            return f"seller_{self.member.role}"
        if self.platform:
            return "platform"
        return "none"


# --- The caller's shop membership, loaded with the disputes -----------------------------------

# Annotations of :func:`with_membership`: the user they were loaded for, and that user's
# membership of the dispute's shop (NULL: not a member).
VIEWER = "viewer_id"
MEMBER_FIELDS = {
    "viewer_member_id": "id",
    "viewer_member_role": "role",
    "viewer_member_limit": "offer_limit",
    "viewer_member_limit_currency": "offer_limit_currency",
}


def memberships_of(user: Any) -> dict[int, ShopMember]:
    """``user``'s shop memberships by shop id: one query on the member's user index (for
    a list; a lookup by id joins the membership instead, :func:`with_joined_membership`)."""
    if getattr(user, "pk", None) is None:
        return {}
    rows = ShopMember.objects.filter(user_id=user.pk).only(
        "id", "shop_id", "user_id", *MEMBER_FIELDS.values()
    )
    return {member.shop_id: member for member in rows}


_MEMBER_OUTPUT: dict[str, Field[Any, Any]] = {
    "id": IntegerField(),
    "role": CharField(),
    "offer_limit": BigIntegerField(),
    "offer_limit_currency": CharField(),
}


def with_membership(
    qs: QuerySet[Dispute], user: Any, memberships: dict[int, ShopMember] | None = None
) -> QuerySet[Dispute]:
    """Annotate ``user``'s membership of each dispute's shop, so that their roles on the
    disputes read need no query (:func:`roles_for`).

    The memberships are read first (``memberships``, or :func:`memberships_of`) and written
    into the query as constants (``CASE shop_id WHEN ... THEN ...``): no join and no
    subquery per row, whatever the number of disputes."""
    if memberships is None:
        memberships = memberships_of(user)

    def column(field: str) -> Any:
        output = _MEMBER_OUTPUT[field]
        whens = [
            When(shop_id=shop_id, then=Value(getattr(member, field), output_field=output))
            for shop_id, member in sorted(memberships.items())
        ]
        if not whens:
            return Value(None, output_field=output)
        return Case(*whens, default=Value(None, output_field=output), output_field=output)

    return qs.annotate(
        **{VIEWER: Value(user.pk, output_field=IntegerField())},
        **{name: column(field) for name, field in MEMBER_FIELDS.items()},
    )


def with_joined_membership(qs: QuerySet[Dispute], user: Any) -> QuerySet[Dispute]:
    """The annotations of :func:`with_membership` from a join in the same query (``LEFT
    JOIN`` the member row of (shop, user), on its unique index): for a lookup by id, where
    reading the memberships first would cost a round trip more. Read in the query's own
    snapshot, so a use case's lock decides on the membership as the database holds it."""
    qs = qs.annotate(
        viewer_membership=FilteredRelation(
            "shop__members", condition=Q(shop__members__user_id=user.pk)
        )
    )
    return qs.annotate(
        **{VIEWER: Value(user.pk, output_field=IntegerField())},
        **{name: F(f"viewer_membership__{field}") for name, field in MEMBER_FIELDS.items()},
    )


# What :func:`loaded_membership` answers for a row that was not loaded for the user.
NOT_LOADED: Any = object()


def loaded_membership(dispute: Dispute, user: Any) -> ShopMember | object | None:
    """``user``'s membership of the dispute's shop as :func:`with_membership` loaded it (a
    member, or None), or :data:`NOT_LOADED` when the row was not loaded for ``user``."""
    if getattr(dispute, VIEWER, None) != getattr(user, "pk", None) or user.pk is None:
        return NOT_LOADED
    values = {field: getattr(dispute, name) for name, field in MEMBER_FIELDS.items()}
    if values["id"] is None:
        return None
    return ShopMember(shop_id=dispute.shop_id, user_id=user.pk, **values)


def roles_for(actor: Any, dispute: Dispute) -> Roles:
    """Resolve the actor's roles on ``dispute``: from the membership the selectors loaded
    for them (:func:`with_membership`), or with one query."""
    if isinstance(actor, SystemActor):
        return Roles(system=True)
    if not getattr(actor, "is_authenticated", False):
        return Roles()
    member = loaded_membership(dispute, actor)
    if member is NOT_LOADED:
        member = ShopMember.objects.filter(shop_id=dispute.shop_id, user_id=actor.pk).first()
    assert member is None or isinstance(member, ShopMember)
    return Roles(
        buyer=dispute.buyer_id == actor.pk,
        member=member,
        mediator=mediator_profile(actor),
        platform=is_integration(actor),
    )
