"""Credentials: people's personal API tokens and integrations' API keys.

A person logs in (``POST /auth/token/``) for a new token (django-rest-knox: a SHA-512 digest
at rest, expiring, one per login) and logs out of this session or of every one. A shop's
owner creates named API keys for the shop's integration (djangorestframework-api-key: shown
once, a digest at rest); each key acts as its own member of the shop, with the key's role and
offer limit, so every rule of a member holds for it and the audit log names it. The
platform's integration gets its keys from the console or ``manage.py create_api_key``.
Creating and revoking a key, and logging out everywhere, are recorded in the credentials log
(:class:`~mediation.models.CredentialEvent`), with the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from knox.models import AuthToken

from mediation.actors import Actor, display_name
from mediation.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from mediation.models import (
    ApiKey,
    CredentialAction,
    CredentialEvent,
    IntegrationAccount,
    ShopMember,
    ShopRole,
)
from mediation.money import is_currency
from workflows.shop_policies import shop_owned_by

MAX_NAME = 50


# --- Personal tokens ----------------------------------------------------------------------


def issue_token(user: Any) -> tuple[AuthToken, str]:
    """A new personal token for ``user`` (the token itself is returned once, never stored);
    beyond ``API_TOKENS_PER_USER`` live tokens, the oldest are revoked."""
    with transaction.atomic():
        instance, token = AuthToken.objects.create(user=user)
        keep = max(1, settings.API_TOKENS_PER_USER)
        stale = list(
            AuthToken.objects.filter(user=user)
            .order_by("-created", "-digest")
            .values_list("digest", flat=True)[keep:]
        )
        if stale:
            AuthToken.objects.filter(digest__in=stale).delete()
    return instance, token


def log_out(token: AuthToken) -> None:
    """Revoke the token of this session."""
    AuthToken.objects.filter(digest=token.digest).delete()


def log_out_everywhere(user: Any, *, client_address: str | None = None) -> int:
    """Revoke every personal token of ``user``; how many there were."""
    with transaction.atomic():
        revoked, _ = AuthToken.objects.filter(user=user).delete()
        _record(
            CredentialAction.LOGGED_OUT_EVERYWHERE,
            actor=user,
            client_address=client_address,
            detail={"tokens_revoked": revoked},
        )
    return revoked


def clear_expired_tokens() -> int:
    """Delete the rows of expired tokens (they are refused already); how many."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


# --- API keys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyData:
    name: str
    role: str = ShopRole.AGENT
    offer_limit: int = 0
    offer_limit_currency: str = "USD"


def _check_person(actor: Actor) -> None:
    pk = getattr(actor, "pk", None)
    if pk is not None and ApiKey.objects.filter(user_id=pk).exists():
        raise Forbidden(
            "API keys are managed by a person: log in as the shop's owner.",
            code="personal_login_required",
        )


def _clean(data: KeyData) -> KeyData:
    name = (data.name or "").strip()
    if not name:
        raise InvalidInput("Name the key after the integration that will use it.", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"A key's name has at most {MAX_NAME} characters.", field="name")
    if data.role not in ShopRole.values:
        raise InvalidInput("A key's role is agent or owner.", field="role")
    if data.offer_limit < 0:
        raise InvalidInput("The offer limit is an amount in minor units.", field="offer_limit")
    if not is_currency(data.offer_limit_currency):
        raise InvalidInput("Unknown currency.", field="offer_limit_currency")
    return KeyData(name, data.role, data.offer_limit, data.offer_limit_currency)


def _key_user(name: str, prefix: str, email: str = "") -> Any:
    """The user a shop's key acts as: no password (it cannot log in), named after the key."""
    user = get_user_model()(
        username=f"apikey-{prefix}", first_name=name[:150], last_name="(API key)", email=email
    )
    user.set_unusable_password()
    user.save()
    return user


