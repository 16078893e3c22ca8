"""Retry-safe POSTs (``Idempotency-Key``), optimistic concurrency (``ETag``/``If-Match``),
conditional GETs (``If-None-Match``) and throttling, all answered per DESIGN §9."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.models import IdempotencyRecord
from mediation.models import AuditEntry, Dispute, Message, Offer, Order

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"].endswith(code) and body["title"] and body["detail"], body
    return body


def _raise_body(order: Order, **extra: Any) -> dict[str, Any]:
    return {
        "order": order.pk,
        "reason": "damaged_or_defective",
        "requested_outcome": "full_refund",
        "description": "The bouquet arrived crushed.",
        **extra,
    }


def _entries(dispute_id: int) -> int:
    return AuditEntry.objects.filter(dispute_id=dispute_id).count()


@pytest.fixture
def alice(demo: dict[str, Any], api: Any) -> APIClient:
    return api.as_user(demo["alice"])


@pytest.fixture
def dispute(alice: APIClient) -> dict[str, Any]:
    """Alice's fresh dispute on PP-1001 (240.00 USD), waiting for Paper Petals."""
    r = alice.post("/api/v1/disputes/", _raise_body(Order.objects.get(external_id="PP-1001")))
    assert r.status_code == 201, r.content
    return r.json()


# --- Idempotency-Key --------------------------------------------------------------------------


def test_dispute_create_is_replayed_not_applied_twice(demo: Any, alice: APIClient) -> None:
    order = Order.objects.get(external_id="PP-1001")
    headers = {"Idempotency-Key": "raise-pp-1001"}
    first = alice.post("/api/v1/disputes/", _raise_body(order), headers=headers)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    again = alice.post("/api/v1/disputes/", _raise_body(order), headers=headers)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["Location"] == first["Location"] and again["ETag"] == first["ETag"]
    assert Dispute.objects.filter(order=order).count() == 1
    assert _entries(first.json()["id"]) == 1
    # Without the key the same request is a new attempt, refused: one dispute per order.
    _problem(alice.post("/api/v1/disputes/", _raise_body(order)), 409, "dispute_already_open")


def test_action_is_replayed_with_its_status_and_etag(demo: Any, api: Any, dispute: Any) -> None:
    did = dispute["id"]
    agent = api.as_user(demo["petals_agent"])
    headers = {"Idempotency-Key": "offer-1"}
    body = {"kind": "partial_refund", "amount": 8000, "note": "Sorry!"}
    first = agent.post(f"/api/v1/disputes/{did}/offer/", body, headers=headers)
    assert first.status_code == 202, first.content  # above the agent's limit: waits
    before = _entries(did)
    again = agent.post(f"/api/v1/disputes/{did}/offer/", body, headers=headers)
    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    assert Offer.objects.filter(dispute_id=did).count() == 1
    assert _entries(did) == before == 2


def test_replay_after_the_dispute_moved_on_is_still_the_first_answer(
    demo: Any, api: Any, alice: APIClient, dispute: Any
) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    headers = {"Idempotency-Key": "owner-offer"}
    body = {"kind": "partial_refund", "amount": 8000}
    first = owner.post(f"/api/v1/disputes/{did}/offer/", body, headers=headers)
    assert first.status_code == 200 and first.json()["state"] == "awaiting_buyer"
    assert alice.post(f"/api/v1/disputes/{did}/accept-offer/", {}).status_code == 200
    entries = _entries(did)
    # A lost response retried later: the first answer, not a 409 for the new state.
    again = owner.post(f"/api/v1/disputes/{did}/offer/", body, headers=headers)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _entries(did) == entries
    # The dispute itself says where it really is.
    assert owner.get(f"/api/v1/disputes/{did}/").json()["state"] == "awaiting_fulfilment"


def test_message_is_replayed_not_posted_twice(demo: Any, alice: APIClient, dispute: Any) -> None:
    did = dispute["id"]
    headers = {"Idempotency-Key": "msg-1"}
    first = alice.post(f"/api/v1/disputes/{did}/messages/", {"body": "Hello?"}, headers=headers)
    assert first.status_code == 201, first.content
    again = alice.post(f"/api/v1/disputes/{did}/messages/", {"body": "Hello?"}, headers=headers)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Message.objects.filter(dispute_id=did).count() == 1
    assert AuditEntry.objects.filter(dispute_id=did, action="message").count() == 1


