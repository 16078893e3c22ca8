"""Credentials: personal tokens that expire and can be revoked, integrations' API keys, and
the login lockout on the token endpoint and the console (issue 13, items 1 to 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.seed import DEMO_PLATFORM_KEY, PASSWORD
from mediation.models import (
    ApiKey,
    AuditEntry,
    CredentialAction,
    CredentialEvent,
    Dispute,
    IntegrationAccount,
    Order,
    ShopMember,
)
from workflows.credentials import issue_token

TOKEN = "/api/v1/auth/token/"
KEYS = "/api/v1/shops/paper-petals/api-keys/"


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


def _login(username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, format="json", **extra
    )


def _client(token: str, scheme: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


def _all_text_in_database() -> str:
    """Every value of every column of the credential tables, as text."""
    with connection.cursor() as cursor:
        rows = []
        for table in ("knox_authtoken", "mediation_apikey"):
            cursor.execute(f"SELECT * FROM {table}")
            rows.extend(cursor.fetchall())
    return repr(rows)


# --- Personal tokens ------------------------------------------------------------------------


def test_each_login_gets_a_new_token_stored_as_a_digest(demo: Any) -> None:
    first, second = _login("alice"), _login("alice")
    assert first.status_code == second.status_code == 200
    a, b = first.json()["token"], second.json()["token"]
    assert a != b
    assert AuthToken.objects.filter(user=demo["alice"]).count() == 2
    stored = _all_text_in_database()
    assert a not in stored and b not in stored
    expires = first.json()["expires_at"]
    assert expires is not None
    ttl: Any = django_settings.REST_KNOX["TOKEN_TTL"]
    lifetime = AuthToken.objects.filter(user=demo["alice"]).order_by("created")[0].expiry
    lifetime -= timezone.now()
    assert ttl - timedelta(minutes=1) < lifetime <= ttl
    for token in (a, b):
        assert _client(token).get("/api/v1/disputes/").status_code == 200


def test_bearer_carries_a_personal_token_too(demo: Any) -> None:
    token = _login("alice").json()["token"]
    assert _client(token, "Bearer").get("/api/v1/disputes/").status_code == 200


def test_an_unknown_bearer_credential_is_refused_not_missing(db: Any) -> None:
    _problem(_client("nothing", "Bearer").get("/api/v1/disputes/"), 401, "authentication_failed")
    _problem(
        _client("abcdefgh.nothing", "Bearer").get("/api/v1/disputes/"),
        401,
        "authentication_failed",
    )


def test_an_expired_token_is_refused_and_removed(demo: Any) -> None:
    token = _login("alice").json()["token"]
    AuthToken.objects.filter(user=demo["alice"]).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    body = _problem(_client(token).get("/api/v1/disputes/"), 401, "authentication_failed")
    assert "expired" in body["detail"]
    assert not AuthToken.objects.filter(user=demo["alice"]).exists()


def test_use_moves_the_expiry_on_up_to_the_maximum(demo: Any) -> None:
    token = _login("alice").json()["token"]
    row = AuthToken.objects.get(user=demo["alice"])
    soon = timezone.now() + timedelta(hours=1)
    AuthToken.objects.filter(pk=row.pk).update(expiry=soon)
    assert _client(token).get("/api/v1/disputes/").status_code == 200
    row.refresh_from_db()
    assert row.expiry > soon + timedelta(hours=20)
    # Never beyond API_TOKEN_MAX_TTL_DAYS after the login.
    max_ttl: Any = django_settings.REST_KNOX["AUTO_REFRESH_MAX_TTL"]
    created = timezone.now() - max_ttl
    AuthToken.objects.filter(pk=row.pk).update(created=created, expiry=soon)
    assert _client(token).get("/api/v1/disputes/").status_code == 200
    row.refresh_from_db()
    assert row.expiry <= soon + timedelta(seconds=1)


def test_logout_revokes_this_token_only(demo: Any) -> None:
    mine, other = _login("alice").json()["token"], _login("alice").json()["token"]
    assert _client(mine).post("/api/v1/auth/logout/").status_code == 204
    _problem(_client(mine).get("/api/v1/disputes/"), 401, "authentication_failed")
    assert _client(other).get("/api/v1/disputes/").status_code == 200


def test_logout_everywhere_revokes_every_token_and_is_recorded(demo: Any) -> None:
    tokens = [_login("alice").json()["token"] for _ in range(3)]
    bob = _login("bob").json()["token"]
    r = _client(tokens[0]).post("/api/v1/auth/logout-all/")
    assert r.status_code == 200 and r.json() == {"tokens_revoked": 3}
    for token in tokens:
        _problem(_client(token).get("/api/v1/disputes/"), 401, "authentication_failed")
    assert _client(bob).get("/api/v1/disputes/").status_code == 200
    event = CredentialEvent.objects.get(action=CredentialAction.LOGGED_OUT_EVERYWHERE)
    assert event.actor == demo["alice"] and event.detail == {"tokens_revoked": 3}
    assert event.client_address == "127.0.0.1"


def test_a_person_holds_at_most_the_configured_number_of_tokens(demo: Any, settings: Any) -> None:
    settings.API_TOKENS_PER_USER = 3
    tokens = [_login("alice").json()["token"] for _ in range(5)]
    assert AuthToken.objects.filter(user=demo["alice"]).count() == 3
    _problem(_client(tokens[0]).get("/api/v1/disputes/"), 401, "authentication_failed")
    assert _client(tokens[-1]).get("/api/v1/disputes/").status_code == 200


def test_expired_token_rows_are_cleared(demo: Any) -> None:
    issue_token(demo["alice"])
    issue_token(demo["bob"])
    AuthToken.objects.filter(user=demo["alice"]).update(
        expiry=timezone.now() - timedelta(minutes=1)
    )
    from workflows.tasks import clear_expired_tokens

    assert clear_expired_tokens() == 1
    assert list(AuthToken.objects.values_list("user__username", flat=True)) == ["bob"]


# --- Login lockout --------------------------------------------------------------------------


def test_the_token_endpoint_locks_an_account_after_repeated_failures(demo: Any) -> None:
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        _problem(_login("alice", "wrong"), 401, "invalid_credentials")
    # The limit-th failure is refused as a lockout, and so is the right password after it,
    # from any address (the count is per account as well as per address).
    _problem(_login("alice", "wrong"), 429, "too_many_attempts")
    r = _login("alice", REMOTE_ADDR="198.51.100.7")
    body = _problem(r, 429, "too_many_attempts")
    assert int(r["Retry-After"]) == int(django_settings.AXES_COOLOFF_TIME.total_seconds())
    assert body["retry_after"] == int(r["Retry-After"])
    # Another account is not affected from another address.
    assert _login("bob", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_the_lockout_ends_after_its_cool_off(demo: Any) -> None:
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login("alice", "wrong")
    _problem(_login("alice"), 429, "too_many_attempts")
    past = timezone.now() - django_settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert _login("alice").status_code == 200


def test_a_success_clears_the_account_count(demo: Any) -> None:
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        _login("alice", "wrong", REMOTE_ADDR="198.51.100.1")
    assert _login("alice", REMOTE_ADDR="198.51.100.2").status_code == 200
    for _ in range(limit - 1):
        _login("alice", "wrong", REMOTE_ADDR="198.51.100.3")
    assert _login("alice", REMOTE_ADDR="198.51.100.4").status_code == 200


def test_one_address_guessing_many_accounts_is_locked(demo: Any) -> None:
    names = ["alice", "bob", "petals_owner", "petals_agent", "inkwell_owner", "mia_agent"]
    for name in names[: django_settings.AXES_FAILURE_LIMIT]:
        _login(name, "wrong", REMOTE_ADDR="203.0.113.9")
    _problem(_login("sam_senior", REMOTE_ADDR="203.0.113.9"), 429, "too_many_attempts")
    assert _login("sam_senior", REMOTE_ADDR="203.0.113.10").status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_lockout(demo: Any) -> None:
    """With no trusted proxy (the default), X-Forwarded-For is the client's own words."""
    names = ["alice", "bob", "petals_owner", "petals_agent", "inkwell_owner", "mia_agent"]
    for i, name in enumerate(names[: django_settings.AXES_FAILURE_LIMIT]):
        _login(name, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    _problem(_login("sam_senior", HTTP_X_FORWARDED_FOR="192.0.2.200"), 429, "too_many_attempts")


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_clients(
    demo: Any, settings: Any
) -> None:
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    names = ["alice", "bob", "petals_owner", "petals_agent", "inkwell_owner", "mia_agent"]
    for name in names[: django_settings.AXES_FAILURE_LIMIT]:
        _login(name, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.50, 10.0.0.2")
    forwarded = "203.0.113.50, 10.0.0.2"
    _problem(_login("sam_senior", HTTP_X_FORWARDED_FOR=forwarded), 429, "too_many_attempts")
    # Another client behind the same proxy is not locked out.
    assert _login("sam_senior", HTTP_X_FORWARDED_FOR="203.0.113.51, 10.0.0.2").status_code == 200


def test_the_console_login_locks_out_too(demo: Any) -> None:
    browser = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        browser.post("/admin/login/", {"username": "mia_agent", "password": "wrong"})
    r = browser.post("/admin/login/?next=/admin/", {"username": "mia_agent", "password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed logins" in r.content.decode()
    assert r["Retry-After"]
    assert "_auth_user_id" not in browser.session
    # Nor does the API hand the account a token meanwhile.
    _problem(_login("mia_agent"), 429, "too_many_attempts")


def test_a_console_login_below_the_limit_works(demo: Any) -> None:
    browser = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert (
            browser.post("/admin/login/", {"username": "mia_agent", "password": "x"}).status_code
            == 200
        )
    r = browser.post("/admin/login/?next=/admin/", {"username": "mia_agent", "password": PASSWORD})
    assert r.status_code == 302
    assert browser.session["_auth_user_id"] == str(demo["mia_agent"].pk)


def test_the_request_rate_is_shared_by_processes(tmp_path: Path) -> None:
    """Two processes (gunicorn's workers) count the anonymous rate in one cache of files."""
    script = (
        "import django, os\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "codes = [c.post('/api/v1/auth/token/', '{}', content_type='application/json')"
        ".status_code for _ in range(4)]\n"
        "print(' '.join(map(str, codes)))\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATA_DIR": str(tmp_path),
        "API_THROTTLE_ANON": "5/minute",
        "DJANGO_HTTPS": "0",
    }
    codes: list[str] = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=django_settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        codes.extend(done.stdout.split())
    assert codes.count("400") == 5 and codes.count("429") == 3, codes


# --- Shops' API keys ------------------------------------------------------------------------


def _owner(demo: Any) -> APIClient:
    return _client(issue_token(demo["petals_owner"])[1])


def _create_key(demo: Any, **body: Any) -> dict[str, Any]:
    r = _owner(demo).post(KEYS, {"name": "Helpdesk", **body}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def _dispute_awaiting_seller(demo: Any) -> Dispute:
    """Alice's new dispute on PP-1001 (Paper Petals), waiting for the shop."""
    order = Order.objects.get(external_id="PP-1001")
    r = _client(issue_token(demo["alice"])[1]).post(
        "/api/v1/disputes/",
        {
            "order": order.pk,
            "reason": "not_received",
            "requested_outcome": "full_refund",
            "description": "Nothing came.",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    return Dispute.objects.get(pk=r.json()["id"])


def test_an_owner_creates_a_key_shown_once_and_stored_as_a_digest(demo: Any) -> None:
    created = _create_key(demo, role="agent", offer_limit=2000, offer_limit_currency="USD")
    key = created["key"]
    assert key.startswith(created["prefix"] + ".")
    assert created["role"] == "agent" and created["offer_limit"] == 2000
    assert created["created_by"] == "petals_owner" and created["revoked"] is False
    assert key not in _all_text_in_database()
    listed = _owner(demo).get(KEYS).json()
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert "key" not in listed[0]
    event = CredentialEvent.objects.get(action=CredentialAction.API_KEY_CREATED)
    assert event.actor == demo["petals_owner"] and event.key_prefix == created["prefix"]
    assert event.shop is not None and event.shop.slug == "paper-petals"
    assert event.detail == {"role": "agent", "offer_limit": 2000, "offer_limit_currency": "USD"}


def test_a_key_acts_as_a_member_of_its_shop_within_its_role(demo: Any) -> None:
    created = _create_key(demo, role="agent", offer_limit=2000)
    key_client = _client(created["key"], "Bearer")
    dispute = _dispute_awaiting_seller(demo)
    assert key_client.get(f"/api/v1/disputes/{dispute.pk}/").status_code == 200
    # Above its limit, its offer waits for an owner, as any agent's.
    r = key_client.post(
        f"/api/v1/disputes/{dispute.pk}/offer/",
        {"kind": "partial_refund", "amount": 3000, "note": "From the helpdesk."},
        format="json",
    )
    assert r.status_code == 202, r.content
    entry = AuditEntry.objects.filter(dispute=dispute).order_by("-seq")[0]
    assert entry.actor_display == "Helpdesk (API key)"
    # The key's last use is recorded.
    listed = _owner(demo).get(KEYS).json()
    assert listed[0]["last_used_at"] is not None
    # It sees nothing of another shop's.
    other = Dispute.objects.filter(shop__slug="inkwell-studio").first()
    if other is not None:
        _problem(key_client.get(f"/api/v1/disputes/{other.pk}/"), 404, "not_found")


def test_an_api_key_header_scheme_works_too(demo: Any) -> None:
    created = _create_key(demo)
    assert _client(created["key"], "Api-Key").get("/api/v1/disputes/").status_code == 200


def test_a_revoked_key_is_refused_and_the_revocation_recorded(demo: Any) -> None:
    created = _create_key(demo)
    key_client = _client(created["key"], "Bearer")
    assert key_client.get("/api/v1/disputes/").status_code == 200
    r = _owner(demo).post(f"{KEYS}{created['prefix']}/revoke/")
    assert r.status_code == 200 and r.json()["revoked"] is True and r.json()["revoked_at"]
    _problem(key_client.get("/api/v1/disputes/"), 401, "authentication_failed")
    assert CredentialEvent.objects.filter(
        action=CredentialAction.API_KEY_REVOKED, key_prefix=created["prefix"]
    ).exists()
    # Revoking again changes nothing.
    assert _owner(demo).post(f"{KEYS}{created['prefix']}/revoke/").status_code == 200
    assert CredentialEvent.objects.filter(action=CredentialAction.API_KEY_REVOKED).count() == 1


def test_only_the_shops_owners_manage_its_keys(demo: Any) -> None:
    agent = _client(issue_token(demo["petals_agent"])[1])
    _problem(agent.post(KEYS, {"name": "Mine"}, format="json"), 403, "forbidden")
    _problem(agent.get(KEYS), 403, "forbidden")
    stranger = _client(issue_token(demo["inkwell_owner"])[1])
    _problem(stranger.get(KEYS), 404, "not_found")
    _problem(stranger.post(KEYS, {"name": "Mine"}, format="json"), 404, "not_found")
    created = _create_key(demo)
    _problem(stranger.post(f"{KEYS}{created['prefix']}/revoke/"), 404, "not_found")


def test_a_key_cannot_make_keys_or_log_anyone_out(demo: Any) -> None:
    created = _create_key(demo, role="owner")
    key_client = _client(created["key"], "Bearer")
    _problem(
        key_client.post(KEYS, {"name": "Another"}, format="json"), 403, "personal_login_required"
    )
    _problem(key_client.post(f"{KEYS}{created['prefix']}/revoke/"), 403, "personal_login_required")
    _problem(key_client.post("/api/v1/auth/logout-all/"), 403, "personal_login_required")
    _problem(key_client.post("/api/v1/auth/logout/"), 403, "not_a_token")


def test_bad_key_input_is_refused(demo: Any, settings: Any) -> None:
    owner = _owner(demo)
    _problem(owner.post(KEYS, {"name": ""}, format="json"), 400, "invalid")
    _problem(owner.post(KEYS, {"name": "x", "role": "mediator"}, format="json"), 400, "invalid")
    _problem(owner.post(KEYS, {"name": "x", "offer_limit": -1}, format="json"), 400, "invalid")
    settings.API_KEYS_PER_SHOP = 2
    _create_key(demo)
    _create_key(demo)
    _problem(owner.post(KEYS, {"name": "Third"}, format="json"), 422, "too_many_api_keys")
    assert (
        ShopMember.objects.filter(shop__slug="paper-petals", user__api_keys__isnull=False).count()
        == 2
    )


# --- The platform's integration --------------------------------------------------------------


def _order_body() -> dict[str, Any]:
    return {
        "external_id": "PP-9001",
        "buyer": "alice",
        "shop": "paper-petals",
        "currency": "USD",
        "total": 1500,
        "placed_at": timezone.now().isoformat(),
    }


def test_the_platform_integration_authenticates_with_its_key(demo: Any) -> None:
    platform = _client(DEMO_PLATFORM_KEY, "Bearer")
    r = platform.post("/api/v1/orders/", _order_body(), format="json")
    assert r.status_code == 201, r.content
    assert Order.objects.filter(external_id="PP-9001").exists()
    # The storefront has no password: the key is the only way in.
    _problem(_login("storefront"), 401, "invalid_credentials")


def test_an_integration_with_a_password_is_told_to_use_a_key(demo: Any) -> None:
    storefront = demo["storefront"]
    storefront.set_password(PASSWORD)
    storefront.save()
    _problem(_login("storefront"), 403, "api_key_required")


def test_create_api_key_prints_a_working_key_once(demo: Any, capsys: Any) -> None:
    call_command("create_api_key", "--integration", "Storefront", "--name", "Order sync")
    out = capsys.readouterr().out
    key = out.split(": ", 1)[1].split()[0]
    assert "not shown again" in out
    assert key not in _all_text_in_database()
    r = _client(key, "Bearer").post("/api/v1/orders/", _order_body(), format="json")
    assert r.status_code == 201, r.content
    assert ApiKey.objects.filter(name="Order sync", shop=None).count() == 1
    assert CredentialEvent.objects.filter(
        action=CredentialAction.API_KEY_CREATED, key_name="Order sync"
    ).exists()


def test_create_api_key_can_create_the_account(db: Any, capsys: Any) -> None:
    with pytest.raises(Exception, match="No integration account"):
        call_command("create_api_key", "--integration", "Backoffice")
    call_command("create_api_key", "--integration", "Backoffice", "--create")
    account = IntegrationAccount.objects.get(name="Backoffice")
    assert not account.user.has_usable_password()
    assert ApiKey.objects.filter(user=account.user).count() == 1


def test_the_console_revokes_a_platform_key(demo: Any) -> None:
    admin = Client()
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-1")
    admin.force_login(root)
    key = ApiKey.objects.get(shop=None)
    r = admin.post(
        "/admin/mediation/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert r.status_code == 302
    _problem(
        _client(DEMO_PLATFORM_KEY, "Bearer").post("/api/v1/orders/", _order_body(), format="json"),
        401,
        "authentication_failed",
    )
    event = CredentialEvent.objects.get(action=CredentialAction.API_KEY_REVOKED)
    assert event.actor == root and event.key_prefix == key.prefix
