"""The links in emails open a page a browser can show: the parties' link is the service's
own read-only page of the dispute while no storefront is configured (``/disputes/<id>/``,
after a login), the mediators' the case in the console; both at the port ``serve`` serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from demo.management.commands.serve import child_environment
from demo.seed import PASSWORD, seed
from mediation.models import Dispute
from notifications import emails
from tests.mailbox import relay_all
from workflows import transitions as t

ROOT = settings.BASE_DIR


@pytest.fixture
def demo_db(db: Any) -> None:
    seed()


def _bobs_review() -> Dispute:
    """Bob's seal dispute under review, with Mia's internal note in its thread."""
    return Dispute.objects.get(order__external_id="IW-2005")


def _logged_in(username: str) -> Client:
    """A browser session of ``username`` (the login form itself: the first test)."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_a_party_logs_in_and_reads_the_dispute(demo_db: None) -> None:
    dispute = _bobs_review()
    page = f"/disputes/{dispute.pk}/"
    client = Client()
    first = client.get(page)
    assert first.status_code == 302
    assert first["Location"] == f"/disputes/login/?next={page}"

    form = client.get(first["Location"])
    assert form.status_code == 200 and b'name="password"' in form.content
    login = client.post(first["Location"], {"username": "bob", "password": PASSWORD, "next": page})
    assert login.status_code == 302 and login["Location"] == page

    shown = client.get(page)
    assert shown.status_code == 200
    assert shown["Content-Type"].startswith("text/html")
    html = shown.content.decode()
    assert f"Dispute #{dispute.pk}: order IW-2005 from Inkwell Studio" in html
    assert "Under review" in html
    assert "I received a different seal design" in html
    assert "The proof was approved by the buyer." in html  # the shop's escalation note
    assert "Check the proof approval email." not in html  # Mia's internal note


def test_the_shop_sees_it_too_and_a_stranger_gets_a_404(demo_db: None) -> None:
    page = f"/disputes/{_bobs_review().pk}/"
    assert _logged_in("inkwell_owner").get(page).status_code == 200
    assert _logged_in("alice").get(page).status_code == 404
    assert _logged_in("petals_owner").get(page).status_code == 404
    assert _logged_in("bob").get("/disputes/999999/").status_code == 404


def test_a_mediator_is_sent_to_the_console(demo_db: None) -> None:
    dispute = _bobs_review()
    answer = _logged_in("mia_agent").get(f"/disputes/{dispute.pk}/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/admin/mediation/dispute/{dispute.pk}/change/"


def test_a_wrong_password_is_refused_on_the_page(demo_db: None) -> None:
    answer = Client().post("/disputes/login/", {"username": "bob", "password": "nope"})
    assert answer.status_code == 200
    assert b"do not match an account" in answer.content


def test_no_page_once_a_storefront_shows_the_disputes(demo_db: None, settings: Any) -> None:
    settings.DISPUTE_PAGES = False
    assert _logged_in("bob").get(f"/disputes/{_bobs_review().pk}/").status_code == 404


def test_the_links_in_emails_open_those_pages(demo_db: None) -> None:
    relay_all()
    mail.outbox.clear()
    bob = Dispute.objects.get(order__external_id="IW-2003")  # waiting for the shop
    order = bob.order
    t.make_offer(
        dispute_id=bob.pk,
        actor=order.shop.members.get(role="owner").user,
        kind="partial_refund",
        amount=1000,
        note="Would 10.00 back help?",
    )
    relay_all()
    to_bob = next(m for m in mail.outbox if m.to == ["bob@example.com"])
    link = f"{settings.SERVICE_URL}/disputes/{bob.pk}/"
    assert link in to_bob.body
    assert "/api/v1/" not in to_bob.body
    html = to_bob.alternatives[0][0]  # type: ignore[attr-defined]
    assert f'href="{link}"' in html
    # The link's path is the page, which shows the new offer once bob logs in.
    shown = _logged_in("bob").get(urlsplit(link).path)
    assert shown.status_code == 200 and b"Would 10.00 back help?" in shown.content

    assert emails.console_url(bob.pk) == (
        f"{settings.SERVICE_URL}/admin/mediation/dispute/{bob.pk}/change/"
    )


def _links_in(env: dict[str, str]) -> dict[str, str]:
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in "
        "('SERVICE_URL', 'STOREFRONT_DISPUTE_URL', 'CONSOLE_CASE_URL', 'DISPUTE_PAGES')}))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_serve_gives_its_processes_the_port_the_links_name() -> None:
    bare = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PORT", "SERVICE_URL", "STOREFRONT_DISPUTE_URL", "CONSOLE_CASE_URL"}
    }
    served = _links_in(child_environment({**bare, "PORT": "8000"}, port=18123))
    assert served == {
        "SERVICE_URL": "http://127.0.0.1:18123",
        "STOREFRONT_DISPUTE_URL": "http://127.0.0.1:18123/disputes/{id}/",
        "CONSOLE_CASE_URL": "http://127.0.0.1:18123/admin/mediation/dispute/{id}/change/",
        "DISPUTE_PAGES": True,
    }
    storefront = _links_in(
        child_environment(
            {
                **bare,
                "SERVICE_URL": "https://disputes.example/",
                "STOREFRONT_DISPUTE_URL": "https://shop.example/disputes/{id}",
            },
            port=18123,
        )
    )
    assert storefront["STOREFRONT_DISPUTE_URL"] == "https://shop.example/disputes/{id}"
    assert storefront["CONSOLE_CASE_URL"] == (
        "https://disputes.example/admin/mediation/dispute/{id}/change/"
    )
    assert storefront["DISPUTE_PAGES"] is False
