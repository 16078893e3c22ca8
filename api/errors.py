"""One place that turns every error into application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (  # Django's request limits, raised while parsing
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.outages import DATABASE, database_unavailable
from mediation.errors import DomainError, RateLimited

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("django.security")

PROBLEM = "application/problem+json"

_DRF_CODES: list[tuple[type[Exception], str, str]] = [
    (drf.NotAuthenticated, "not_authenticated", "Authentication credentials were not provided"),
    (drf.AuthenticationFailed, "authentication_failed", "The credentials are not valid"),
    (drf.PermissionDenied, "forbidden", "You may not do this"),
    (drf.NotFound, "not_found", "Not found"),
    (drf.MethodNotAllowed, "method_not_allowed", "Method not allowed"),
    (drf.NotAcceptable, "not_acceptable", "Not acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type", "Unsupported media type"),
    (drf.Throttled, "throttled", "Too many requests"),
    (drf.ParseError, "invalid", "The request body could not be parsed"),
    (drf.ValidationError, "invalid", "The request is not valid"),
]


def problem(
    status: int, code: str, title: str, detail: str = "", instance: str = "", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:mediation:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(data: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(data, status=data["status"], content_type=PROBLEM, headers=headers)


def database_unavailable_problem(instance: str) -> tuple[dict[str, Any], dict[str, str]]:
    """503 ``database_unavailable`` and its ``Retry-After`` header: the database cannot be
    reached (a restart, a failover, a network cut), so the same request may well succeed in
    a few seconds (``DATABASE_RETRY_AFTER_SECONDS``)."""
    seconds = settings.DATABASE_RETRY_AFTER
    body = problem(
        503,
        "database_unavailable",
        "The database does not answer",
        f"The service cannot reach its database right now; try again in {seconds} seconds.",
        instance,
        retry_after=seconds,
    )
    return body, {"Retry-After": str(seconds)}


def database_unavailable_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    """The answer of a Django view (the console, the probes) whose database is unavailable.
    Logged once per outage (:data:`api.outages.DATABASE`), not with a traceback per request:
    the response is marked as logged, so Django's request log skips it too."""
    DATABASE.failed(exc)
    body, headers = database_unavailable_problem(request.get_full_path())
    response = JsonResponse(body, status=503, content_type=PROBLEM, headers=headers)
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    set_rollback()
    if database_unavailable(exc):
        DATABASE.failed(exc)
        body, retry_after = database_unavailable_problem(instance)
        response = problem_response(body, retry_after)
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    if isinstance(exc, DomainError):
        details = {k: v for k, v in exc.extra.items() if v is not None}
        sent: dict[str, str] = {}
        if exc.status == 401:
            sent["WWW-Authenticate"] = 'Token realm="api"'
        if isinstance(exc, RateLimited):
            sent["Retry-After"] = str(exc.extra["retry_after"])
        return problem_response(
            problem(exc.status, exc.code, exc.title, exc.message, instance, **_jsonable(details)),
            sent or None,
        )
    if isinstance(exc, SuspiciousOperation):
        # Django's request limits (DATA_UPLOAD_MAX_MEMORY_SIZE, _NUMBER_FIELDS, _NUMBER_FILES)
        # and other hostile input found while parsing: the client's fault, never a 500.
        security_logger.warning("%s on %s: %s", type(exc).__name__, instance, exc)
        if isinstance(exc, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return problem_response(
                problem(
                    413,
                    "request_too_large",
                    "The request is too large",
                    f"The request body (apart from uploaded files) is larger than the {limit} "
                    "bytes allowed.",
                    instance,
                    limit=limit,
                )
            )
        detail = "The request is not valid."
        if isinstance(exc, TooManyFieldsSent):
            detail = "The request has too many fields."
        elif isinstance(exc, TooManyFilesSent):
            detail = "The request has too many files."
        return problem_response(
            problem(400, "invalid", "The request is not valid", detail, instance)
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        code, title = "error", "Error"
        for cls, known_code, known_title in _DRF_CODES:
            if isinstance(exc, cls):
                code, title = known_code, known_title
                break
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            headers["WWW-Authenticate"] = 'Token realm="api"'
        extra: dict[str, Any] = {}
        if isinstance(exc, drf.ValidationError):
            detail_ = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
            extra["errors"] = flat_errors(detail_)
            detail = _first_message(exc.detail)
        else:
            detail = str(exc.detail)
        return problem_response(
            problem(exc.status_code, code, title, detail, instance, **extra), headers
        )
    logger.exception("Unhandled error on %s", instance, exc_info=exc)
    return problem_response(
        problem(500, "internal_error", "Something went wrong on our side", "", instance)
    )


def flat_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as ``{"items[1].sku": ["..."]}``: one level, each a list of
    messages (a list field's errors are keyed by position, a nested object's by name)."""
    found: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            found.update(flat_errors(value, sub))
    elif isinstance(detail, list):
        messages = [str(item) for item in detail if not isinstance(item, (dict, list))]
        if messages:
            found[path or "non_field_errors"] = messages
        for i, item in enumerate(detail):
            if isinstance(item, (dict, list)) and item:
                found.update(flat_errors(item, f"{path}[{i}]"))
    else:
        found[path or "non_field_errors"] = [str(detail)]
    return found


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            return f"{key}: {_first_message(value)}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in extra.items()}


def _json_problem(request: HttpRequest, status: int, code: str, title: str) -> JsonResponse:
    return JsonResponse(
        problem(status, code, title, "", request.get_full_path()),
        status=status,
        content_type=PROBLEM,
    )


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_problem(request, 404, "not_found", "Not found")


def server_error_view(request: HttpRequest) -> JsonResponse:
    # Django calls this while it handles the exception: one raised outside any view (a
    # middleware saving the session, say) by an unavailable database is a 503 too.
    exc = sys.exc_info()[1]
    if exc is not None and database_unavailable(exc):
        return database_unavailable_response(request, exc)
    return _json_problem(request, 500, "internal_error", "Something went wrong on our side")


def uri_too_long_response(request: HttpRequest, limit: int) -> JsonResponse:
    """414 ``uri_too_long``: the path and query string are longer than MAX_URL_LENGTH."""
    body = problem(
        414,
        "uri_too_long",
        "The address is too long",
        f"The path and query string may be at most {limit} characters long.",
        request.path[:200],
    )
    return JsonResponse(body, status=414, content_type=PROBLEM)


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_problem(request, 400, "invalid", "Bad request")


def permission_denied_view(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return _json_problem(request, 403, "forbidden", "You may not do this")
