"""The case page's saved-reply picker in Chromium: choosing a reply fills the form's text
box with the text rendered for this case; a request for information follows the party
chosen; the message is sent as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.models import SavedReply
from demo.tour import PageProblems, log_in, new_context, shoot
from mediation.models import Message
from tests.scenarios import dispute_in

PASSWORD = "correct horse battery staple 42"


def test_the_picker_fills_the_message_and_the_request(
    transactional_db: Any, live_server: Any, chromium: Any, artifacts: Path
) -> None:
    sc = dispute_in("under_review")
    mia, d = sc["mediator_agent"], sc.dispute
    mia.set_password(PASSWORD)
    mia.save()
    hello = SavedReply.objects.create(
        owner=mia, kind="message", title="Hello", body="Hello {{ buyer_name }}, order {{ order }}."
    )
    ask = SavedReply.objects.create(
        owner=mia,
        kind="request_info",
        title="Photos",
        shared=True,
        body="Dear {{ party_name }}, photos of {{ case }} please.",
    )
    buyer = d.buyer.get_full_name() or d.buyer.get_username()
    problems = PageProblems()
    page = problems.watch(new_context(chromium).new_page())
    log_in(page, live_server.url, mia.get_username(), PASSWORD)
    page.goto(f"{live_server.url}/admin/mediation/dispute/{d.pk}/change/")
    page.wait_for_selector("#case-summary")

    page.select_option("#reply-picker-message", str(hello.pk))
    assert page.input_value("#id_message_body") == (f"Hello {buyer}, order {d.order.external_id}.")
    page.select_option("#id_request-info_party", "buyer")
    page.select_option("#reply-picker-request-info", str(ask.pk))
    assert page.input_value("#id_request-info_question") == (
        f"Dear {buyer}, photos of #{d.pk} please."
    )
    page.select_option("#id_request-info_party", "seller")
    assert page.input_value("#id_request-info_question") == (
        f"Dear {d.shop.name}, photos of #{d.pk} please."
    )
    shoot(page, artifacts / "01-picker.png")

    page.fill("#id_message_body", page.input_value("#id_message_body") + " We are on it.")
    page.click('form.console-action[data-action="message"] input[name="_submit"]')
    page.wait_for_selector(".messagelist .success")
    assert Message.objects.filter(
        dispute=d, internal=False, body=f"Hello {buyer}, order {d.order.external_id}. We are on it."
    ).exists()
    assert problems.errors == []
