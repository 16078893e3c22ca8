"""The API's REST kit, published for the other adapters' endpoints (the webhooks' owner
API uses it): the problem+json responses of the schema, the ``If-Match`` and
``Idempotency-Key`` headers, and :func:`valid`, which validates a request body with an input
serializer (a refusal is a 400 problem+json through the API's exception handler)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request

from mediation.errors import InvalidInput

PROBLEM_RESPONSE = OpenApiResponse(description="application/problem+json with a stable `code`")
ERRORS = {code: PROBLEM_RESPONSE for code in (400, 401, 403, 404, 409, 412, 422, 429)}
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The dispute's ETag; a stale one is refused with 412 version_conflict.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe POST: a replay returns the first response.",
)


def valid(
    serializer_class: type[serializers.Serializer],
    request: Request,
    *,
    partial: bool = False,
    also: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The body validated by ``serializer_class``; a field the serializer does not know (nor
    ``also`` names: parts the view reads itself) is refused (400 ``unknown_field``, naming
    it), so that a misspelt ``"amout": 500`` is never silently dropped."""
    serializer = serializer_class(data=request.data, partial=partial)
    refuse_unknown_fields(serializer, request.data, also=also)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def refuse_unknown_fields(
    serializer: serializers.Serializer, data: Any, *, also: tuple[str, ...] = ()
) -> None:
    if not isinstance(data, Mapping):
        return  # not an object: the serializer says so
    writable = {name for name, field in serializer.fields.items() if not field.read_only}
    writable.update(also)
    unknown = sorted(str(name) for name in data if name not in writable)
    if unknown:
        known = ", ".join(sorted(writable)) or "none"
        raise InvalidInput(
            f"Unknown field(s): {', '.join(unknown)}. The fields are: {known}.",
            code="unknown_field",
            fields=unknown,
        )