def test_order_upsert_is_replayed(demo: Any, api: Any) -> None:
    storefront = api.as_user(demo["storefront"])
    body = {
        "external_id": "PP-9001",
        "buyer": "alice",
        "shop": "paper-petals",
        "currency": "USD",
        "total": 5000,
        "shipping": 500,
        "placed_at": "2025-01-02T10:00:00Z",
        "items": [{"sku": "PP-X", "title": "Paper fern", "quantity": 1, "unit_price": 5000}],
    }
    headers = {"Idempotency-Key": "order-9001"}
    first = storefront.post("/api/v1/orders/", body, headers=headers)
    assert first.status_code == 201, first.content
    again = storefront.post("/api/v1/orders/", body, headers=headers)
    # The replay is the first answer, "created", not the 200 of an update.
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.filter(external_id="PP-9001").count() == 1
    # A new key for the same order is a real upsert: an update.
    update = storefront.post("/api/v1/orders/", body, headers={"Idempotency-Key": "order-9001b"})
    assert update.status_code == 200 and "Idempotent-Replayed" not in update


def test_same_key_with_another_body_is_refused(demo: Any, api: Any, dispute: Any) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    headers = {"Idempotency-Key": "offer-k"}
    first = owner.post(
        f"/api/v1/disputes/{did}/offer/",
        {"kind": "partial_refund", "amount": 8000},
        headers=headers,
    )
    assert first.status_code == 200
    entries = _entries(did)
    other = owner.post(
        f"/api/v1/disputes/{did}/offer/",
        {"kind": "partial_refund", "amount": 9000},
        headers=headers,
    )
    _problem(other, 422, "idempotency_key_reused")
    assert "Idempotent-Replayed" not in other
    # The same key on another path (another action) is another request too.
    _problem(
        owner.post(f"/api/v1/disputes/{did}/contest/", {"statement": "No."}, headers=headers),
        422,
        "idempotency_key_reused",
    )
    assert _entries(did) == entries
    assert Offer.objects.filter(dispute_id=did).count() == 1


def test_keys_belong_to_their_user(demo: Any, api: Any) -> None:
    alice, bob = api.as_user(demo["alice"]), api.as_user(demo["bob"])
    headers = {"Idempotency-Key": "shared-key"}
    a = alice.post(
        "/api/v1/disputes/",
        _raise_body(Order.objects.get(external_id="PP-1001")),
        headers=headers,
    )
    b = bob.post(
        "/api/v1/disputes/",
        _raise_body(Order.objects.get(external_id="PP-1003")),
        headers=headers,
    )
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    assert a.json()["id"] != b.json()["id"]
    assert a.json()["buyer"] == "alice" and b.json()["buyer"] == "bob"
    # And bob replaying his own request gets his own answer, never alice's.
    again = bob.post(
        "/api/v1/disputes/",
        _raise_body(Order.objects.get(external_id="PP-1003")),
        headers=headers,
    )
    assert again["Idempotent-Replayed"] == "true" and again.json() == b.json()
    assert IdempotencyRecord.objects.filter(key="shared-key").count() == 2


def test_a_refused_request_applies_nothing(demo: Any, api: Any, dispute: Any) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    headers = {"Idempotency-Key": "too-much"}
    body = {"kind": "partial_refund", "amount": 999_999}
    _problem(
        owner.post(f"/api/v1/disputes/{did}/offer/", body, headers=headers),
        422,
        "amount_exceeds_refundable",
    )
    again = owner.post(f"/api/v1/disputes/{did}/offer/", body, headers=headers)
    _problem(again, 422, "amount_exceeds_refundable")
    assert _entries(did) == 1 and not Offer.objects.filter(dispute_id=did).exists()


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_a_malformed_key_is_invalid(demo: Any, alice: APIClient, key: str) -> None:
    order = Order.objects.get(external_id="PP-1001")
    r = alice.post("/api/v1/disputes/", _raise_body(order), headers={"Idempotency-Key": key})
    _problem(r, 400, "invalid")
    assert not Dispute.objects.filter(order=order).exists()


