"""The API's REST kit, published for the other adapters' endpoints (the webhooks' owner
API uses it): the problem+json responses of the schema, the ``If-Match`` and
``Idempotency-Key`` headers, and :func:`valid`, which validates a request body with an input
serializer (a refusal is a 400 problem+json through the API's exception handler)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from api.errors import flat_errors
from mediation.errors import InvalidInput

PROBLEM = "application/problem+json"


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every error."""

    type = serializers.CharField(help_text="`urn:mediation:problem:<code>`")
    title = serializers.CharField(help_text="The kind of problem, in words")
    status = serializers.IntegerField(help_text="The HTTP status")
    code = serializers.CharField(
        help_text="Stable and machine-readable (invalid, unknown_field, not_found, "
        "invalid_transition, version_conflict, too_many_messages, ...): branch on this."
    )
    detail = serializers.CharField(help_text="This occurrence, in words for a person")
    instance = serializers.CharField(required=False, help_text="The request's path and query")
    field = serializers.CharField(required=False, help_text="The input the problem is about")
    # Fields are moved off the class (DRF's metaclass): Serializer.errors stays as it is.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per field, what is wrong with it (400 invalid)",
    )


# Each error status, its component in components/responses and what it means here; the
# body is always a Problem (application/problem+json).
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is not valid (`invalid`, `unknown_field`, ...)"),
    401: ("Unauthorized", "No credentials, or credentials that are not valid (or expired)"),
    403: ("Forbidden", "Your role or a limit does not allow this"),
    404: ("NotFound", "Not found, or not visible to you"),
    409: ("Conflict", "The state does not allow this now, or a concurrent request won"),
    412: ("PreconditionFailed", "If-Match names a version that is not the current one"),
    413: ("ContentTooLarge", "The request body is larger than allowed"),
    414: ("UriTooLong", "The path and query string are longer than MAX_URL_LENGTH"),
    415: ("UnsupportedMediaType", "The body's (or an uploaded file's) type is not accepted"),
    422: ("UnprocessableContent", "Well-formed, but a rule of the dispute process refuses it"),
    429: ("TooManyRequests", "Too many requests or logins: wait Retry-After seconds"),
    503: (
        "ServiceUnavailable",
        "The database cannot be reached (`database_unavailable`): retry after Retry-After seconds",
    ),
}
# 503: any request that needs the database may meet it unreachable (a restart, a failover).
# 414: any address may be too long (a query string of thousands of characters).
READ_PROBLEMS = (400, 401, 403, 404, 414, 429, 503)
WRITE_PROBLEMS = (400, 401, 403, 404, 409, 413, 414, 415, 422, 429, 503)
DELETE_PROBLEMS = (400, 401, 403, 404, 409, 414, 429, 503)


