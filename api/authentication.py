"""Who is calling: a person with a personal token, or an integration with an API key.

``Authorization: Token <token>`` (or ``Bearer <token>``) carries a personal token from
``POST /auth/token/`` (django-rest-knox: stored as a SHA-512 digest, expiring, revocable);
``Authorization: Bearer <key>`` (or ``Api-Key <key>``) an integration's API key, told apart by
the dot between its prefix and its secret (djangorestframework-api-key: stored hashed,
revocable). Both load the user's roles in the same query.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from mediation.models import ApiKey

TOKEN_SCHEMES = (b"token", b"bearer")
KEY_SCHEMES = (b"bearer", b"api-key")
USER_ROLES = ("user__mediator_profile", "user__integration_account")


def _credential(request: Request, schemes: tuple[bytes, ...]) -> tuple[bytes, str] | None:
    """(scheme, credential) of the Authorization header when its scheme is one of ``schemes``."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() not in schemes:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(
            "The Authorization header takes a scheme and one credential: 'Token <token>' or "
            "'Bearer <key>'."
        )
    try:
        return parts[0].lower(), parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("Invalid token.") from None


def _is_api_key(credential: str) -> bool:
    return "." in credential


def _logged_as(user: Any) -> None:
    """The records logged for the rest of the request name the user the credential is
    for (django-structlog binds it from the session, before DRF authenticates)."""
    structlog.contextvars.bind_contextvars(user_id=user.pk)


class TokenAuthentication(KnoxTokenAuthentication):
    """A personal token: found by its digest (the primary key), refused once expired; its
    expiry moves on with use (at most once a minute) up to ``API_TOKEN_MAX_TTL_DAYS``."""

    def authenticate(self, request: Request) -> tuple[Any, AuthToken] | None:
        found = _credential(request, TOKEN_SCHEMES)
        if found is None:
            return None
        scheme, token = found
        if scheme == b"bearer" and _is_api_key(token):
            return None  # an integration's key: ApiKeyAuthentication's
        return self.authenticate_credentials(token)

    def authenticate_credentials(self, token: Any) -> tuple[Any, AuthToken]:
        key = token.decode("ascii") if isinstance(token, bytes) else token
        try:
            auth_token = AuthToken.objects.select_related("user", *USER_ROLES).get(
                digest=hash_token(key)
            )
        except AuthToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            raise exceptions.AuthenticationFailed("The token has expired: log in again.")
        if auth_token.expiry is not None:
            self.renew_token(auth_token)
        if not auth_token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        _logged_as(auth_token.user)
        return auth_token.user, auth_token


class ApiKeyAuthentication(BaseAuthentication):
    """An integration's API key (a shop's or the platform's): refused once revoked or
    expired; its last-used time is written at most once a minute
    (``API_KEY_LAST_USED_PRECISION_SECONDS``)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        found = _credential(request, KEY_SCHEMES)
        if found is None:
            return None
        scheme, key = found
        if not _is_api_key(key):
            if scheme == b"bearer":
                return None  # a personal token: TokenAuthentication's
            raise exceptions.AuthenticationFailed("Invalid API key.")
        prefix = key.partition(".")[0]
        try:
            api_key = ApiKey.objects.select_related("user", *USER_ROLES).get(
                prefix=prefix, revoked=False
            )
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key has expired.")
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        precision = timedelta(seconds=settings.API_KEY_LAST_USED_PRECISION)
        if api_key.last_used_at is None or now - api_key.last_used_at >= precision:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        _logged_as(api_key.user)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal token from `POST /api/v1/auth/token/`, sent as the "
            "`Authorization` header exactly as typed: type `Token ` and then the token, "
            "`Token 9f86d081884c7d65...`. (Or paste the bare token into `apiKeyAuth`, "
            "which adds `Bearer ` itself.)",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration's API key (a shop's, or the platform's), or a "
            "personal token: paste the bare key or token, `Bearer ` is added to it "
            "(`Authorization: Bearer <key>`).",
        }