# --- ETag, If-None-Match, If-Match ------------------------------------------------------------


def test_detail_has_an_etag_and_answers_304_when_unchanged(alice: APIClient, dispute: Any) -> None:
    did = dispute["id"]
    r = alice.get(f"/api/v1/disputes/{did}/")
    tag = r["ETag"]
    assert tag == f'"{did}-{r.json()["version"]}"'
    not_modified = alice.get(f"/api/v1/disputes/{did}/", headers={"If-None-Match": tag})
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == tag and not not_modified.content
    stale = f'"{did}-{r.json()["version"] - 1}"'
    assert (
        alice.get(f"/api/v1/disputes/{did}/", headers={"If-None-Match": stale}).status_code == 200
    )


@pytest.mark.parametrize("form", ["W/{tag}", '"other", {tag}', '{tag} , W/"x"', "*"])
def test_if_none_match_uses_weak_comparison_and_lists(
    alice: APIClient, dispute: Any, form: str
) -> None:
    """RFC 9110 §13.1.2: a list of tags, weak comparison (proxies that compress weaken
    ETags), or ``*`` for any current representation."""
    did = dispute["id"]
    tag = alice.get(f"/api/v1/disputes/{did}/")["ETag"]
    r = alice.get(f"/api/v1/disputes/{did}/", headers={"If-None-Match": form.format(tag=tag)})
    assert r.status_code == 304
    assert r["ETag"] == tag


def test_if_match_current_succeeds_and_answers_the_new_etag(
    demo: Any, api: Any, dispute: Any
) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    tag = owner.get(f"/api/v1/disputes/{did}/")["ETag"]
    r = owner.post(
        f"/api/v1/disputes/{did}/contest/", {"statement": "No."}, headers={"If-Match": tag}
    )
    assert r.status_code == 200, r.content
    assert r["ETag"] != tag
    assert r["ETag"] == f'"{did}-{r.json()["version"]}"'
    assert r["ETag"] == owner.get(f"/api/v1/disputes/{did}/")["ETag"]


def test_if_match_on_an_action_waiting_for_approval(demo: Any, api: Any, dispute: Any) -> None:
    did = dispute["id"]
    agent = api.as_user(demo["petals_agent"])
    tag = agent.get(f"/api/v1/disputes/{did}/")["ETag"]
    body = {"kind": "partial_refund", "amount": 8000}
    r = agent.post(f"/api/v1/disputes/{did}/offer/", body, headers={"If-Match": tag})
    assert r.status_code == 202, r.content
    assert r["ETag"] != tag  # the dispute shows a new (pending) offer: a new version
    _problem(
        agent.post(f"/api/v1/disputes/{did}/offer/", body, headers={"If-Match": tag}),
        412,
        "version_conflict",
    )


def test_stale_if_match_is_412_and_applies_nothing(
    demo: Any, api: Any, alice: APIClient, dispute: Any
) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    stale = owner.get(f"/api/v1/disputes/{did}/")["ETag"]
    assert alice.post(f"/api/v1/disputes/{did}/messages/", {"body": "Any news?"}).status_code == 201
    r = owner.post(f"/api/v1/disputes/{did}/offer/", {"kind": "goodwill", "amount": 500})
    assert r.status_code == 200
    entries = _entries(did)
    for path, body in (
        ("contest", {"statement": "No."}),
        ("escalate", {"reason": "seller_request"}),
    ):
        r = owner.post(f"/api/v1/disputes/{did}/{path}/", body, headers={"If-Match": stale})
        _problem(r, 412, "version_conflict")
    assert _entries(did) == entries
    assert Dispute.objects.get(pk=did).state == "awaiting_buyer"


@pytest.mark.parametrize(
    "header",
    ['"garbage"', "garbage", '"{other}-1"', '"{did}-"', '"{did}-x"', '""', '"{did}-1-2"'],
)
def test_malformed_if_match_is_412(demo: Any, api: Any, dispute: Any, header: str) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    value = header.format(did=did, other=did + 1000)
    r = owner.post(
        f"/api/v1/disputes/{did}/contest/", {"statement": "No."}, headers={"If-Match": value}
    )
    _problem(r, 412, "version_conflict")
    assert _entries(did) == 1


