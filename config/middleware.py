"""Middleware of our own: a ``Permissions-Policy`` header on every response (Django has no
setting for it), a 503 instead of a 500 page when the database is unavailable, and a 414
problem for an address beyond ``MAX_URL_LENGTH``."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from api.errors import database_unavailable_response, uri_too_long_response
from api.outages import database_unavailable


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