def add_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the error responses every operation refers to
    (see :class:`ApiSchema`)."""
    responses = result.setdefault("components", {}).setdefault("responses", {})
    for name, description in PROBLEMS.values():
        responses[name] = {
            "description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return result


def anonymous_security(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: an operation anyone may call (the login) says
    ``security: []``, no requirement, rather than ``[{}]``, an empty one. Both mean the same;
    openapi-python-client reads any non-empty list as "needs a token" and would make the
    generated ``create_token`` take an ``AuthenticatedClient`` (its issue #1372)."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("security") == [{}]:
                operation["security"] = []
    return result


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The dispute's ETag; a stale one is refused with 412 version_conflict.",
)
# Visible ASCII (no spaces), as the decorator in api.idempotency checks it.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,255}$"
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Retry-safe POST: a replay (same key, same body) returns the first response. 1 to 255 "
        "visible ASCII characters, e.g. a UUID; kept MEDIATION_IDEMPOTENCY_TTL_HOURS."
    ),
)


# Request strings as DRF's CharField takes them: never a NUL character, and, unless blank is
# allowed, at least one character that is not whitespace. DRF trims with str.strip(), whose
# whitespace is written out here (U+0085 and U+001C-U+001F among it): a regex engine's \\s
# is not the same set everywhere. No other pattern or format is replaced.
WHITESPACE = (
    "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NO_NUL = "^[^\\u0000]*$"  # blank allowed: the empty string matches too
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{WHITESPACE}][^\\u0000]*$"


SLUG = "^[-a-zA-Z0-9_]+$"  # DRF's SlugField (ASCII)


# A method's verb in an operation id; a POST to a collection creates one of it.
VERBS = {"post": "create", "put": "replace", "patch": "update", "delete": "delete"}


def singular(noun: str) -> str:
    """``policies`` -> ``policy``, ``api_keys`` -> ``api_key``; a word without a plural
    (``evidence``, ``feedback``) is left as it is."""
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") else noun


def operation_id(method: str, path: str, *, list_view: bool, readable: bool) -> str:
    """The operation id of ``method`` on ``path`` (``/api/v1/disputes/{dispute_id}/``), with
    ``list_view`` when its GET answers a list and ``readable`` when the path answers GET:

    * ``GET`` a list: ``list_<noun>`` (``list_disputes``, ``list_messages``); one thing:
      ``get_<noun>`` (``get_dispute``, ``get_audit``, ``get_stats``);
    * ``POST`` to a verb after an item, a path with no GET (``.../messages/{message_id}/
      report/``): ``<verb>_<noun>`` (``report_message``, ``revoke_api_key``, ``approve_offer``);
    * any other ``POST`` creates: ``create_<noun>`` (``create_dispute``, ``create_token``);
      ``PATCH``, ``PUT``, ``DELETE``: ``update_``, ``replace_``, ``delete_<noun>``;

    where the noun is the path's last literal segment, with ``-`` as ``_``, made singular
    where it names one of a list (``disputes/{dispute_id}/``, a POST to ``disputes/``).
    Path parameters and the ``/api/v1/`` prefix never appear."""
    segments = [s for s in path.strip("/").split("/") if s][2:]  # after api/v1
    literal = [(i, s.replace("-", "_")) for i, s in enumerate(segments) if not s.startswith("{")]
    last, noun = literal[-1]
    item = last < len(segments) - 1  # the path ends with a parameter
    verb = method.lower()
    if verb == "get":
        if item:
            return f"get_{singular(noun)}"
        return f"{'list' if list_view else 'get'}_{noun}"
    acts = verb == "post" and not readable and not item and len(literal) > 1
    if acts and literal[-2][0] == last - 2:  # <noun>/{id}/<verb>/
        return f"{noun}_{singular(literal[-2][1])}"
    return f"{VERBS[verb]}_{singular(noun)}"


class ApiSchema(AutoSchema):
    """The OpenAPI operation of every endpoint: what the view declares, plus the problem+json
    responses it may answer with (by method; 412 where it takes If-Match), so that no error
    status is undocumented and every one has the Problem schema."""

    def get_operation_id(self) -> str:
        """``<verb>_<noun>`` from the method and the path, so that a generated client's
        functions read like what they do and stay put while the path does (see
        :func:`operation_id`); a view names the few that read badly so with
        ``extend_schema(operation_id=...)``."""
        if not self.path.startswith("/api/v1/"):  # the webhooks' mocked view ("/")
            return str(super().get_operation_id())
        return operation_id(
            self.method,
            self.path,
            list_view=self.method == "GET" and self._is_list_view(),
            readable=hasattr(self.view, "get"),
        )

    def _map_serializer_field(self, field: Any, direction: Any, *args: Any, **kwargs: Any) -> Any:
        schema = super()._map_serializer_field(field, direction, *args, **kwargs)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not isinstance(field, serializers.RegexField)  # its own pattern follows
            and schema.get("type") == "string"
            and not {"enum", "format", "pattern"} & set(schema)
        ):
            blank_ok = field.allow_blank or not field.trim_whitespace
            schema["pattern"] = NO_NUL if blank_ok else NOT_BLANK
            if isinstance(field, serializers.SlugField) and not field.allow_unicode:
                schema["pattern"] = SLUG
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """drf-spectacular writes a blank-allowed string with a pattern as ``oneOf: [the
        string, {maxLength: 0}]``; with :data:`NO_NUL` the empty string already matches the
        first, so that ``""`` would match both and fail ``oneOf``. One schema says it all
        (and a fuzzer mutating one branch no longer takes ``""`` for invalid)."""
        super()._insert_field_validators(field, schema)
        branches = schema.get("oneOf")
        if (
            isinstance(branches, list)
            and len(branches) == 2
            and branches[0].get("pattern") == NO_NUL
            and branches[1] == {"type": "string", "maxLength": 0}
        ):
            del schema["oneOf"]
            schema.update(branches[0])

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return operation
        codes: tuple[int, ...] = READ_PROBLEMS if self.method in ("GET", "HEAD") else WRITE_PROBLEMS
        if self.method == "DELETE":
            codes = DELETE_PROBLEMS
        # A view may answer a status beyond its method's: `problems = (422,)` on the view.
        codes = (*codes, *getattr(self.view, "problems", ()))
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if "If-Match" in headers:
            codes = (*codes, 412)
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if (
                parameter["in"] == "query"
                and schema.get("type") == "string"
                and not {"enum", "format", "pattern"} & set(schema)
            ):
                schema["pattern"] = NO_NUL  # as Django's form fields take it
        self.resolve_serializer(ProblemSerializer, "response")  # the component they refer to
        responses = operation.setdefault("responses", {})
        for code in sorted(codes):
            name = PROBLEMS[code][0]
            responses.setdefault(str(code), {"$ref": f"#/components/responses/{name}"})
        return operation


def valid(
    serializer_class: type[serializers.Serializer],
    request: Request,
    *,
    partial: bool = False,
    also: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The body validated by ``serializer_class``; a field the serializer does not know (nor
    ``also`` names: parts the view reads itself) is refused (400 ``unknown_field``, naming
    it), so that a misspelt ``"amout": 500`` is never silently dropped. A JSON value of
    another type than the schema says is refused too (400 ``invalid``), where DRF would
    coerce it: ``"note": 0`` is not the string ``"0"``, ``"updates": 0`` is not false (in a
    multipart form, a boolean is ``true`` or ``false``)."""
    serializer = serializer_class(data=request.data, partial=partial)
    refuse_unknown_fields(serializer, request.data, also=also)
    wrong = wrong_types(serializer, request.data)
    if wrong:  # with what else the serializer finds wrong
        serializer.is_valid()
        errors = {**flat_errors(serializer.errors), **wrong}
        name, messages = next(iter(errors.items()))
        raise InvalidInput(f"{name}: {messages[0]}", code="invalid", errors=errors)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def refuse_unknown_fields(
    serializer: serializers.Serializer, data: Any, *, also: tuple[str, ...] = ()
) -> None:
    unknown: list[str] = []
    _walk(serializer, data, also, "", unknown, {})
    if unknown:
        writable = sorted({*_writable(serializer), *also})
        known = ", ".join(writable) or "none"
        raise InvalidInput(
            f"Unknown field(s): {', '.join(unknown)}. The fields are: {known}.",
            code="unknown_field",
            fields=unknown,
        )


