"""Every error is application/problem+json with a stable code; bad input never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import AuditEntry, Dispute, Order


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith(code) and body["title"] and body["detail"]
    return body


def test_unknown_api_path_is_problem_json(demo: Any, api: Any) -> None:
    r = api.as_user(demo["alice"]).get("/api/v1/nothing-here/")
    _problem(r, 404, "not_found")


def test_anonymous_is_401(db: Any, api: Any) -> None:
    r = api.as_user(None).get("/api/v1/disputes/")
    body = _problem(r, 401, "not_authenticated")
    assert body["instance"] == "/api/v1/disputes/"
    assert r["WWW-Authenticate"].startswith("Token")


def test_bad_token_is_401(db: Any, api: Any) -> None:
    client = api.as_user(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    _problem(client.get("/api/v1/disputes/"), 401, "authentication_failed")


def test_malformed_json_is_400(demo: Any, api: Any) -> None:
    client = api.as_user(demo["alice"])
    r = client.generic("POST", "/api/v1/disputes/", "{not json", content_type="application/json")
    _problem(r, 400, "invalid")


def test_validation_errors_name_the_fields(demo: Any, api: Any) -> None:
    r = api.as_user(demo["alice"]).post(
        "/api/v1/disputes/", {"order": "x", "reason": "bored"}, format="json"
    )
    body = _problem(r, 400, "invalid")
    assert {"order", "reason", "requested_outcome", "description"} <= set(body["errors"])


@pytest.mark.parametrize(
    "payload",
    [
        {"requested_amount": -1},
        {"requested_amount": 10**20},
        {"requested_amount": "12.50"},
        {"description": "x" * 20_000},
        {"items": ["a"]},
        {"order": None},
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    demo: Any, api: Any, payload: dict[str, Any]
) -> None:
    order = Order.objects.get(external_id="PP-1001")
    body = {
        "order": order.pk,
        "reason": "damaged_or_defective",
        "requested_outcome": "partial_refund",
        "requested_amount": 1000,
        "description": "Crushed.",
        **payload,
    }
    before = (Dispute.objects.count(), AuditEntry.objects.count())
    r = api.as_user(demo["alice"]).post("/api/v1/disputes/", body, format="json")
    _problem(r, 400, "invalid")
    assert (Dispute.objects.count(), AuditEntry.objects.count()) == before


def test_domain_refusal_rolls_back_everything(demo: Any, api: Any) -> None:
    order = Order.objects.get(external_id="PP-1001")
    before = (Dispute.objects.count(), AuditEntry.objects.count())
    r = api.as_user(demo["alice"]).post(
        "/api/v1/disputes/",
        {
            "order": order.pk,
            "reason": "damaged_or_defective",
            "requested_outcome": "partial_refund",
            "requested_amount": 24001,
            "description": "Crushed.",
        },
        format="json",
    )
    body = _problem(r, 422, "amount_exceeds_refundable")
    assert body["refundable"] == 24000
    assert (Dispute.objects.count(), AuditEntry.objects.count()) == before


def test_wrong_method_is_problem_json(demo: Any, api: Any) -> None:
    r = api.as_user(demo["alice"]).delete("/api/v1/disputes/")
    _problem(r, 405, "method_not_allowed")


def test_bad_credentials(db: Any, api: Any) -> None:
    r = api.as_user(None).post(
        "/api/v1/auth/token/", {"username": "nobody", "password": "x"}, format="json"
    )
    _problem(r, 401, "invalid_credentials")


def test_token_for_demo_user(demo: Any, api: Any) -> None:
    r = api.as_user(None).post(
        "/api/v1/auth/token/", {"username": "alice", "password": "demo-pass-123"}, format="json"
    )
    assert r.status_code == 200
    token = r.json()["token"]
    client = api.as_user(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/disputes/").status_code == 200


def test_an_unknown_field_is_refused_not_dropped(demo: Any, api: Any) -> None:
    """A misspelt field would otherwise be dropped and its default applied in silence."""
    order = Order.objects.get(external_id="PP-1001")
    body = {
        "order": order.pk,
        "reason": "not_received",
        "requested_outcome": "partial_refund",
        "requested_amout": 500,
        "description": "Nothing came.",
    }
    r = api.as_user(demo["alice"]).post("/api/v1/disputes/", body, format="json")
    problem = _problem(r, 400, "unknown_field")
    assert problem["fields"] == ["requested_amout"]
    assert "requested_amount" in problem["detail"]
    assert not Dispute.objects.filter(order=order).exists()


def test_read_only_fields_are_not_inputs(demo: Any, api: Any) -> None:
    r = api.as_user(demo["petals_owner"]).post(
        "/api/v1/shops/paper-petals/api-keys/",
        {"name": "Helpdesk", "key": "chosen.by-the-client"},
        format="json",
    )
    assert _problem(r, 400, "unknown_field")["fields"] == ["key"]


@pytest.mark.parametrize("query", ["overdue=maybe", "assigned_to_me=2", "reported_conduct=yes-ish"])
def test_a_filter_given_a_value_it_does_not_take_is_refused(
    demo: Any, api: Any, query: str
) -> None:
    r = api.as_user(demo["mia_agent"]).get(f"/api/v1/disputes/?{query}")
    problem = _problem(r, 400, "invalid")
    assert query.split("=")[0] in problem["errors"]


def test_boolean_filters_take_true_and_false(demo: Any, api: Any) -> None:
    mia = api.as_user(demo["mia_agent"])
    every = {d["id"] for d in mia.get("/api/v1/disputes/?page_size=100").json()["results"]}
    late = {d["id"] for d in mia.get("/api/v1/disputes/?overdue=true").json()["results"]}
    early = {d["id"] for d in mia.get("/api/v1/disputes/?overdue=False").json()["results"]}
    assert late | early == every and not late & early
    assert mia.get("/api/v1/orders/?disputable=1").status_code == 200
