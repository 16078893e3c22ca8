"""The queue's bulk actions: each case through the assign or note service, per-case refusals
named in one message, nothing half-done."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import AuditEntry, Dispute, MediatorProfile, Message
from tests.console.helpers import QUEUE, browser
from tests.factories import MediatorProfileFactory, ShopMemberFactory
from tests.scenarios import Cast, dispute_in, make_cast


def _escalated(cast: Cast, n: int) -> list[Dispute]:
    return [dispute_in("escalated", cast=cast, order=cast.new_order()).dispute for _ in range(n)]


def _post(client: Any, action: str, disputes: list[Dispute], **data: Any) -> Any:
    return client.post(
        QUEUE,
        {"action": action, ACTION_CHECKBOX_NAME: [d.pk for d in disputes], **data},
        follow=True,
    )


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_queue_offers_the_bulk_actions_by_tier(db: Any) -> None:
    cast = make_cast()
    _escalated(cast, 1)
    agent_page = browser(cast.mediator_agent).get(QUEUE).content.decode()
    assert 'value="assign_to_me"' in agent_page and 'value="add_note"' in agent_page
    assert 'value="assign_to_mediator"' not in agent_page
    assert 'value="delete_selected"' not in agent_page
    lead_page = browser(cast.mediator_lead).get(QUEUE).content.decode()
    assert 'value="assign_to_mediator"' in lead_page


def test_assign_to_me_assigns_each_case_and_names_each_refusal(db: Any) -> None:
    cast = make_cast()
    plain = _escalated(cast, 2)
    appeal = dispute_in("escalated", cast=cast, order=cast.new_order(), by="appeal").dispute
    held = dispute_in("under_review", cast=cast, order=cast.new_order()).dispute
    assert held.assigned_to == cast.mediator_agent
    response = _post(browser(cast.mediator_agent), "assign_to_me", [*plain, appeal, held])
    name = cast.mediator_agent.get_username()
    assert _messages(response) == [
        f"2 assigned to {name}; #{appeal.pk} refused: This appeal must be heard by a senior "
        f"or higher; #{held.pk} unchanged: already assigned to {name}."
    ]
    for d in plain:
        d.refresh_from_db()
        assert d.state == "under_review" and d.assigned_to == cast.mediator_agent
        entry = AuditEntry.objects.filter(dispute=d).order_by("-seq").first()
        assert entry is not None and entry.action == "assign" and entry.actor == cast.mediator_agent
    appeal_before = AuditEntry.objects.filter(dispute=appeal).count()
    appeal.refresh_from_db()
    assert appeal.state == "escalated" and appeal.assigned_to is None
    assert AuditEntry.objects.filter(dispute=appeal).count() == appeal_before


def test_assign_to_a_mediator_lists_who_may_take_each_case_then_assigns(db: Any) -> None:
    cast = make_cast()
    cases = _escalated(cast, 2)
    appeal = dispute_in("escalated", cast=cast, order=cast.new_order(), by="appeal").dispute
    # A mediator who is a member of the shop: a conflict of interest on every case.
    conflicted: MediatorProfile = MediatorProfileFactory(senior=True)  # type: ignore[assignment]
    ShopMemberFactory(shop=cast.shop, user=conflicted.user, role="agent")
    lead = browser(cast.mediator_lead)
    page = _post(lead, "assign_to_mediator", [*cases, appeal])
    assert page.status_code == 200 and page.redirect_chain == []
    body = page.content.decode()
    agent, senior = cast.mediator_agent, cast.mediator_senior
    assert f'value="{agent.pk}"' in body and f'value="{senior.pk}"' in body
    assert f'value="{conflicted.user_id}"' not in body  # listed, but no radio to pick
    assert "a party to it (its buyer or a member of its shop)" in body
    assert "the appeal needs a senior or higher" in body
    # The agent may take the 245.00 refunds, but a ruling on them would wait for approval.
    agent_row = body[body.index(f'<tr data-mediator="{agent.get_username()}">') :]
    agent_row = agent_row[: agent_row.index("</tr>")]
    assert "100.00 USD" in agent_row and "beyond their authority" in agent_row

    response = _post(
        lead, "assign_to_mediator", [*cases, appeal], apply="yes", mediator=str(agent.pk)
    )
    assert _messages(response) == [
        f"2 assigned to {agent.get_username()}; #{appeal.pk} refused: This appeal must be "
        "heard by a senior or higher."
    ]
    assert {d.assigned_to_id for d in Dispute.objects.filter(pk__in=[c.pk for c in cases])} == {
        agent.pk
    }

    # A pick that is not on the list is a form error on the same page, nothing assigned.
    again = _post(
        lead, "assign_to_mediator", [appeal], apply="yes", mediator=str(conflicted.user_id)
    )
    assert "Choose one of the mediators listed." in again.content.decode()
    appeal.refresh_from_db()
    assert appeal.assigned_to is None


def test_only_leads_assign_to_others(db: Any) -> None:
    cast = make_cast()
    cases = _escalated(cast, 1)
    response = _post(
        browser(cast.mediator_agent),
        "assign_to_mediator",
        cases,
        apply="yes",
        mediator=str(cast.mediator_senior.pk),
    )
    # The action is not offered to an agent: the admin says no action was selected.
    assert _messages(response) == ["No action selected."]
    assert Dispute.objects.get(pk=cases[0].pk).assigned_to is None


def test_add_note_to_each_case(db: Any) -> None:
    cast = make_cast()
    cases = _escalated(cast, 3)
    client = browser(cast.mediator_senior)
    form = _post(client, "add_note", cases)
    assert 'name="body"' in form.content.decode()
    empty = _post(client, "add_note", cases, apply="yes", body="   ")
    assert "This field is required." in empty.content.decode()
    assert not Message.objects.filter(dispute__in=cases, internal=True).exists()
    done = _post(client, "add_note", cases, apply="yes", body="Checked with the carrier: lost.")
    assert _messages(done) == ["3 noted."]
    notes = Message.objects.filter(dispute__in=cases, internal=True)
    assert notes.count() == 3 and {m.body for m in notes} == {"Checked with the carrier: lost."}


def test_bulk_assign_costs_the_same_queries_per_case(db: Any) -> None:
    """A fixed cost per case (its own locked transaction), whatever the number selected."""
    cast = make_cast()
    client = browser(cast.mediator_senior)
    counts = []
    for n in (1, 2, 4):
        cases = _escalated(cast, n)
        with CaptureQueriesContext(connection) as ctx:
            response = _post(client, "assign_to_me", cases)
        assert _messages(response)[0].startswith(f"{n} assigned")
        counts.append(len(ctx.captured_queries))
    per_case = counts[1] - counts[0]
    assert counts[2] - counts[1] == 2 * per_case
    assert per_case <= 25, counts


def test_the_mediator_page_costs_the_same_queries_for_few_or_many_mediators(db: Any) -> None:
    cast = make_cast()
    cases = _escalated(cast, 3)
    lead = browser(cast.mediator_lead)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = _post(lead, "assign_to_mediator", cases)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = page_queries()
    for _ in range(6):
        MediatorProfileFactory(senior=True)
    assert page_queries() == few
