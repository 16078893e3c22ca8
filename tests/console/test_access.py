"""Who may use the mediator console, and what nobody may do in it."""

from __future__ import annotations

import re
from typing import Any, cast

from django.test import Client

from mediation.models import AuditEntry, Dispute, MediatorProfile
from tests.console.helpers import QUEUE, browser, case_page, case_url
from tests.factories import MediatorProfileFactory, UserFactory
from tests.scenarios import dispute_in


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


def test_access_is_for_mediators_and_superusers(db: Any) -> None:
    sc = dispute_in("escalated")
    url = case_url(sc.dispute)
    # Anonymous: the login page.
    r = browser(None).get(QUEUE)
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    # Parties, the platform and staff without a mediator profile are not mediators.
    staff_only = UserFactory(username="staff_only", is_staff=True)
    for user in (sc["buyer"], sc["owner"], sc["platform"], staff_only):
        client = browser(user)
        for path in (QUEUE, url):
            r = client.get(path)
            assert r.status_code == 302 and "/admin/login/" in r["Location"], (user, path)
    # A mediator without the staff flag is let in: the profile decides.
    profile = cast(
        MediatorProfile,
        MediatorProfileFactory(user__username="plain_mediator", user__is_staff=False),
    )
    plain = profile.user
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (sc["mediator_agent"], plain, superuser):
        client = browser(user)
        assert client.get(QUEUE).status_code == 200
        assert client.get(url).status_code == 200
    # An inactive profile closes the console again.
    MediatorProfile.objects.filter(user=plain).update(active=False)
    plain.refresh_from_db()
    r = browser(plain).get(QUEUE)
    assert r.status_code == 302


def test_the_login_form_lets_mediators_in_and_parties_not(db: Any) -> None:
    sc = dispute_in("escalated")
    for user, allowed in ((sc["mediator_agent"], True), (sc["buyer"], False)):
        user.set_password("pass-for-console-1")
        user.save()
        client = Client()
        r = client.post(
            "/admin/login/?next=/admin/",
            {"username": user.get_username(), "password": "pass-for-console-1"},
        )
        if allowed:
            assert r.status_code == 302 and r["Location"] == "/admin/"
        else:
            assert r.status_code == 200 and "_auth_user_id" not in client.session
            page = r.content.decode()
            assert "This console is for the marketplace&#x27;s mediators." in page
            assert "correct username and password" not in page
    # A wrong password reads as one, whoever the account is.
    r = Client().post(
        "/admin/login/?next=/admin/",
        {"username": sc["buyer"].get_username(), "password": "not-the-password-1"},
    )
    assert r.status_code == 200 and "correct username and password" in r.content.decode()
    assert "for the marketplace" not in r.content.decode()


def test_audit_entries_are_read_only_even_for_superusers(db: Any) -> None:
    sc = dispute_in("under_review")
    entry = AuditEntry.objects.filter(dispute=sc.dispute).first()
    assert entry is not None
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (superuser, sc["mediator_lead"]):
        client = browser(user)
        assert client.get("/admin/mediation/auditentry/").status_code == 200
        assert client.get("/admin/mediation/auditentry/add/").status_code == 403
        change = f"/admin/mediation/auditentry/{entry.pk}/change/"
        r = client.get(change)
        assert r.status_code == 200 and 'name="payload"' not in r.content.decode()
        r = client.post(change, {"action": "x", "payload": "{}"})
        assert r.status_code == 403
        r = client.post(f"/admin/mediation/auditentry/{entry.pk}/delete/", {"post": "yes"})
        assert r.status_code == 403
        r = client.post(
            "/admin/mediation/auditentry/",
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )
        assert AuditEntry.objects.filter(pk=entry.pk).exists()
    entry.refresh_from_db()
    assert entry.action == "raise"


def test_disputes_cannot_be_added_changed_or_deleted_from_the_console(db: Any) -> None:
    sc = dispute_in("under_review")
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (superuser, sc["mediator_lead"]):
        client = browser(user)
        assert client.get(f"{QUEUE}add/").status_code == 403
        r = client.post(case_url(sc.dispute), {"state": "closed", "outcome": "agreement"})
        assert r.status_code == 405
        assert client.post(f"{QUEUE}{sc.id}/delete/", {"post": "yes"}).status_code == 403
        body = client.get(QUEUE).content.decode()
        # The queue's only bulk actions are the team's (console.bulk), each through a service.
        offered = set(re.findall(r'<option value="([a-z_]+)">', body))
        assert "delete_selected" not in body
        assert offered <= {"assign_to_me", "assign_to_mediator", "add_note"}, offered
        assert 'name="state"' not in case_page(client, sc.dispute)
    sc.refresh()
    assert sc.dispute.state == "under_review"


def test_outbox_and_notification_logs_are_read_only_for_everyone(client: Any, demo: Any) -> None:
    from django.contrib.auth import get_user_model

    from mediation.models import Notification, OutboxEvent

    root = get_user_model().objects.create_superuser("root-logs", "root@example.com", "x")
    for user in (demo["mia_agent"], root):
        client.force_login(user)
        for model in (OutboxEvent, Notification):
            base = f"/admin/mediation/{model._meta.model_name}/"
            assert client.get(base).status_code == 200
            assert client.get(base + "add/").status_code == 403
    event = OutboxEvent.objects.first()
    assert event is not None
    client.force_login(root)
    page = client.get(f"/admin/mediation/outboxevent/{event.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/mediation/outboxevent/{event.pk}/delete/").status_code == 403
