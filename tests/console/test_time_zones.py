"""Time in the console is unambiguous: every time carries its zone; each mediator picks
theirs (default: the marketplace's TIME_ZONE); the "answer by" picker reads in it and says
so; the API is left in UTC offsets whatever a mediator chose."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from mediation.models import Dispute, MediatorProfile
from tests.console.helpers import act, browser, case_page
from tests.live import ROOT
from tests.scenarios import as_user, dispute_in

PREFERENCES = "/admin/preferences/"


def _choose(client: Any, zone: str) -> Any:
    return client.post(PREFERENCES, {"time_zone": zone}, follow=True)


def test_a_mediator_chooses_a_time_zone_and_every_time_carries_it(db: Any, settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    sc = dispute_in("under_review")
    Dispute.objects.filter(pk=sc.id).update(respond_by=datetime(2031, 1, 15, 12, 0, tzinfo=UTC))
    mediator = sc["mediator_agent"]
    client = browser(mediator)
    # The marketplace's zone until they choose: UTC, named.
    assert "(respond by 2031-01-15 12:00 UTC)" in case_page(client, sc.dispute)
    page = client.get(PREFERENCES).content.decode()
    assert "The marketplace&#x27;s (UTC)" in page and 'href="/admin/preferences/"' in page

    response = _choose(client, "Europe/Berlin")
    assert response.redirect_chain == [(PREFERENCES, 302)]
    assert "Times are now shown in Europe/Berlin (CET)." in response.content.decode()
    assert MediatorProfile.objects.get(user=mediator).time_zone == "Europe/Berlin"
    body = case_page(client, sc.dispute)
    assert "(respond by 2031-01-15 13:00 CET)" in body
    # The audit trail's times too, in the one format.
    audit = client.get("/admin/mediation/auditentry/").content.decode()
    assert " CET" in audit and " UTC" not in audit

    # Another mediator, who chose nothing, still reads UTC.
    other = browser(sc["mediator_senior"])
    assert "(respond by 2031-01-15 12:00 UTC)" in case_page(other, sc.dispute)
    # The API sends the same instant in UTC, whatever the console shows.
    api = as_user(mediator).get(f"/api/v1/disputes/{sc.id}/").json()
    assert api["respond_by"] in {"2031-01-15T12:00:00Z", "2031-01-15T12:00:00+00:00"}


def test_a_zone_that_does_not_exist_is_refused(db: Any) -> None:
    sc = dispute_in("escalated")
    client = browser(sc["mediator_agent"])
    response = _choose(client, "Mars/Olympus_Mons")
    assert response.status_code == 200 and response.redirect_chain == []
    assert "Select a valid choice." in response.content.decode()
    assert MediatorProfile.objects.get(user=sc["mediator_agent"]).time_zone == ""
    # Only mediators keep settings there.
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root-tz", "root@example.com", "x-pass-123")
    assert browser(root).get(PREFERENCES).status_code == 403


def test_the_answer_by_picker_reads_the_mediators_zone(db: Any) -> None:
    sc = dispute_in("under_review")
    client = browser(sc["mediator_agent"])
    _choose(client, "America/New_York")
    assert "In your time zone, America/New_York (E" in case_page(client, sc.dispute)
    year = timezone.now().year + 1
    texts = act(
        client,
        sc.dispute,
        "request-info",
        party="seller",
        question="A photo of the packing, please?",
        respond_by=f"{year}-01-10T09:00",
    )
    assert texts == [f"Asked the seller; the answer is due by {year}-01-10 09:00 EST."]
    stored = Dispute.objects.get(pk=sc.id).respond_by
    assert stored == datetime(year, 1, 10, 14, 0, tzinfo=UTC)  # 09:00 in New York


def test_time_zone_must_be_an_iana_name() -> None:
    env = {**os.environ, "TIME_ZONE": "Central European Time"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "TIME_ZONE='Central European Time' is not an IANA time zone name." in done.stderr
