"""Registering and managing webhook endpoints through the API; the URL guard."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest

from tests.factories import ShopFactory, ShopMemberFactory
from tests.scenarios import as_user, dispute_in
from tests.webhooks.helpers import README, make_endpoint, readme_snippet
from webhooks import signing, url_guard
from webhooks.models import WebhookDelivery, WebhookEndpoint
from workflows.transitions import PARTY_EVENT_TYPES

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"
PUBLIC = "93.184.215.14"


def _fake_dns(mapping: dict[str, list[str]]) -> Any:
    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            addresses = [str(ipaddress.ip_address(host))]  # a literal resolves to itself
        except ValueError:
            if host not in mapping:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            addresses = mapping[host]
        return [(0, socket.SOCK_STREAM, 6, "", (addr, port)) for addr in addresses]

    return mock.patch("webhooks.url_guard.socket.getaddrinfo", side_effect=getaddrinfo)


@pytest.fixture
def sc() -> Any:
    return dispute_in("awaiting_seller")


def register(user: Any, **body: Any) -> Any:
    body.setdefault("url", "https://hooks.example.com/disputes")
    body.setdefault("events", ["*"])
    return as_user(user).post(URL, body, format="json")


def test_a_registration_with_the_schemas_defaults_is_taken(sc: Any) -> None:
    """What a generated client sends when the optional fields are left as they are: the
    schema's default description (blank) and no shop."""
    r = register(sc["owner"], description="")
    assert r.status_code == 201, r.json()
    assert r.json()["description"] == "" and r.json()["shop"]["slug"] == sc.cast.shop.slug
    r = register(sc["owner"], shop="")
    assert r.status_code == 400 and r.json()["code"] == "invalid", r.json()


def test_the_owner_registers_and_sees_the_secret_once(sc: Any) -> None:
    r = register(sc["owner"], events=["dispute.closed", "dispute.escalated"])
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["events"] == ["dispute.closed", "dispute.escalated"]
    assert body["shop"]["slug"] == sc.cast.shop.slug
    assert body["active"] is True
    assert r["Location"] == f"{URL}{body['id']}/"
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"] and endpoint.created_by == sc["owner"]
    client = as_user(sc["owner"])
    detail = client.get(f"{URL}{body['id']}/").json()
    listing = client.get(URL).json()["results"]
    assert "secret" not in detail and all("secret" not in row for row in listing)
    assert body["secret"] not in str(detail) + str(listing)