def create_shop_key(
    *, actor: Actor, shop_slug: str, data: KeyData, client_address: str | None = None
) -> tuple[ApiKey, str]:
    """A new API key for the shop's integration, created by one of its owners; returns the
    key row and the key (shown this once)."""
    shop = shop_owned_by(actor, shop_slug)
    _check_person(actor)
    data = _clean(data)
    with transaction.atomic():
        live = ApiKey.objects.select_for_update().filter(shop=shop, revoked=False)
        if len(live) >= settings.API_KEYS_PER_SHOP:
            raise RuleViolation(
                f"The shop has {settings.API_KEYS_PER_SHOP} live API keys, the most it may "
                "hold: revoke one it no longer uses first.",
                code="too_many_api_keys",
            )
        api_key = ApiKey(name=data.name, shop=shop, created_by=_person(actor))
        key = ApiKey.objects.assign_key(api_key)
        api_key.user = _key_user(data.name, api_key.prefix)
        api_key.save()
        ShopMember.objects.create(
            shop=shop,
            user=api_key.user,
            role=data.role,
            offer_limit=data.offer_limit if data.role == ShopRole.AGENT else 0,
            offer_limit_currency=data.offer_limit_currency,
        )
        _record(
            CredentialAction.API_KEY_CREATED,
            actor=actor,
            api_key=api_key,
            client_address=client_address,
            detail=_key_detail(data),
        )
    return api_key, key


def shop_keys(*, actor: Actor, shop_slug: str) -> QuerySet[ApiKey]:
    """The shop's keys, newest first, with their members (for the role and limit)."""
    shop = shop_owned_by(actor, shop_slug)
    return (
        ApiKey.objects.filter(shop=shop).select_related("user", "created_by").order_by("-created")
    )


def key_membership(keys: list[ApiKey]) -> dict[int, ShopMember]:
    """The member each shop key acts as, by user id."""
    members = ShopMember.objects.filter(user_id__in=[k.user_id for k in keys])
    return {m.user_id: m for m in members}


def revoke_shop_key(
    *, actor: Actor, shop_slug: str, prefix: str, client_address: str | None = None
) -> ApiKey:
    """Revoke one of the shop's keys for good (revoking it again changes nothing)."""
    shop = shop_owned_by(actor, shop_slug)
    _check_person(actor)
    api_key = ApiKey.objects.filter(shop=shop, prefix=prefix).select_related("user").first()
    if api_key is None:
        raise NotFound("The shop has no such API key.")
    return revoke_key(api_key, actor=actor, client_address=client_address)


def revoke_key(api_key: ApiKey, *, actor: Actor, client_address: str | None = None) -> ApiKey:
    """Revoke ``api_key`` (a shop's or the platform's); a shop key's user is deactivated."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().select_related("user").get(pk=api_key.pk)
        if locked.revoked:
            return locked
        locked.revoked = True
        locked.revoked_at = timezone.now()
        locked.revoked_by = _person(actor)
        locked.save(update_fields=["revoked", "revoked_at", "revoked_by"])
        if locked.shop_id is not None:
            type(locked.user).objects.filter(pk=locked.user_id).update(is_active=False)
        _record(
            CredentialAction.API_KEY_REVOKED,
            actor=actor,
            api_key=locked,
            client_address=client_address,
        )
    return locked


def create_platform_key(
    *, account: IntegrationAccount, name: str, actor: Actor, client_address: str | None = None
) -> tuple[ApiKey, str]:
    """A new API key for the platform's integration account (a console superuser or the
    ``create_api_key`` command); the account's password, if it had one, is disabled, so that
    the key is the only way in."""
    data = _clean(KeyData(name=name))
    with transaction.atomic():
        api_key = ApiKey(name=data.name, user=account.user, created_by=_person(actor))
        key = ApiKey.objects.assign_key(api_key)
        api_key.save()
        if account.user.has_usable_password():
            account.user.set_unusable_password()
            account.user.save(update_fields=["password"])
        _record(
            CredentialAction.API_KEY_CREATED,
            actor=actor,
            api_key=api_key,
            client_address=client_address,
            detail={"integration": account.name},
        )
    return api_key, key


# --- The credentials log ------------------------------------------------------------------


def _person(actor: Actor) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _key_detail(data: KeyData) -> dict[str, Any]:
    detail: dict[str, Any] = {"role": data.role}
    if data.role == ShopRole.AGENT:
        detail["offer_limit"] = data.offer_limit
        detail["offer_limit_currency"] = data.offer_limit_currency
    return detail


def _record(
    action: str,
    *,
    actor: Actor,
    api_key: ApiKey | None = None,
    client_address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> CredentialEvent:
    return CredentialEvent.objects.create(
        action=action,
        actor=_person(actor),
        actor_display=display_name(actor),
        shop_id=api_key.shop_id if api_key else None,
        key_prefix=api_key.prefix if api_key else "",
        key_name=api_key.name if api_key else "",
        detail=detail or {},
        client_address=client_address,
    )
