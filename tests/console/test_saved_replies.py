"""Saved replies (macros): checked when saved, rendered per case as plain text, offered on
the case page's message and request-for-information forms, shared or personal."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from console.models import SavedReply
from console.replies import Case, Unavailable, check, render
from demo.seed import REPLIES, seed
from mediation.models import Message
from mediation.money import format_money
from tests.console.helpers import act, browser, case_page
from tests.scenarios import dispute_in

URL = "/admin/console/savedreply/"


def _reply(
    owner: Any, body: str, *, kind: str = "message", shared: bool = False, title: str = "R"
) -> SavedReply:
    reply = SavedReply(owner=owner, body=body, kind=kind, shared=shared, title=title)
    reply.full_clean()
    reply.save()
    return reply


def _option(page: str, reply: SavedReply) -> str:
    found = re.search(rf'<option value="{reply.pk}"[^>]*>', page)
    assert found is not None, f"reply {reply.pk} not offered"
    return found.group(0)


def _attr(option: str, name: str) -> str:
    found = re.search(rf' {name}="([^"]*)"', option)
    assert found is not None, (name, option)
    return html.unescape(found.group(1))


def test_an_unknown_or_unclosed_placeholder_is_refused_when_saved() -> None:
    with pytest.raises(ValidationError) as exc:
        check("Hello {{ buyer }}, about {{ order }}", kind="message")
    assert "Unknown placeholder(s): {{ buyer }}." in exc.value.messages[0]
    with pytest.raises(ValidationError):
        check("Hello {{ buyer_name", kind="message")
    with pytest.raises(ValidationError):
        check("Dear {{ party_name }}", kind="message")
    check("Dear {{party_name}}, order {{ order }}", kind="request_info")


def test_placeholders_are_plain_text_never_a_template(db: Any) -> None:
    sc = dispute_in("under_review")
    sc.dispute.buyer.first_name, sc.dispute.buyer.last_name = "<b>Al", "{{ order }}"
    text = render(
        "Hi {{ buyer_name }}: {{ order }} {% now 'Y' %} asks {{ requested_amount }}.",
        Case(sc.dispute, sc["mediator_agent"]),
    )
    # The buyer's name is inserted as it is (escaped where it is shown), never re-read.
    assert text == (
        f"Hi <b>Al {{{{ order }}}}: {sc.dispute.order.external_id} {{% now 'Y' %}} asks "
        f"{format_money(sc.dispute.requested_amount, 'USD')}."
    )
    with pytest.raises(Unavailable, match="no offer has been made"):
        render("{{ offered_amount }}", Case(dispute_in("escalated").dispute, sc["mediator_agent"]))


def test_the_console_refuses_a_reply_with_an_unknown_placeholder(db: Any) -> None:
    sc = dispute_in("escalated")
    client = browser(sc["mediator_agent"])
    response = client.post(
        f"{URL}add/", {"title": "Ask", "kind": "message", "body": "Dear {{ customer }}"}
    )
    assert response.status_code == 200
    assert "Unknown placeholder(s): {{ customer }}" in html.unescape(response.content.decode())
    assert not SavedReply.objects.exists()


def test_personal_and_shared_replies(db: Any) -> None:
    sc = dispute_in("escalated")
    mia, sam, lee = sc["mediator_agent"], sc["mediator_senior"], sc["mediator_lead"]
    # An agent keeps personal replies; the shared box is not theirs to tick.
    r = browser(mia).post(
        f"{URL}add/", {"title": "Mine", "kind": "message", "body": "Hi", "shared": "on"}
    )
    assert r.status_code == 302
    mine = SavedReply.objects.get(title="Mine")
    assert (mine.owner, mine.shared) == (mia, False)
    # A lead curates shared ones.
    assert (
        browser(lee)
        .post(f"{URL}add/", {"title": "Team", "kind": "message", "body": "Hello", "shared": "on"})
        .status_code
        == 302
    )
    team = SavedReply.objects.get(title="Team")
    assert team.shared and team.owner == lee
    sams_list = browser(sam).get(URL).content.decode()
    assert "Team" in sams_list and "Mine" not in sams_list
    # Sam may read the shared reply but not change it.
    browser(sam).post(f"{URL}{team.pk}/change/", {"title": "X", "kind": "message", "body": "X"})
    team.refresh_from_db()
    assert team.title == "Team"
    assert browser(sam).get(f"{URL}{mine.pk}/change/").status_code == 302  # not his: not found


def test_the_case_page_offers_each_reply_rendered_for_the_case(db: Any) -> None:
    sc = dispute_in("under_review")
    mia, d = sc["mediator_agent"], sc.dispute
    greeting = _reply(
        mia,
        "Hello {{ buyer_name }}, about order {{ order }} ({{ requested_amount }}).",
        title="Greeting",
    )
    ask = _reply(
        mia,
        "Dear {{ party_name }}, please send photos of {{ case }}.",
        kind="request_info",
        title="Photos",
        shared=True,
    )
    ruled = _reply(mia, "The ruling: {{ ruled_amount }}.", title="Ruled")
    page = case_page(browser(mia), d)
    option = _option(page, greeting)
    buyer = d.buyer.get_full_name() or d.buyer.get_username()
    assert _attr(option, "data-text") == (
        f"Hello {buyer}, about order {d.order.external_id} "
        f"({format_money(d.requested_amount, d.order.currency)})."
    )
    assert "disabled" in _option(page, ruled) and "no ruling has been made" in _option(page, ruled)
    ask_option = _option(page, ask)
    assert _attr(ask_option, "data-text-buyer") == f"Dear {buyer}, please send photos of #{d.pk}."
    assert _attr(ask_option, "data-text-seller") == (
        f"Dear {d.shop.name}, please send photos of #{d.pk}."
    )
    # Each picker sits in its own form, aimed at that form's text box.
    assert (
        'data-target="id_message_body"' in page and 'data-target="id_request-info_question"' in page
    )
    # Another mediator (a lead may ask too) is offered the shared reply, not Mia's own.
    other = case_page(browser(sc["mediator_lead"]), d)
    assert f'<option value="{ask.pk}"' in other and f'<option value="{greeting.pk}"' not in other


def test_a_message_to_the_parties_from_the_case_page(db: Any) -> None:
    sc = dispute_in("under_review")
    texts = act(browser(sc["mediator_agent"]), sc.dispute, "message", body="We are on it.")
    assert texts == ["Message sent to the parties."]
    message = Message.objects.get(dispute=sc.dispute, body="We are on it.")
    assert not message.internal and message.author == sc["mediator_agent"]


def test_the_demo_team_replies_are_valid_and_render_on_a_demo_case(db: Any) -> None:
    seed()
    seed()  # running it again adds nothing
    assert SavedReply.objects.filter(shared=True).count() == len(REPLIES)
    for reply in SavedReply.objects.all():
        reply.full_clean()
    case = dispute_in("under_review")
    page = case_page(browser(case["mediator_agent"]), case.dispute)
    taking = SavedReply.objects.get(title="Taking the case")
    assert case.dispute.order.external_id in _attr(_option(page, taking), "data-text")
