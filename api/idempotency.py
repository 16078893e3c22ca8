"""``Idempotency-Key`` on POST: a replay returns the first response.

The record is written in the same transaction as the change it answers for, so a retry
after a lost response never applies the change twice, and two concurrent requests with
one key cannot both commit (the second trips the unique constraint and is refused).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.models import IdempotencyRecord
from api.rest import IDEMPOTENCY_KEY_PATTERN
from mediation.errors import Conflict, InvalidInput, RuleViolation

HEADER = "Idempotency-Key"
KEY_FORMAT = re.compile(IDEMPOTENCY_KEY_PATTERN.strip("^$"))
REPLAYED = "Idempotent-Replayed"
_KEPT_HEADERS = ("ETag", "Location")


def _canonical(value: Any) -> Any:
    """Uploaded files count by their content: name, size and SHA-256 (the evidence upload
    handler computed the hash while streaming; other files are hashed here in chunks)."""
    if isinstance(value, UploadedFile):
        sha = getattr(value, "sha256", None)
        if sha is None:
            h = hashlib.sha256()
            for chunk in value.chunks():
                h.update(chunk)
            value.seek(0)
            sha = h.hexdigest()
        return {"file": value.name, "size": value.size, "sha256": sha}
    return value


def _fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict from a form or multipart body
        data = {key: [_canonical(v) for v in values] for key, values in data.lists()}
    body = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    @wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user or not request.user.is_authenticated:
            return handler(self, request, *args, **kwargs)
        key = key.strip()
        if not KEY_FORMAT.fullmatch(key):
            raise InvalidInput(
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID, say).",
                field=HEADER,
            )
        fingerprint = _fingerprint(request)
        cutoff = timezone.now() - settings.MEDIATION_IDEMPOTENCY_TTL
        try:
            with transaction.atomic():
                record = (
                    IdempotencyRecord.objects.select_for_update()
                    .filter(user=request.user, key=key)
                    .first()
                )
                if record is not None and record.created_at < cutoff:
                    record.delete()
                    record = None
                if record is not None:
                    if record.fingerprint != fingerprint:
                        raise RuleViolation(
                            "This Idempotency-Key was used for a different request.",
                            code="idempotency_key_reused",
                        )
                    return Response(
                        record.body,
                        status=record.status_code,
                        headers={**record.headers, REPLAYED: "true"},
                    )
                response = handler(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=response.status_code,
                        # DRF's encoder, as the renderer used: a replay is byte-identical.
                        body=json.loads(json.dumps(response.data, cls=JSONEncoder)),
                        headers={h: response[h] for h in _KEPT_HEADERS if response.has_header(h)},
                    )
                return response
        except IntegrityError:
            raise Conflict(
                "Another request with this Idempotency-Key is being processed; retry shortly.",
                code="idempotency_key_in_use",
            ) from None

    return wrapper
