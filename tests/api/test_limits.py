"""Bad input never makes a 500: JSON bodies are bounded in depth and size, and every value a
JSON reader could choke on (or two readers could take differently) is a 400 ``invalid``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from api.parsers import LimitedJSONParser, loads, nesting_depth, read_body
from mediation.models import AuditEntry, Dispute, Message, Order
from tests.scenarios import as_user, dispute_in
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

PARSE_TITLE = "The request body could not be parsed"

# Each is at most a few KB: the point is what they do to a parser, not their size.
HOSTILE = {
    "arrays_1000_deep": b"[" * 1000 + b"]" * 1000,
    "objects_1000_deep": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "unclosed_100000_deep": b"[" * 100_000,
    "deep_inside_a_field": b'{"description": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "malformed_utf8": b'{"description": "caf\xc3\x28 \xff\xfe"}',
    "overlong_utf8_slash": b'{"description": "\xc0\xaf"}',
    "nan": b'{"requested_amount": NaN}',
    "infinity": b'{"requested_amount": Infinity}',
    "minus_infinity": b'{"requested_amount": -Infinity}',
    "float_overflow": b'{"requested_amount": 1e999999}',
    "negative_float_overflow": b'{"requested_amount": -1e999999}',
    "integer_of_100000_digits": b'{"requested_amount": ' + b"9" * 100_000 + b"}",
    "duplicate_keys": b'{"reason": "not_received", "reason": "other"}',
    "nested_duplicate_keys": b'{"a": [{"x": 1, "x": 2}]}',
    "lone_high_surrogate": b'{"reason": "\\ud800"}',
    "lone_low_surrogate_in_a_key": b'{"\\udc00": 1}',
    "not_json": b"{not json",
    "truncated": b'{"description": "abc',
    "whitespace_only": b"   ",
}


def _parse_problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert (body["status"], body["code"], body["title"]) == (400, "invalid", PARSE_TITLE)
    assert body["type"] == "urn:mediation:problem:invalid" and body["detail"]
    return body


def _post(client: Any, path: str, body: bytes, method: str = "POST", **headers: Any) -> Any:
    return client.generic(method, path, body, content_type="application/json", **headers)


@pytest.fixture
def sc() -> Any:
    return dispute_in("awaiting_seller")


def _endpoints(sc: Any) -> list[tuple[Any, str, str, dict[str, str]]]:
    """(user, method, path, headers): anonymous and authenticated, several kinds of view."""
    key = {"HTTP_IDEMPOTENCY_KEY": "hostile-1"}
    return [
        (None, "POST", "/api/v1/auth/token/", {}),
        (sc["buyer"], "POST", "/api/v1/disputes/", key),
        (sc["buyer"], "POST", f"/api/v1/disputes/{sc.id}/messages/", {}),
        (sc["owner"], "POST", f"/api/v1/disputes/{sc.id}/offer/", key),
        (sc["owner"], "POST", "/api/v1/webhook-endpoints/", {}),
        (sc["buyer"], "PATCH", "/api/v1/me/notifications/", {}),
        (sc["platform"], "POST", "/api/v1/orders/", {}),
    ]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_json_is_a_400_on_every_endpoint(sc: Any, name: str) -> None:
    before = (
        Dispute.objects.count(),
        AuditEntry.objects.count(),
        Message.objects.count(),
        WebhookEndpoint.objects.count(),
        Order.objects.count(),
    )
    for user, method, path, headers in _endpoints(sc):
        r = _post(as_user(user), path, HOSTILE[name], method, **headers)
        body = _parse_problem(r)
        assert body["instance"] == path
    after = (
        Dispute.objects.count(),
        AuditEntry.objects.count(),
        Message.objects.count(),
        WebhookEndpoint.objects.count(),
        Order.objects.count(),
    )
    assert after == before


def test_the_detail_says_what_is_wrong(sc: Any) -> None:
    client = as_user(sc["buyer"])
    expected = {
        "arrays_1000_deep": "nest more than 32 levels deep",
        "malformed_utf8": "not valid utf-8",
        "nan": "NaN is not a JSON number",
        "float_overflow": "out of range",
        "integer_of_100000_digits": "100000 digits is out of range",
        "duplicate_keys": "'reason' appears twice",
        "lone_high_surrogate": "lone UTF-16 surrogate",
    }
    for name, words in expected.items():
        body = _parse_problem(_post(client, "/api/v1/disputes/", HOSTILE[name]))
        assert words in body["detail"], (name, body["detail"])


def test_anonymous_clients_are_refused_before_their_body_is_read(db: Any) -> None:
    r = _post(as_user(None), "/api/v1/disputes/", HOSTILE["arrays_1000_deep"])
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")


def _nested_list(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return [value] if depth else value


def test_the_depth_limit_is_exact_and_configurable(sc: Any, settings: Any) -> None:
    client = as_user(sc["buyer"])
    at_limit = json.dumps({"items": _nested_list(31)}).encode()  # the object is level 1
    r = _post(client, "/api/v1/disputes/", at_limit)
    # Parsed: the serializer, not the parser, refuses it (and names the fields).
    assert r.status_code == 400 and r.json()["title"] == "The request is not valid"
    assert "items[0]" in r.json()["errors"]
    over = json.dumps({"items": _nested_list(32)}).encode()
    assert "32 levels" in _parse_problem(_post(client, "/api/v1/disputes/", over))["detail"]
    settings.API_JSON_MAX_DEPTH = 3
    assert (
        "3 levels"
        in _parse_problem(_post(client, "/api/v1/disputes/", b'{"items": [[[1]]]}'))["detail"]
    )


def test_brackets_and_escapes_inside_strings_are_text(sc: Any) -> None:
    text = "[" * 5000 + '{"\\' + "}" * 10 + "\U0001f600"
    payload = json.dumps({"body": text}).encode()
    r = _post(as_user(sc["buyer"]), f"/api/v1/disputes/{sc.id}/messages/", payload)
    assert r.status_code == 201, r.content[:300]
    assert Message.objects.get(pk=r.json()["id"]).body == text
    # A surrogate pair written as escapes is one character, not a lone surrogate.
    pair = b'{"body": "\\ud83d\\ude00 fine"}'
    r = _post(as_user(sc["buyer"]), f"/api/v1/disputes/{sc.id}/messages/", pair)
    assert r.status_code == 201 and r.json()["body"] == "\U0001f600 fine"


def test_an_oversized_body_is_a_413(sc: Any, settings: Any) -> None:
    client = as_user(sc["buyer"])
    path = f"/api/v1/disputes/{sc.id}/messages/"
    big = json.dumps({"body": "x" * (2_621_440 + 10)}).encode()  # the default limit, 2.5 MB
    r = _post(client, path, big)
    assert r.status_code == 413, r.content[:300]
    assert r["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert (body["code"], body["status"]) == ("request_too_large", 413)
    assert "2621440 bytes" in body["detail"] and body["limit"] == 2_621_440
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    r = _post(client, path, json.dumps({"body": "y" * 100}).encode())
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")
    assert _post(client, path, b'{"body": "short"}').status_code == 201
    assert list(Message.objects.filter(dispute_id=sc.id).values_list("body", flat=True)) == [
        "short"
    ]


def test_an_oversized_body_is_a_413_for_anonymous_clients_too(db: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"username": "u" * 2000, "password": "p"}).encode()
    r = _post(as_user(None), "/api/v1/auth/token/", body)
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


def test_an_address_beyond_the_url_limit_is_a_414_problem(sc: Any, settings: Any) -> None:
    """A query string of thousands of characters (a fuzzer's repeated parameters) is 414
    ``uri_too_long``, as problem+json, for anyone and on any route; up to the limit it is
    read as usual."""
    limit = settings.MAX_URL_LENGTH
    path = "/api/v1/disputes/?state=closed"
    padding = "&page_size=1" * ((limit - len(path)) // len("&page_size=1") + 1)
    client = as_user(sc["buyer"])
    for who, c in (("buyer", client), ("anonymous", APIClient())):
        response = c.get(path + padding)
        assert response.status_code == 414, (who, response.content)
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "uri_too_long" and str(limit) in body["detail"], body
    for url in ("/admin/?q=" + "x" * limit, "/readyz?" + "x" * limit):
        assert client.get(url).status_code == 414, url
    fits = "/api/v1/disputes/?search=" + "x" * (limit - len("/api/v1/disputes/?search="))
    assert len(fits) == limit
    assert client.get(fits).status_code == 200


def test_oversized_text_fields_of_an_evidence_upload_are_a_413(sc: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")
    r = as_user(sc["buyer"]).post(
        f"/api/v1/disputes/{sc.id}/evidence/",
        {"file": photo, "description": "d" * 5000},
        format="multipart",
    )
    assert (r.status_code, r.json()["code"]) == (413, "request_too_large")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@hsettings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_nesting_depth_counts_what_the_decoder_would_recurse_into(value: Any) -> None:
    text = json.dumps(value)
    assert nesting_depth(text) == _depth(value)
    assert loads(text, depth=_depth(value)) == value
    if _depth(value):
        with pytest.raises(ValueError, match="levels deep"):
            loads(text, depth=_depth(value) - 1)


def test_depth_is_measured_without_recursion() -> None:
    assert nesting_depth("[" * 2_000_000) == 2_000_000
    assert nesting_depth('["]]]]", {"a": "[[["}]') == 2


@pytest.mark.parametrize("field", ["total", "shipping", "unit_price"])
def test_order_amounts_beyond_the_databases_integers_are_a_400(sc: Any, field: str) -> None:
    # A 64-bit column cannot hold 10**30: the serializer refuses it instead of the database.
    item = {"sku": "a", "title": "Vase", "quantity": 1, "unit_price": 500}
    body: dict[str, Any] = {
        "external_id": "HUGE-1",
        "buyer": "zed",
        "shop": sc.dispute.order.shop.slug,
        "currency": "USD",
        "total": 500,
        "placed_at": "2026-01-01T00:00:00Z",
        "items": [item],
    }
    if field == "unit_price":
        item["unit_price"] = 10**30
    else:
        body[field] = 10**30
    r = as_user(sc["platform"]).post("/api/v1/orders/", body, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "invalid"), r.content[:300]
    assert not Order.objects.filter(external_id="HUGE-1").exists()


def test_the_parser_reads_no_further_than_the_limit(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    assert read_body(io.BytesIO(b"0123456789"), 10) == b"0123456789"
    stream = io.BytesIO(b"[" + b" " * 1_000_000 + b"]")
    with pytest.raises(RequestDataTooBig, match="10 bytes"):
        LimitedJSONParser().parse(stream, "application/json", {})
    assert stream.tell() == 11  # the limit and one byte more, not the megabyte
    assert LimitedJSONParser().parse(io.BytesIO(b"[1, 2]"), "application/json", {}) == [1, 2]