@pytest.mark.parametrize("header", ["*", "W/{tag}"])
def test_if_match_star_or_weak_current_tag_succeeds(
    demo: Any, api: Any, dispute: Any, header: str
) -> None:
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    tag = owner.get(f"/api/v1/disputes/{did}/")["ETag"]
    r = owner.post(
        f"/api/v1/disputes/{did}/contest/",
        {"statement": "No."},
        headers={"If-Match": header.format(tag=tag)},
    )
    assert r.status_code == 200, r.content


def test_if_match_and_idempotency_key_together(demo: Any, api: Any, dispute: Any) -> None:
    """A retried conditional request replays its answer instead of failing the (now stale)
    precondition."""
    did = dispute["id"]
    owner = api.as_user(demo["petals_owner"])
    tag = owner.get(f"/api/v1/disputes/{did}/")["ETag"]
    headers = {"If-Match": tag, "Idempotency-Key": "contest-once"}
    first = owner.post(f"/api/v1/disputes/{did}/contest/", {"statement": "No."}, headers=headers)
    assert first.status_code == 200
    again = owner.post(f"/api/v1/disputes/{did}/contest/", {"statement": "No."}, headers=headers)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]


# --- Throttling -------------------------------------------------------------------------------


@pytest.fixture
def low_rates(settings: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Override the rates in settings. DRF copies ``DEFAULT_THROTTLE_RATES`` onto
    ``SimpleRateThrottle.THROTTLE_RATES`` when the throttling module is imported; its
    ``setting_changed`` handler reloads ``api_settings`` but not that class attribute, so
    point it at the reloaded rates for the length of the test."""
    rates = {"anon": "2/minute", "user": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    assert rates == api_settings.DEFAULT_THROTTLE_RATES
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)
    return rates


def test_the_next_request_above_the_user_rate_is_429(
    demo: Any, api: Any, low_rates: Any, dispute: Any
) -> None:
    alice = api.as_user(demo["alice"])  # the dispute fixture's POST was alice's first
    for _ in range(2):
        assert alice.get("/api/v1/disputes/").status_code == 200
    r = alice.get("/api/v1/disputes/")
    body = _problem(r, 429, "throttled")
    assert int(r["Retry-After"]) >= 1
    assert body["instance"] == "/api/v1/disputes/"
    # A throttled POST changes nothing.
    entries = _entries(dispute["id"])
    r = alice.post(f"/api/v1/disputes/{dispute['id']}/messages/", {"body": "Hello?"})
    _problem(r, 429, "throttled")
    assert _entries(dispute["id"]) == entries
    # Rates are per user.
    assert api.as_user(demo["bob"]).get("/api/v1/disputes/").status_code == 200


def test_the_token_endpoint_is_throttled_per_client(demo: Any, api: Any, low_rates: Any) -> None:
    client = api.as_user(None)
    body = {"username": "alice", "password": "demo-pass-123"}
    for _ in range(2):
        assert client.post("/api/v1/auth/token/", body).status_code == 200
    r = client.post("/api/v1/auth/token/", body)
    _problem(r, 429, "throttled")
    assert int(r["Retry-After"]) >= 1


def test_the_rates_come_back_after_the_override(db: Any, settings: Any) -> None:
    configured = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert configured == SimpleRateThrottle.THROTTLE_RATES == api_settings.DEFAULT_THROTTLE_RATES


def test_a_rate_of_off_counts_nothing(
    demo: Any, api: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``API_THROTTLE_USER=off``: no limit, and no request asks the cache."""
    from django.core.cache import cache

    from config.settings import throttle_rate

    monkeypatch.setenv("API_THROTTLE_USER", "off")
    assert throttle_rate("API_THROTTLE_USER", "600/minute") is None
    monkeypatch.setenv("API_THROTTLE_USER", " 5/second ")
    assert throttle_rate("API_THROTTLE_USER", "600/minute") == "5/second"
    rates = {"anon": "2/minute", "user": None}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)
    alice = api.as_user(demo["alice"])
    asked: list[str] = []
    real_get = cache.get

    def get(key: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", get)
    for _ in range(5):
        assert alice.get("/api/v1/disputes/").status_code == 200
    assert not [key for key in asked if "throttle" in key]
