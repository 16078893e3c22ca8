"""Middleware of our own: the request's id and dispute in its log records, a
``Permissions-Policy`` header on every response (Django has no setting for it), a 503 instead
of a 500 page when the database is unavailable, and a 414 problem for an address beyond
``MAX_URL_LENGTH``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty
from django_structlog.middlewares import RequestMiddleware

from api.errors import database_unavailable_response, uri_too_long_response
from api.outages import database_unavailable

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller's (or a proxy's) request id may be: a UUID, a trace id, a short token.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request middleware (``request_id`` and ``user_id`` bound for every
    record logged during the request, a ``request_finished`` record at its end), and:

    * an ``X-Request-ID`` that is not a plain id (too long, spaces, control characters, a
      forged log line) is replaced by a new UUID before anything logs it;
    * the id goes back in the response's ``X-Request-ID``;
    * a view of one dispute binds ``dispute_id``;
    * the user is named only once something resolved it (DRF's authentication, the console's
      session): reading it for the log alone would query the session, which may be the very
      database that is down (the 503 would turn into a 500 here, outside every handler)."""

    def prepare(self, request: HttpRequest) -> None:
        sent = request.META.get("HTTP_X_REQUEST_ID")
        if sent is not None and not REQUEST_ID.fullmatch(sent):
            request.META["HTTP_X_REQUEST_ID"] = str(uuid.uuid4())
            request.__dict__.pop("headers", None)  # HttpRequest.headers, read from META
        super().prepare(request)

    def handle_response(self, request: HttpRequest, response: HttpResponseBase) -> None:
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if isinstance(request_id, str):
            response[REQUEST_ID_HEADER] = request_id
        super().handle_response(request, response)  # type: ignore[arg-type]

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        dispute_id = kwargs.get("dispute_id")
        if dispute_id is not None:
            structlog.contextvars.bind_contextvars(dispute_id=dispute_id)

    @staticmethod
    def bind_user_id(request: HttpRequest) -> None:
        user = request.__dict__.get("user")
        if user is None:
            return
        if isinstance(user, SimpleLazyObject):
            if user._wrapped is empty:  # type: ignore[attr-defined]
                return  # never needed by the request: not looked up for the log either
            user = user._wrapped  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(user_id=getattr(user, "pk", None))


def permissions_policy(features: dict[str, list[str]]) -> str:
    """``camera=(), geolocation=(self)`` from ``{"camera": [], "geolocation": ["self"]}``."""
    return ", ".join(
        f"{feature}=({' '.join(origins)})" for feature, origins in sorted(features.items())
    )


class PermissionsPolicyMiddleware:
    """Sends ``settings.PERMISSIONS_POLICY``; a response that set its own header keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        header = permissions_policy(getattr(settings, "PERMISSIONS_POLICY", {}))
        if header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = header
        return response


class DatabaseUnavailableMiddleware:
    """A Django view (the console, the probes) that meets an unavailable database answers 503
    problem+json ``database_unavailable`` with ``Retry-After``, logged once per outage, rather
    than a 500 with a traceback per request. The API's views answer the same through DRF's
    exception handler (api/errors.py), which sees their exceptions first; an exception raised
    by another middleware reaches ``handler500`` (api.errors.server_error_view), which does
    the same."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None


class UrlLengthMiddleware:
    """An address (path and query string, as sent) longer than :setting:`MAX_URL_LENGTH`
    is refused with 414 problem+json ``uri_too_long`` before anything reads it. gunicorn
    (config/gunicorn.conf.py) lets request lines of up to 8,190 bytes through, so that this
    answer, not its own HTML page, is what a client sees below that."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.limit = settings.MAX_URL_LENGTH

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        raw = request.META.get("RAW_URI") or request.get_full_path()
        if len(raw) > self.limit:
            return uri_too_long_response(request, self.limit)
        return self.get_response(request)