def test_event_types_are_checked(sc: Any) -> None:
    r = register(sc["owner"], events=["dispute.escalated", "dispute.exploded"])
    assert (r.status_code, r.json()["code"]) == (400, "unknown_event_type")
    assert r.json()["unknown"] == ["dispute.exploded"]
    r = register(sc["owner"], events=["dispute.internal_note_added"])
    assert (r.status_code, r.json()["code"]) == (400, "unknown_event_type")
    r = register(sc["owner"], events=[])
    assert (r.status_code, r.json()["code"]) == (400, "unknown_event_type")
    r = register(sc["owner"], events=["*", "dispute.closed"])
    assert r.json()["events"] == ["*"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/hooks",
        "https://localhost/hooks",
        "https://internal.example/hooks",  # resolves to a private address
        "https://mixed.example/hooks",  # one public, one private address
        "https://nowhere.invalid/hooks",  # does not resolve
        "http://public.example/hooks",  # plain http
        "https://user:pw@public.example/hooks",
        "ftp://public.example/hooks",
    ],
)
def test_private_and_odd_urls_are_refused(sc: Any, settings: Any, url: str) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    dns = {
        "localhost": ["127.0.0.1", "::1"],
        "internal.example": ["10.0.0.7"],
        "mixed.example": [PUBLIC, "172.16.0.1"],
        "public.example": [PUBLIC],
    }
    with _fake_dns(dns):
        r = register(sc["owner"], url=url)
    assert r.status_code in (400, 422), r.json()
    if r.status_code == 422:
        assert r.json()["code"] == "webhook_url_not_allowed"
        if "nowhere" not in url:
            assert "does not resolve" not in r.json()["detail"], r.json()
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_url_is_accepted(sc: Any, settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with _fake_dns({"public.example": [PUBLIC]}):
        r = register(sc["owner"], url="https://public.example/hooks")
    assert r.status_code == 201, r.json()


def test_loopback_is_allowed_when_the_setting_is_on(sc: Any, settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    r = register(sc["owner"], url="http://127.0.0.1:9999/hooks")
    assert r.status_code == 201, r.json()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    r = register(sc["owner"], url="http://127.0.0.1:9999/hooks")
    assert (r.status_code, r.json()["code"]) == (422, "webhook_url_not_allowed")


@pytest.mark.parametrize(
    "url", [f"https://{PUBLIC}:8443/hooks", f"https://{PUBLIC}:22/hooks", f"https://{PUBLIC}:80/"]
)
def test_ports_outside_the_allow_list_are_refused(sc: Any, settings: Any, url: str) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    r = register(sc["owner"], url=url)
    assert r.status_code == 422, r.json()
    body = r.json()
    assert body["code"] == "webhook_port_not_allowed"
    assert body["allowed_ports"] == [443] and body["port"] == urlsplit(url).port
    assert "443" in body["detail"]
    assert r["Content-Type"].startswith("application/problem+json")
    assert not WebhookEndpoint.objects.exists()


def test_the_default_https_port_and_listed_ports_are_accepted(sc: Any, settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    for url in (f"https://{PUBLIC}/a", f"https://{PUBLIC}:443/b"):
        assert register(sc["owner"], url=url).status_code == 201
    settings.WEBHOOKS_ALLOWED_PORTS = frozenset({443, 8443})
    r = register(sc["owner"], url=f"https://{PUBLIC}:8443/c")
    assert r.status_code == 201, r.json()
    assert url_guard.check_url(f"https://{PUBLIC}:8443/c").port == 8443


def test_changing_the_url_to_another_port_is_refused(sc: Any, settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    endpoint = make_endpoint(sc.cast.shop, f"https://{PUBLIC}/hooks")
    r = as_user(sc["owner"]).patch(
        f"{URL}{endpoint.pk}/", {"url": f"https://{PUBLIC}:9000/hooks"}, format="json"
    )
    assert (r.status_code, r.json()["code"]) == (422, "webhook_port_not_allowed")
    endpoint.refresh_from_db()
    assert endpoint.url == f"https://{PUBLIC}/hooks"


def test_development_mode_lifts_the_port_rule(sc: Any, settings: Any) -> None:
    # Local receivers (and the tests' own) listen on whatever port the system gave them.
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    assert register(sc["owner"], url="http://127.0.0.1:49152/hooks").status_code == 201
    assert url_guard.check_url("http://127.0.0.1:49152/hooks").port == 49152


def test_the_allowed_ports_setting_is_checked() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import port_list

    assert port_list("WEBHOOKS_ALLOWED_PORTS", ["443", "8443"]) == frozenset({443, 8443})
    for bad in (["https"], ["0"], ["70000"], []):
        with pytest.raises(ImproperlyConfigured, match="WEBHOOKS_ALLOWED_PORTS"):
            port_list("WEBHOOKS_ALLOWED_PORTS", bad)


def test_check_url_real_resolver_refuses_localhost(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(url_guard.UrlNotAllowed):
        url_guard.check_url("https://localhost/hooks")


def test_who_may_register(sc: Any) -> None:
    for role in ("agent", "buyer", "mediator_lead"):
        r = register(sc[role])
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    # The platform integration registers for every shop (tests/webhooks/test_platform_endpoints.py).
    r = register(sc["platform"])
    assert r.status_code == 201 and r.json()["shop"] is None
    # The owner of another shop registers for their own shop, never for this one.
    r = register(sc["other_owner"], shop=sc.cast.shop.slug)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = register(sc["other_owner"])
    assert r.json()["shop"]["slug"] == sc.cast.other_shop.slug


def test_an_owner_of_several_shops_names_the_shop(sc: Any) -> None:
    second = ShopFactory(name="Second Shop")
    ShopMemberFactory(shop=second, user=sc["owner"])
    r = register(sc["owner"])
    assert (r.status_code, r.json()["code"]) == (422, "shop_required")
    r = register(sc["owner"], shop=second.slug)
    assert r.status_code == 201 and r.json()["shop"]["slug"] == second.slug


def test_endpoints_of_others_do_not_exist(sc: Any) -> None:
    endpoint = make_endpoint(sc.cast.shop, "https://hooks.example.com/x")
    for role in ("agent", "buyer", "other_owner", "mediator_lead", "platform"):
        client = as_user(sc[role])
        for path in ("", "deliveries/"):
            r = client.get(f"{URL}{endpoint.pk}/{path}")
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), (role, path)
        assert client.get(URL).json()["results"] == []
        r = client.patch(f"{URL}{endpoint.pk}/", {"active": False}, format="json")
        assert r.status_code == 404
        assert client.delete(f"{URL}{endpoint.pk}/").status_code == 404
        assert client.post(f"{URL}{endpoint.pk}/rotate-secret/").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.active


def test_patch_changes_and_reenables(sc: Any, settings: Any) -> None:
    endpoint = make_endpoint(sc.cast.shop, "https://hooks.example.com/x")
    client = as_user(sc["owner"])
    r = client.patch(
        f"{URL}{endpoint.pk}/",
        {"events": ["dispute.closed"], "description": "ERP"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["events"] == ["dispute.closed"]
    r = client.patch(f"{URL}{endpoint.pk}/", {"events": ["nope"]}, format="json")
    assert r.json()["code"] == "unknown_event_type"
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    r = client.patch(f"{URL}{endpoint.pk}/", {"url": "https://10.0.0.1/"}, format="json")
    assert (r.status_code, r.json()["code"]) == (422, "webhook_url_not_allowed")
    # Disabled after failures, then turned back on by the owner.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, consecutive_failures=5, disabled_reason="5 deliveries in a row failed"
    )
    r = client.patch(f"{URL}{endpoint.pk}/", {"active": True}, format="json")
    body = r.json()
    assert (body["active"], body["consecutive_failures"], body["disabled_reason"]) == (True, 0, "")
    r = client.patch(f"{URL}{endpoint.pk}/", {"active": False}, format="json")
    assert r.json()["active"] is False and r.json()["disabled_reason"]


def test_delete(sc: Any) -> None:
    endpoint = make_endpoint(sc.cast.shop, "https://hooks.example.com/x")
    r = as_user(sc["owner"]).delete(f"{URL}{endpoint.pk}/")
    assert r.status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_rotate_secret(sc: Any) -> None:
    endpoint = make_endpoint(sc.cast.shop, "https://hooks.example.com/x")
    old = endpoint.secret
    client = as_user(sc["owner"])
    r = client.post(f"{URL}{endpoint.pk}/rotate-secret/", {}, format="json")
    assert r.status_code == 200, r.json()
    new = r.json()["secret"]
    assert new != old and r.json()["secret_rotated_until"]
    endpoint.refresh_from_db()
    assert signing.signing_secrets(endpoint) == [new, old]
    r = client.post(f"{URL}{endpoint.pk}/rotate-secret/", {"keep_previous_hours": 0})
    endpoint.refresh_from_db()
    assert signing.signing_secrets(endpoint) == [r.json()["secret"]]
    assert "secret" not in client.get(f"{URL}{endpoint.pk}/").json()


def test_redelivery_is_refused_while_the_endpoint_is_off(sc: Any) -> None:
    from mediation.models import OutboxEvent

    endpoint = make_endpoint(sc.cast.shop, "https://hooks.example.com/x", active=False)
    event = OutboxEvent.objects.filter(dispute_id=sc.id).earliest("created_at")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_type=event.type)
    r = as_user(sc["owner"]).post(f"{URL}{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert (r.status_code, r.json()["code"]) == (409, "webhook_endpoint_disabled")
    r = as_user(sc["owner"]).post(f"{URL}{endpoint.pk}/deliveries/{delivery.pk + 99}/redeliver/")
    assert r.status_code == 404


def test_idempotent_registration(sc: Any) -> None:
    client = as_user(sc["owner"])
    body = {"url": "https://hooks.example.com/x", "events": ["*"]}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.count() == 1


def test_the_readme_documents_the_snippet_and_every_event_type() -> None:
    text = README.read_text()
    assert "def verify_signature(header: str, body: bytes, secret: str" in readme_snippet()
    section = text.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    for event_type in PARTY_EVENT_TYPES:
        assert f"`{event_type}`" in section, event_type
    assert "dispute.internal_note_added" not in section
