"""The API's REST kit, published for the other adapters' endpoints (the webhooks' owner
API uses it): the problem+json responses of the schema, the ``If-Match`` and
``Idempotency-Key`` headers, and :func:`valid`, which validates a request body with an input
serializer (a refusal is a 400 problem+json through the API's exception handler)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request

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


def valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
