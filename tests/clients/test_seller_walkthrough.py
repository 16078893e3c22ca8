"""A seller's integration through the generated client (clients/python, ``mediation_client``),
as the README's "A client for sellers" shows it, against the service under gunicorn: its own
database with the demo data, a Celery worker relaying and delivering the webhooks to a
receiver on loopback (:mod:`tests.live`, :class:`tests.outages.Gunicorn`).

The shop's owner logs in, registers a webhook endpoint, lists the disputes waiting for the
shop, makes an offer (twice with one Idempotency-Key: one offer), reads it back, is refused
a second offer while the buyer has to answer, and checks the signed ``dispute.offer_made``
delivery with ``mediation_client.webhooks``; the buyer accepts, and the dispute leaves the
shop's list.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mediation_client import AuthenticatedClient, Client
from mediation_client.api.auth import create_token
from mediation_client.api.dispute_actions import accept_offer, make_offer
from mediation_client.api.disputes import create_dispute, get_dispute, list_disputes
from mediation_client.api.orders import list_orders
from mediation_client.api.webhooks import create_webhook_endpoint
from mediation_client.models import (
    AcceptOfferRequest,
    AllowedActionsEnum,
    DisputeCreateRequest,
    EventsEnum,
    ListDisputesStateItem,
    LoginRequest,
    OfferInputRequest,
    OfferStatusEnum,
    PartyRemedyEnum,
    Problem,
    ReasonEnum,
    StateEnum,
    Token,
    WebhookEndpointCreateRequest,
)
from mediation_client.problems import ApiError, expect
from mediation_client.webhooks import InvalidSignature, parse_webhook, verify_webhook

from tests import live
from tests.outages import Gunicorn
from tests.webhooks.helpers import Received, receiver

# The server's port: apart from the other live servers' (8400-8599).
PORTS = range(18200, 18300)
PASSWORD = "demo-pass-123"  # every demo user's (README "Demo data")
README = Path(__file__).resolve().parents[2] / "README.md"
LOCAL = '"http://127.0.0.1:8000"'  # the README's API address (make run)


def readme_snippet() -> str:
    """The Python block of the README's "A client for sellers" section, as written."""
    section = README.read_text().split("## A client for sellers (Python)", 1)[1]
    section = section.split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README's client section has no Python snippet"
    return match.group(1)


def log_in(base_url: str, username: str) -> AuthenticatedClient:
    token = expect(
        create_token.sync(
            client=Client(base_url=base_url),
            body=LoginRequest(username=username, password=PASSWORD),
        )
    )
    assert isinstance(token, Token) and token.token
    return AuthenticatedClient(base_url=base_url, token=token.token)


def waiting_for_the_shop(owner: AuthenticatedClient) -> list[int]:
    page = expect(list_disputes.sync(client=owner, state=[ListDisputesStateItem.AWAITING_SELLER]))
    assert all(d.state == StateEnum.AWAITING_SELLER for d in page.results)
    assert {d.shop.slug for d in page.results} <= {"paper-petals"}  # petals_owner's only
    return [d.id for d in page.results]


def wait_for(hook: Any, event_type: str, log: Path, worker: Any) -> Received:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [r for r in hook.requests if r.headers["Mediation-Event-Type"] == event_type]
        if found:
            return found[0]
        assert worker.poll() is None, log.read_text()[-4000:]
        time.sleep(0.1)
    raise AssertionError(f"no {event_type} delivery within 120 s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with live.database(tmp_path, prefix="mediation_client") as url:
        yield url


def test_a_sellers_integration_through_the_generated_client(
    tmp_path: Path, database_url: str
) -> None:
    logs = tmp_path / "worker.log"
    with (
        live.broker(redis_db=12) as broker,
        receiver() as hook,
        logs.open("w") as log,
    ):
        # One key for the web process and the worker: the audit chain's HMAC and the rest.
        shared = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(40),
            "WEBHOOKS_ALLOW_PRIVATE_URLS": "1",  # the receiver is on loopback, plain http
        }
        env = live.environment(tmp_path, database_url, broker, **shared)
        live.manage(env, "migrate", "--noinput")
        live.manage(env, "seed_demo")
        server = Gunicorn(tmp_path, DATABASE_URL=database_url, CELERY_BROKER_URL=broker, **shared)
        server.port = live.free_port(PORTS)
        worker = live.worker(env, log)
        try:
            with server:
                walkthrough(f"http://127.0.0.1:{server.port}", hook, logs, worker)
        finally:
            live.stop(worker)


