"""``manage.py seed_demo --reset``: the walkthrough can be run twice. After a reset the
database holds what a first seed writes (the same ids too), the uploaded files and the
signed audit checkpoints of the erased chains are gone, and every audit chain verifies."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from rest_framework.test import APIClient

from demo.seed import KEPT_TABLE_PREFIXES, PASSWORD, migration_defaults, seed
from mediation import audit_anchor
from mediation.models import Dispute, Evidence, Order
from tests.evidence.files import png

# The ids from 1 in each test, as in a fresh database and after the reset.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


@pytest.fixture(autouse=True)
def _freshly_migrated() -> None:
    """The rows the migrations wrote, which an earlier transactional test's flush took:
    the state a first `make run` seeds into."""
    migration_defaults()


# Fields that a second seed cannot repeat: the times it ran at, what is derived from them
# (the audit hashes cover each entry's time; Message-IDs and the outbox's payloads carry
# it), salted password hashes, random token digests and random ids (UUIDs).
UNREPEATABLE = (models.DateTimeField, models.DateField, models.UUIDField)
UNREPEATABLE_NAMES = {
    "password",
    "hash",
    "prev_hash",
    "audit_head",
    "payload",
    "message_id",
    "headers",
    "body_text",
    "body_html",
    "digest",
    "token_key",
    "salt",
}


def _state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a reset erases, by model, without the unrepeatable fields."""
    state = {}
    for model in apps.get_models():
        if model._meta.db_table.startswith(KEPT_TABLE_PREFIXES) or not model._meta.managed:
            continue
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if not isinstance(f, UNREPEATABLE) and f.name not in UNREPEATABLE_NAMES
        ]
        rows = list(model._base_manager.order_by("pk").values_list(*names))
        if not isinstance(model._meta.pk, models.AutoField):
            rows.sort(key=repr)  # random keys (UUIDs, digests): no order a seed repeats
        state[model._meta.label] = rows
    return state


def _login(client: APIClient, username: str) -> None:
    answer = client.post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200, answer.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")


def _play_the_walkthrough() -> None:
    """The README's story, partly, through the API: a dispute, an offer, a message, an
    uploaded photo, a failed login; and the heads anchored in a checkpoint."""
    alice, owner = APIClient(), APIClient()
    _login(alice, "alice")
    _login(owner, "petals_owner")
    order = alice.get("/api/v1/orders/?external_id=PP-1001").json()["results"][0]["id"]
    raised = alice.post(
        "/api/v1/disputes/",
        {
            "order": order,
            "reason": "damaged_or_defective",
            "requested_outcome": "full_refund",
            "description": "The bouquet arrived crushed.",
        },
        format="json",
    )
    assert raised.status_code == 201, raised.content
    dispute = raised.json()["id"]
    offer = owner.post(
        f"/api/v1/disputes/{dispute}/offer/",
        {"kind": "partial_refund", "amount": 10000, "note": "100.00 back?"},
        format="json",
    )
    assert offer.status_code == 200, offer.content
    message = alice.post(
        f"/api/v1/disputes/{dispute}/messages/", {"body": "Photos attached."}, format="json"
    )
    assert message.status_code == 201, message.content
    photo = io.BytesIO(png())
    photo.name = "crushed.png"
    upload = alice.post(
        f"/api/v1/disputes/{dispute}/evidence/",
        {"file": photo, "description": "The box", "kind": "photo"},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    refused = APIClient().post(
        "/api/v1/auth/token/", {"username": "bob", "password": "wrong"}, format="json"
    )
    assert refused.status_code in (400, 401)
    audit_anchor.anchor_heads()


def _verify_audit() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_reset_restores_a_fresh_seed() -> None:
    seed()
    fresh = _state()
    assert Dispute.objects.count() == 7
    # What is compared: the demo's disputes with their audit chains and outbox, its people.
    for label in ("mediation.Dispute", "mediation.AuditEntry", "mediation.OutboxEvent"):
        assert len(fresh[label]) >= 7, label
    assert len(fresh["auth.User"]) == 9

    _play_the_walkthrough()
    changed = _state()
    assert changed != fresh
    (evidence,) = Evidence.objects.all()
    uploaded = evidence.file.name
    assert uploaded and default_storage.exists(uploaded)
    assert audit_anchor.checkpoint_names()

    out = io.StringIO()
    call_command("seed_demo", "--reset", "--noinput", stdout=out)

    assert "Demo data ready: 9 users" in out.getvalue()
    assert "1 uploaded files and 1 audit checkpoints" in out.getvalue()
    after = _state()
    assert after.keys() == fresh.keys()
    for label in fresh:
        assert after[label] == fresh[label], label
    assert not default_storage.exists(uploaded)
    assert audit_anchor.checkpoint_names() == []
    # The walkthrough's starting point again: PP-1001 has no dispute.
    assert not Dispute.objects.filter(order__external_id="PP-1001").exists()
    assert "PP-1001" in set(Order.objects.values_list("external_id", flat=True))

    # Every chain verifies, on its own and once anchored anew.
    _verify_audit()
    audit_anchor.anchor_heads()
    _verify_audit()


def test_the_walkthrough_runs_again_after_a_reset() -> None:
    seed()
    _play_the_walkthrough()
    call_command("seed_demo", "--reset", "--noinput", stdout=io.StringIO())
    # The same steps succeed a second time: the dispute can be raised again, the logins
    # work (bob's failed login is forgotten), the anchors follow on from nothing.
    _play_the_walkthrough()
    _verify_audit()


def test_reset_asks_first(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    _play_the_walkthrough()
    before = Dispute.objects.count()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Reset cancelled: nothing was changed"):
        call_command("seed_demo", "--reset", stdout=io.StringIO())
    assert Dispute.objects.count() == before
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("seed_demo", "--reset", stdout=io.StringIO())
    assert Dispute.objects.count() == 7


def test_seeding_again_without_reset_changes_nothing() -> None:
    seed()
    _play_the_walkthrough()
    changed = _state()
    call_command("seed_demo", stdout=io.StringIO())
    assert _state() == changed
