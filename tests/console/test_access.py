"""The mediator console: mediators can look at every dispute; nobody edits state there."""

from __future__ import annotations

from typing import Any

from django.test import Client

from mediation.models import AuditEntry, Dispute


def test_mediator_sees_the_queue_and_a_case(demo: dict[str, Any]) -> None:
    client = Client()
    client.force_login(demo["mia_agent"])
    r = client.get("/admin/mediation/dispute/")
    assert r.status_code == 200
    assert Dispute.objects.count() >= 7
    dispute = Dispute.objects.get(order__external_id="IW-2005")
    r = client.get(f"/admin/mediation/dispute/{dispute.pk}/change/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "verified (" in body  # the audit chain's status is shown
    assert 'name="state"' not in body  # read-only: no form field for the state


def test_nobody_edits_audit_entries_or_disputes_in_the_console(demo: dict[str, Any]) -> None:
    client = Client()
    client.force_login(demo["mia_agent"])
    entry = AuditEntry.objects.first()
    assert entry is not None
    assert client.get("/admin/mediation/auditentry/add/").status_code == 403
    r = client.post(f"/admin/mediation/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert client.get("/admin/mediation/dispute/add/").status_code == 403


def test_parties_cannot_use_the_console(demo: dict[str, Any]) -> None:
    client = Client()
    client.force_login(demo["petals_owner"])
    r = client.get("/admin/mediation/dispute/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
