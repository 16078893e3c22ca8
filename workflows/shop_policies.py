"""A shop's return and refund policy, published in versions that never change.

A dispute keeps the version in force when its order was placed (``Dispute.policy_version``)
and its raise entry records that text's SHA-256, so the case file shows, and proves, the
exact words the order was sold under. A change of policy is a new version, effective now
or later, never earlier: a backdated text would rewrite what past orders were sold under.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from mediation.actors import Actor, SystemActor, mediator_profile
from mediation.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from mediation.models import Shop, ShopMember, ShopPolicy, ShopRole

MAX_TEXT = 20_000
# How far in the past "now" may be (a client's clock): anything earlier is backdating.
CLOCK_SKEW = timedelta(minutes=5)


def _shop_for(actor: Actor, slug: str, *, publish: bool) -> Shop:
    """The shop as ``actor`` may reach it: its members read its policies and its owners
    publish them (the system and the console's superusers too); 404 for anyone else."""
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise NotFound("No such shop.")
    if isinstance(actor, SystemActor) or getattr(actor, "is_superuser", False):
        return shop
    user_pk = getattr(actor, "pk", None)
    if user_pk is None:
        raise NotFound("No such shop.")
    member = ShopMember.objects.filter(shop=shop, user_id=user_pk).first()
    if member is None:
        if not publish and mediator_profile(actor) is not None:
            return shop
        raise NotFound("No such shop.")
    if publish and member.role != ShopRole.OWNER:
        raise Forbidden("Only the shop's owners publish its policy.")
    return shop


def shop_owned_by(actor: Actor, slug: str) -> Shop:
    """The shop when ``actor`` is one of its owners (or the system, or a superuser); 403 for
    its agents, 404 for anyone else."""
    return _shop_for(actor, slug, publish=True)


def policies_for(actor: Actor, slug: str) -> QuerySet[ShopPolicy]:
    """A shop's policy versions, newest first, for its members and the mediators."""
    return _shop_for(actor, slug, publish=False).policies.order_by("-version")


def publish_policy(
    *, actor: Actor, shop_slug: str, text: str, effective_from: datetime | None = None
) -> ShopPolicy:
    """Publish the next version of the shop's policy (effective now, or from a later
    time); the versions before it stay as they were."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("The policy's text is empty.", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"Keep the policy under {MAX_TEXT} characters.", field="text")
    now = timezone.now()
    effective_from = effective_from or now
    if effective_from < now - CLOCK_SKEW:
        raise RuleViolation(
            "A policy takes effect now or later: orders already placed keep the text they "
            "were sold under.",
            code="policy_backdated",
        )
    with transaction.atomic():
        shop = _shop_for(actor, shop_slug, publish=True)
        Shop.objects.select_for_update().filter(pk=shop.pk).first()  # one publisher at a time
        latest = shop.policies.order_by("-version").first()
        if latest is not None and effective_from < latest.effective_from:
            raise RuleViolation(
                f"Version {latest.version} takes effect on {latest.effective_from:%Y-%m-%d %H:%M}; "
                "a new version cannot take effect before it.",
                code="policy_backdated",
            )
        try:
            with transaction.atomic():
                return ShopPolicy.objects.create(
                    shop=shop,
                    version=(latest.version if latest else 0) + 1,
                    text=text,
                    effective_from=effective_from,
                )
        except IntegrityError:
            raise Conflict(
                "Another version was published at the same moment; read them again.",
                code="conflict",
            ) from None


def policy_record(policy: ShopPolicy | None) -> dict[str, Any]:
    """What a dispute's raise entry records of the policy in force."""
    if policy is None:
        return {"policy_version": None}
    return {"policy_version": policy.version, "policy_sha256": policy.sha256}


__all__ = ["policies_for", "policy_record", "publish_policy"]
