"""The automatic assignment switch in the console: one row, switched by whoever holds its
permissions, read by the next escalation."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission

from mediation.models import AssignmentPolicy
from tests.console.helpers import browser
from tests.factories import UserFactory
from tests.scenarios import make_cast

URL = "/admin/mediation/assignmentpolicy/"


def test_a_lead_given_the_permissions_switches_it_on_once(db: Any) -> None:
    cast = make_cast()
    lead = cast.mediator_lead
    # Without the permissions the console does not offer the switch.
    assert browser(lead).get(f"{URL}add/").status_code == 403
    lead.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "add_assignmentpolicy",
                "change_assignmentpolicy",
                "view_assignmentpolicy",
            ]
        )
    )
    client = browser(lead)
    response = client.post(f"{URL}add/", {"auto_assign": "on"})
    assert response.status_code == 302
    policy = AssignmentPolicy.objects.get()
    assert policy.pk == 1 and policy.auto_assign
    # The one row: no second one, and no deletion.
    assert client.get(f"{URL}add/").status_code == 403
    assert client.post(f"{URL}1/delete/", {"post": "yes"}).status_code == 403
    client.post(f"{URL}1/change/", {})
    assert AssignmentPolicy.objects.get().auto_assign is False


def test_people_outside_the_console_never_switch_it(db: Any) -> None:
    outsider: Any = UserFactory(is_staff=True)
    outsider.user_permissions.add(*Permission.objects.filter(codename__endswith="assignmentpolicy"))
    response = browser(outsider).post(f"{URL}add/", {"auto_assign": "on"})
    assert response.status_code in (302, 403)
    assert not AssignmentPolicy.objects.exists()
