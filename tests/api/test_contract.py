"""The contract says what the server does: openapi.yaml's shape (every operation titled,
every error a Problem, request bodies closed, what webhooks receive), and the server refusing
what the schema does not allow instead of coercing or ignoring it. The schemathesis run
(tests/contract, `make contract`) checks the same against a live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mediation.models import Dispute

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((ROOT / "openapi.yaml").read_text())
OPERATIONS = [
    (method, path, op)
    for path, item in SCHEMA["paths"].items()
    for method, op in item.items()
    if method in ("get", "post", "patch", "put", "delete")
]


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


# --- The document --------------------------------------------------------------------------


def test_every_operation_has_a_summary() -> None:
    untitled = [f"{m.upper()} {p}" for m, p, op in OPERATIONS if not op.get("summary")]
    assert not untitled


def test_every_error_response_is_a_problem() -> None:
    responses = SCHEMA["components"]["responses"]
    for name, response in responses.items():
        content = response["content"]["application/problem+json"]["schema"]
        assert content == {"$ref": "#/components/schemas/Problem"}, name
    for method, path, op in OPERATIONS:
        codes = set(op["responses"])
        assert {"400", "401", "403", "404", "414", "429"} <= codes, (method, path)
        for code, response in op["responses"].items():
            if code >= "400":
                assert response["$ref"].startswith("#/components/responses/"), (path, code)
        if method in ("post", "patch"):
            assert {"409", "413", "415", "422"} <= codes, (method, path)
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert ("412" in codes) == ("If-Match" in headers), (method, path)


def test_request_bodies_are_closed_objects() -> None:
    schemas = SCHEMA["components"]["schemas"]
    requests = {n: s for n, s in schemas.items() if n.endswith("Request")}
    assert requests
    for name, schema in requests.items():
        assert schema["additionalProperties"] is False, name


def _strings_with_branches(node: Any) -> Any:
    """Every ``oneOf`` of string schemas in the document."""
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if isinstance(branches, list) and all(b.get("type") == "string" for b in branches):
            yield node
        for value in node.values():
            yield from _strings_with_branches(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings_with_branches(value)


def test_a_blank_string_is_allowed_by_one_schema_not_two() -> None:
    """A blank-allowed string is one schema whose pattern admits "" (a NUL never); where a
    ``oneOf`` remains (a blank e-mail address), "" matches exactly one of its branches, so
    that neither a validator nor a fuzzer mutating one branch takes "" for invalid."""
    from jsonschema import Draft202012Validator, FormatChecker

    description = SCHEMA["components"]["schemas"]["EvidenceUploadRequest"]["properties"][
        "description"
    ]
    assert "oneOf" not in description, description
    validator = Draft202012Validator(description, format_checker=FormatChecker())
    assert validator.is_valid("") and validator.is_valid("a note")
    assert not validator.is_valid("a\u0000b")
    remaining = list(_strings_with_branches(SCHEMA))
    assert remaining, "the blank e-mail address keeps its two branches"
    for node in remaining:
        matching = [
            b
            for b in node["oneOf"]
            if Draft202012Validator(b, format_checker=FormatChecker()).is_valid("")
        ]
        assert len(matching) == 1, node


NOT_BLANK_PATTERN = SCHEMA["components"]["schemas"]["ContestRequest"]["properties"]["statement"][
    "pattern"
]


def test_a_required_text_pattern_refuses_exactly_what_drf_trims_to_blank() -> None:
    """DRF trims with str.strip(): every character it strips (U+0085 among them, which some
    regex engines' \\s leaves out) is spelt out in the pattern, so that what the schema calls
    valid is never "may not be blank" at the server."""
    import re
    import sys

    # A JSON Schema pattern is an ECMA-262 regex, whose \\s is not Python's: it leaves out
    # U+0085 and U+001C-U+001F (so a fuzzer sent "\\u0085" as valid text) and takes U+FEFF.
    # Only explicit characters mean the same to every engine.
    assert "\\s" not in NOT_BLANK_PATTERN and "\\S" not in NOT_BLANK_PATTERN
    pattern = re.compile(NOT_BLANK_PATTERN)
    whitespace = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert not [c for c in whitespace if pattern.match(c) or pattern.match(f" {c}\t")]
    others = [c for c in map(chr, range(1, 0x3100)) if not c.isspace()]
    assert all(pattern.match(c) for c in others)
    assert pattern.match(" a ") and not pattern.match("a\u0000")


@given(st.from_regex(NOT_BLANK_PATTERN, fullmatch=True))
@hsettings(max_examples=300, deadline=None)
def test_strings_generated_from_the_pattern_are_never_blank_once_trimmed(value: str) -> None:
    # What a fuzzer does with the pattern (hypothesis' from_regex, as schemathesis uses it).
    assert value.strip() != ""


def test_paginated_lists_are_declared_as_pages() -> None:
    for path in (
        "/api/v1/disputes/",
        "/api/v1/orders/",
        "/api/v1/webhook-endpoints/",
        "/api/v1/webhook-endpoints/{endpoint_id}/deliveries/",
        "/api/v1/disputes/{dispute_id}/messages/",
        "/api/v1/disputes/{dispute_id}/timeline/",
    ):
        op = SCHEMA["paths"][path]["get"]
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert {"next", "previous", "results"} <= set(page["properties"]), path
        size = next(p for p in op["parameters"] if p["name"] == "page_size")
        assert size["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}, path


def test_blank_choices_and_nulls_are_declared() -> None:
    dispute = SCHEMA["components"]["schemas"]["Dispute"]["properties"]
    outcome = [alt["$ref"].rsplit("/", 1)[-1] for alt in dispute["outcome"]["oneOf"]]
    assert outcome == ["OutcomeEnum", "BlankEnum"]
    assert "null" in dispute["assigned_to"]["type"]
    ruling = SCHEMA["components"]["schemas"]["Ruling"]["properties"]
    assert "null" in ruling["approver"]["type"]


def test_the_headers_and_downloads_are_described() -> None:
    post = SCHEMA["paths"]["/api/v1/disputes/"]["post"]
    key = next(p for p in post["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["maxLength"] == 255 and key["schema"]["minLength"] == 1
    download = SCHEMA["paths"]["/api/v1/disputes/{dispute_id}/evidence/{evidence_id}/download/"]
    types = set(download["get"]["responses"]["200"]["content"])
    assert {"image/jpeg", "image/png", "application/pdf", "text/plain"} <= types
    case_file = SCHEMA["paths"]["/api/v1/disputes/{dispute_id}/case-file/"]["get"]
    assert set(case_file["responses"]["200"]["content"]) == {"application/zip"}


def test_the_webhook_payload_is_described() -> None:
    event = SCHEMA["webhooks"]["disputeEvent"]["post"]
    ref = event["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"id", "type", "created_at", "data", "refund"} <= set(body["properties"])
    assert "Mediation-Signature" in event["description"]


# --- The server holds to it ------------------------------------------------------------------


@pytest.fixture
def alice(demo: dict[str, Any], api: Any) -> Any:
    return api.as_user(demo["alice"])


def _open_dispute(demo: dict[str, Any]) -> Dispute:
    dispute = Dispute.objects.filter(buyer=demo["alice"]).exclude(state="closed").first()
    assert dispute is not None
    return dispute


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"note": 0}, "note", "Must be a string."),
        ({"note": ["a"]}, "note", "Must be a string."),
        ({"note": True}, "note", "Must be a string."),
    ],
)
def test_a_value_of_another_type_is_refused_not_coerced(
    demo: dict[str, Any], alice: Any, body: dict[str, Any], field: str, message: str
) -> None:
    dispute = _open_dispute(demo)
    r = alice.post(f"/api/v1/disputes/{dispute.pk}/withdraw/", body, format="json")
    assert _problem(r, 400, "invalid")["errors"][field] == [message]
    assert Dispute.objects.get(pk=dispute.pk).state == dispute.state


def test_booleans_and_integers_are_json_types(alice: Any) -> None:
    r = alice.patch("/api/v1/me/notifications/", {"updates": 0}, format="json")
    assert _problem(r, 400, "invalid")["errors"] == {"updates": ["Must be true or false."]}
    r = alice.patch("/api/v1/me/notifications/", {"updates": "false"}, format="json")
    assert _problem(r, 400, "invalid")["errors"] == {"updates": ["Must be true or false."]}
    assert (
        alice.patch("/api/v1/me/notifications/", {"updates": False}, format="json").json()[
            "updates"
        ]
        is False
    )
    r = alice.post("/api/v1/disputes/", {"order": "12", "items": [1, "2"]}, format="json")
    errors = _problem(r, 400, "invalid")["errors"]
    assert errors["order"] == ["Must be an integer."] and errors["items[1]"] == [
        "Must be an integer."
    ]
    assert "reason" in errors and "description" in errors  # with what else is missing


def test_an_integer_written_with_a_fraction_of_zero_is_an_integer(
    demo: dict[str, Any], alice: Any
) -> None:
    order = demo["alice"].orders.filter(external_id="PP-1001").get()
    body = {
        "order": float(order.pk),
        "reason": "damaged_or_defective",
        "requested_outcome": "partial_refund",
        "requested_amount": 1500.0,
        "description": "The bouquet arrived crushed.",
    }
    r = alice.post("/api/v1/disputes/", body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["requested_amount"] == 1500


def test_nested_unknown_fields_are_named(demo: dict[str, Any], api: Any) -> None:
    storefront = api.as_user(demo["storefront"])
    body = {
        "external_id": "SF-1",
        "buyer": "alice",
        "shop": "paper-petals",
        "currency": "USD",
        "total": 1000,
        "placed_at": "2026-11-01T10:00:00Z",
        "items": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": 1000, "colour": "red"}],
    }
    r = storefront.post("/api/v1/orders/", body, format="json")
    assert _problem(r, 400, "unknown_field")["fields"] == ["items[0].colour"]


@pytest.mark.parametrize(
    "query",
    ["?shop=paper-petals&shop=inkwell-studio", "?overdue=", "?overdue=true&overdue=false"],
)
def test_a_filter_given_twice_or_empty_is_refused(alice: Any, query: str) -> None:
    _problem(alice.get(f"/api/v1/disputes/{query}"), 400, "invalid")


def test_a_stats_window_given_empty_or_twice_is_refused(demo: dict[str, Any], api: Any) -> None:
    lead = api.as_user(demo["lee_lead"])
    _problem(lead.get("/api/v1/stats/?until="), 400, "invalid_date")
    _problem(lead.get("/api/v1/stats/?since=2026-01-01&since=2026-02-01"), 400, "invalid_date")
    assert lead.get("/api/v1/stats/?since=2026-01-01").status_code == 200


@pytest.mark.parametrize("key", ["has space", "é-accent", "x" * 256, " "])
def test_an_idempotency_key_is_visible_ascii(demo: dict[str, Any], alice: Any, key: str) -> None:
    dispute = _open_dispute(demo)
    r = alice.post(
        f"/api/v1/disputes/{dispute.pk}/messages/",
        {"body": "Hello"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert _problem(r, 400, "invalid")["field"] == "Idempotency-Key"


def test_ids_beyond_64_bits_are_refused_not_a_500(demo: dict[str, Any], alice: Any) -> None:
    order = demo["alice"].orders.filter(external_id="PP-1001").get()
    body = {
        "order": order.pk,
        "items": [1, -18446744073709551615, 2**64],
        "reason": "missing_parts",
        "requested_outcome": "return_and_refund",
        "description": "Two stems are missing.",
    }
    errors = _problem(alice.post("/api/v1/disputes/", body, format="json"), 400, "invalid")[
        "errors"
    ]
    assert set(errors) == {"items[1]", "items[2]"}
    body.update(order=2**70, items=[])
    _problem(alice.post("/api/v1/disputes/", body, format="json"), 400, "invalid")
    assert alice.get(f"/api/v1/disputes/{2**70}/").status_code == 404
