"""``GET``/``PATCH /api/v1/me/notifications/``: each person's own email preferences."""

from __future__ import annotations

from typing import Any

import pytest

from mediation.models import NotificationPreference
from tests.factories import UserFactory
from tests.scenarios import as_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/notifications/"
ALWAYS = ["agreed", "closed", "escalated", "info_requested", "ruled"]


def test_everything_is_on_by_default() -> None:
    r = as_user(UserFactory()).get(URL)
    assert r.status_code == 200
    assert r.json() == {"reminders": True, "updates": True, "always_sent": ALWAYS}
    assert not NotificationPreference.objects.exists()  # reading creates nothing


def test_people_change_their_own_preferences_only() -> None:
    alice: Any = UserFactory()
    bob: Any = UserFactory()
    r = as_user(alice).patch(URL, {"reminders": False}, format="json")
    assert r.status_code == 200
    assert r.json()["reminders"] is False and r.json()["updates"] is True
    assert as_user(alice).get(URL).json()["reminders"] is False
    assert as_user(bob).get(URL).json()["reminders"] is True
    r = as_user(alice).patch(URL, {"updates": False, "reminders": True}, format="json")
    assert (r.json()["reminders"], r.json()["updates"]) == (True, False)
    assert NotificationPreference.objects.get().user_id == alice.pk


@pytest.mark.parametrize("field", ["rulings", "ruled", "closures", "escalations", "agreements"])
def test_rulings_and_the_like_cannot_be_turned_off(field: str) -> None:
    r = as_user(UserFactory()).patch(URL, {field: False, "reminders": False}, format="json")
    assert r.status_code == 422
    assert r.json()["code"] == "notification_required"
    assert not NotificationPreference.objects.exists()  # nothing half-applied


def test_unknown_fields_and_bad_values_are_refused() -> None:
    client = as_user(UserFactory())
    r = client.patch(URL, {"newsletter": False}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "unknown_field")
    r = client.patch(URL, {"reminders": "perhaps"}, format="json")
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = client.patch(URL, ["reminders"], format="json")
    assert r.status_code == 400


def test_signed_in_only() -> None:
    assert as_user(None).get(URL).status_code == 401
    assert as_user(None).patch(URL, {"reminders": False}, format="json").status_code == 401
