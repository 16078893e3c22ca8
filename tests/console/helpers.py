"""Helpers of the console tests: a logged-in browser and the case view's forms."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from mediation.models import Dispute

QUEUE = "/admin/mediation/dispute/"


def browser(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def case_url(dispute: Dispute | int) -> str:
    pk = dispute if isinstance(dispute, int) else dispute.pk
    return f"{QUEUE}{pk}/change/"


def act_url(dispute: Dispute | int, action: str) -> str:
    pk = dispute if isinstance(dispute, int) else dispute.pk
    return f"{QUEUE}{pk}/act/{action}/"


def case_page(client: Client, dispute: Dispute | int) -> str:
    response = client.get(case_url(dispute))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rendered_actions(body: str) -> set[str]:
    """The console buttons on a case page, by their action (``data-action``)."""
    return set(
        re.findall(
            r'<form method="post" action="[^"]+" class="console-action" '
            r'data-action="([a-z-]+)"',
            body,
        )
    )


def act(client: Client, dispute: Dispute, action: str, **data: Any) -> list[str]:
    """Post one console form, as the page would (with the dispute's current version and
    audit sequence), follow the redirect back to the case, and return its messages."""
    dispute.refresh_from_db()
    data.setdefault("version", dispute.version)
    data.setdefault("audit_seq", dispute.audit_seq)
    response = client.post(act_url(dispute, action), data, follow=True)
    assert response.redirect_chain == [(case_url(dispute), 302)], response.redirect_chain
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]
