"""Saved views of the queue: a mediator names the current filters, sort and search, finds
them in the sidebar (their own and the shared ones), replaces or deletes their own."""

from __future__ import annotations

from typing import Any

from console.models import SavedView
from tests.console.helpers import QUEUE, browser
from tests.scenarios import make_cast

SAVE = f"{QUEUE}views/save/"


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_mediator_saves_opens_replaces_and_deletes_a_view(db: Any) -> None:
    cast = make_cast()
    mia, sam = browser(cast.mediator_agent), browser(cast.mediator_senior)
    query = "overdue=yes&state__exact=escalated&p=3&o=6&utm=mail&q=PP-1"
    response = mia.post(SAVE, {"name": "Overdue escalations", "query": query}, follow=True)
    kept = "o=6&overdue=yes&q=PP-1&state__exact=escalated"  # no page, nothing foreign
    assert response.redirect_chain == [(f"{QUEUE}?{kept}", 302)]
    assert _messages(response) == ["Saved the view “Overdue escalations”, shown to you."]
    view = SavedView.objects.get(owner=cast.mediator_agent)
    assert (view.name, view.query, view.shared) == ("Overdue escalations", kept, False)
    page = response.content.decode()
    assert f'<li class="selected">\n      <a href="{QUEUE}?{kept.replace("&", "&amp;")}">' in page
    # The save form keeps what the open queue shows.
    assert f'name="query" value="{kept.replace("&", "&amp;")}"' in page
    # A personal view is nobody else's.
    assert "Overdue escalations" not in sam.get(QUEUE).content.decode()

    # The same name again replaces it; shared, everyone sees it, named by its owner.
    response = mia.post(
        SAVE, {"name": "Overdue escalations", "query": "overdue=yes", "shared": "on"}, follow=True
    )
    assert _messages(response) == [
        "Replaced the view “Overdue escalations”, shown to every mediator."
    ]
    assert SavedView.objects.filter(owner=cast.mediator_agent).count() == 1
    other = sam.get(QUEUE).content.decode()
    assert "Overdue escalations" in other
    assert f"shared by {cast.mediator_agent.get_username()}" in other
    # ... but only its owner deletes it.
    view.refresh_from_db()
    refused = sam.post(f"{QUEUE}views/{view.pk}/delete/", follow=True)
    assert _messages(refused) == ["No such view of yours."]
    assert SavedView.objects.filter(pk=view.pk).exists()
    deleted = mia.post(f"{QUEUE}views/{view.pk}/delete/", follow=True)
    assert _messages(deleted) == ["The saved view was deleted."]
    assert not SavedView.objects.exists()


def test_a_view_needs_a_name_and_a_post(db: Any) -> None:
    cast = make_cast()
    mia = browser(cast.mediator_agent)
    for name in ("", "   ", "x" * 81):
        response = mia.post(SAVE, {"name": name, "query": "overdue=yes"}, follow=True)
        assert _messages(response) == ["A saved view needs a name of 1 to 80 characters."]
    assert not SavedView.objects.exists()
    assert mia.get(SAVE).status_code == 405
    # The console's own rule: parties never reach it.
    assert browser(cast.buyer).post(SAVE, {"name": "x", "query": ""}).status_code == 302
    assert not SavedView.objects.exists()