def walkthrough(base_url: str, hook: Any, logs: Path, worker: Any) -> None:
    with pytest.raises(ApiError) as refused:
        expect(
            create_token.sync(
                client=Client(base_url=base_url),
                body=LoginRequest(username="petals_owner", password="not-the-password"),
            )
        )
    assert refused.value.status == 401 and refused.value.code == "invalid_credentials"
    assert isinstance(refused.value.problem, Problem)

    # The README's integration, as written, on the demo's Inkwell Studio (Bob's IW-2003).
    snippet = readme_snippet()
    assert LOCAL in snippet
    readme: dict[str, Any] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(snippet.replace(LOCAL, repr(base_url)), "README.md", "exec"), readme)
    assert printed.getvalue().splitlines() == ["IW-2003 full_refund 2850", "awaiting_buyer"]
    inkwell = log_in(base_url, "inkwell_owner")
    [iw_2003] = expect(list_disputes.sync(client=inkwell, order="IW-2003")).results
    assert iw_2003.state == StateEnum.AWAITING_BUYER
    assert [(o.kind.value, o.amount) for o in iw_2003.offers] == [("partial_refund", 1200)]

    owner = log_in(base_url, "petals_owner")
    endpoint = expect(
        create_webhook_endpoint.sync(
            client=owner,
            body=WebhookEndpointCreateRequest(url=hook.url, events=[EventsEnum.DISPUTE_OFFER_MADE]),
        )
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.active
    before = waiting_for_the_shop(owner)

    # Alice's bouquet arrived crushed (the README's walkthrough): she raises a dispute.
    alice = log_in(base_url, "alice")
    order = expect(list_orders.sync(client=alice, external_id="PP-1001")).results[0]
    raised = expect(
        create_dispute.sync(
            client=alice,
            body=DisputeCreateRequest(
                order=order.id,
                reason=ReasonEnum.DAMAGED_OR_DEFECTIVE,
                requested_outcome=PartyRemedyEnum.FULL_REFUND,
                description="The bouquet arrived crushed.",
            ),
        )
    )
    assert raised.requested_amount == order.refundable == 24000

    # The seller's side: what waits for the shop, and an offer on it.
    waiting = waiting_for_the_shop(owner)
    assert set(waiting) == {*before, raised.id}
    dispute = expect(get_dispute.sync(raised.id, client=owner))
    assert AllowedActionsEnum.OFFER in dispute.allowed_actions
    assert dispute.respond_by is not None

    offer = OfferInputRequest(kind=PartyRemedyEnum.PARTIAL_REFUND, amount=10000, note="So sorry!")
    key = str(uuid.uuid4())
    offered = expect(make_offer.sync(raised.id, client=owner, body=offer, idempotency_key=key))
    assert offered.state == StateEnum.AWAITING_BUYER
    # A retry after a lost answer, with the same key: the first answer, no second offer.
    again = expect(make_offer.sync(raised.id, client=owner, body=offer, idempotency_key=key))
    assert again.to_dict() == offered.to_dict()

    read_back = expect(get_dispute.sync(raised.id, client=owner))
    [made] = read_back.offers
    assert (made.kind.value, made.amount, made.note) == ("partial_refund", 10000, "So sorry!")
    assert made.status == OfferStatusEnum.OPEN and made.author == "petals_owner"
    assert raised.id not in waiting_for_the_shop(owner)

    # The buyer has to answer now: a second offer is refused, with a stable code.
    refused_offer = make_offer.sync(raised.id, client=owner, body=offer)
    assert isinstance(refused_offer, Problem) and refused_offer.status == 409
    assert refused_offer.code == "invalid_transition"
    with pytest.raises(ApiError) as refusal:
        expect(make_offer.sync(raised.id, client=owner, body=offer))
    assert refusal.value.code == "invalid_transition"

    # The webhook of the offer, signed with the endpoint's secret.
    delivery = wait_for(hook, "dispute.offer_made", logs, worker)
    header = delivery.headers["Mediation-Signature"]
    assert verify_webhook(delivery.body, header, endpoint.secret)
    assert not verify_webhook(delivery.body, header, "whsec_someone-elses")
    event = parse_webhook(delivery.body, header, endpoint.secret)
    assert event.type_.value == "dispute.offer_made"
    assert event.data.id == raised.id and event.data.state == StateEnum.AWAITING_BUYER
    assert [o.amount for o in event.data.offers] == [10000]
    assert str(event.id) == delivery.headers["Mediation-Event-Id"]
    assert json.loads(delivery.body)["data"]["shop"]["slug"] == "paper-petals"
    # The README's handler, with this endpoint's secret.
    readme["WEBHOOK_SECRET"] = endpoint.secret
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        readme["on_webhook"](delivery.body, header)
    assert printed.getvalue().split() == ["dispute.offer_made", str(raised.id), "awaiting_buyer"]
    readme["WEBHOOK_SECRET"] = "whsec_someone-elses"
    with pytest.raises(InvalidSignature):
        readme["on_webhook"](delivery.body, header)

    # Alice accepts: the shop owes a partial refund, and the case waits for its delivery.
    accepted = expect(
        accept_offer.sync(raised.id, client=alice, body=AcceptOfferRequest(offer=made.id))
    )
    assert accepted.state == StateEnum.AWAITING_FULFILMENT
    assert accepted.agreement is not None and accepted.agreement.amount == 10000
    assert expect(get_dispute.sync(raised.id, client=owner)).state == StateEnum.AWAITING_FULFILMENT