def wrong_types(serializer: serializers.Serializer, data: Any) -> dict[str, list[str]]:
    """The fields whose value is not of the type the schema gives them."""
    wrong: dict[str, list[str]] = {}
    if hasattr(data, "getlist"):  # a form: every value is a string; booleans are spelt out
        for name, field in _writable(serializer).items():
            spelt = str(data.get(name)).lower() in ("true", "false")
            if isinstance(field, serializers.BooleanField) and name in data and not spelt:
                wrong[name] = ["Must be true or false."]
    else:
        _walk(serializer, data, (), "", [], wrong)
    return wrong


def _writable(serializer: serializers.Serializer) -> dict[str, serializers.Field]:
    return {name: f for name, f in serializer.fields.items() if not f.read_only}


# The JSON type each kind of field takes (bool is an int in Python: refused apart).
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be an integer."),
    (serializers.FloatField, (int, float), "Must be a number."),
    (serializers.MultipleChoiceField, (list,), "Must be a list."),
    (serializers.ChoiceField, (str,), "Must be a string."),
    (serializers.CharField, (str,), "Must be a string."),
    (serializers.DateTimeField, (str,), "Must be a string (an ISO 8601 date and time)."),
    (serializers.DateField, (str,), "Must be a string (YYYY-MM-DD)."),
    (serializers.ListField, (list,), "Must be a list."),
    (serializers.ListSerializer, (list,), "Must be a list."),
    (serializers.DictField, (dict,), "Must be an object."),
    (serializers.Serializer, (dict,), "Must be an object."),
]


def _type_error(field: serializers.Field, value: Any) -> str | None:
    if value is None:
        return None  # allow_null is the serializer's to judge
    for kind, types, message in _JSON_TYPES:
        if isinstance(field, kind):
            if isinstance(value, bool) and bool not in types:
                return message
            if int in types and isinstance(value, float) and value.is_integer():
                return None  # 12.0 is an integer in JSON Schema (and to DRF)
            return None if isinstance(value, types) else message
    return None


def _walk(
    serializer: serializers.Serializer,
    data: Any,
    also: tuple[str, ...],
    prefix: str,
    unknown: list[str],
    wrong: dict[str, list[str]],
) -> None:
    """The names in ``data`` (and in its nested objects, as ``items[0].colour``) that
    ``serializer`` does not take, and the values whose JSON type is not the field's;
    anything that is not an object is left to the serializer."""
    if not isinstance(data, Mapping):
        return
    fields = _writable(serializer)
    for name in data:
        field = fields.get(name)
        path = f"{prefix}{name}"
        if field is None:
            if name not in also:
                unknown.append(path)
            continue
        value = data[name]
        problem = _type_error(field, value)
        if problem:
            wrong[path] = [problem]
            continue
        if isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            if isinstance(field.child, serializers.Serializer):
                for i, item in enumerate(value[:1000]):
                    _walk(field.child, item, (), f"{path}[{i}].", unknown, wrong)
        elif isinstance(field, serializers.ListField) and isinstance(value, list):
            for i, item in enumerate(value[:1000]):
                problem = _type_error(field.child, item)
                if problem:
                    wrong[f"{path}[{i}]"] = [problem]
        elif isinstance(field, serializers.Serializer):
            _walk(field, value, (), f"{path}.", unknown, wrong)


def refuse_additional_properties(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: request bodies are closed objects
    (``additionalProperties: false``), as :func:`valid` refuses a field it does not know."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result
