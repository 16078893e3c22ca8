"""Query budgets of the API: no N+1 on lists, a bounded number of queries per request.

The tests run inside a transaction, so every ``atomic()`` block of a use case adds a
SAVEPOINT and a RELEASE. Those of nested blocks count; the outermost pair does not, because
in a real request it is the transaction's own BEGIN and COMMIT, which no budget counts (and
Django does not log). On a failure the captured SQL is printed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from mediation.models import (
    Dispute,
    MediatorProfile,
    Message,
    Order,
    OrderItem,
    Shop,
    ShopMember,
    ShopPolicy,
    Tier,
)
from workflows import conversation
from workflows import transitions as t
from workflows.credentials import issue_token

DETAIL_BUDGET = 5
# A mediator's detail carries the party history: the rollup's sums and the shop's row (one
# read), the buyer's disputes and the buyer's orders.
PARTY_HISTORY_READS = 3
# The dashboard's rollups (mediation.rollups) take one upsert per table a change moves:
# the day counts, the shop's counts, the refunds.
ROLLUP_WRITES = 3
# Whether a webhook endpoint listens, for the outbox rows' snapshot (none here: one read).
WEBHOOK_LOOK = 1
ACTION_BUDGET = 10 + ROLLUP_WRITES + WEBHOOK_LOOK

_seq = itertools.count(1)


# --- A small cast of its own, so that row counts are exact ---------------------------------


@dataclass
class Cast:
    shop: Shop
    buyer: Any
    owner: Any
    agent: Any
    mia: Any  # mediator, tier agent, 100.00 USD
    sam: Any  # mediator, tier senior, 1,000.00 USD
    lee: Any  # mediator, tier lead, unlimited
    storefront: Any  # the platform integration

    def client(self, user: Any) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)[1]}")
        return client

    def order(self, total: int = 24000, shipping: int = 0) -> Order:
        n = next(_seq)
        order = Order.objects.create(
            external_id=f"QC-{n}",
            buyer=self.buyer,
            shop=self.shop,
            currency="USD",
            total=total,
            shipping=shipping,
            placed_at=timezone.now() - timedelta(days=10),
        )
        OrderItem.objects.create(
            order=order, sku=f"QC-SKU-{n}", title="Paper peony", quantity=1, unit_price=total
        )
        return order


def _user(name: str, **extra: Any) -> Any:
    user = get_user_model()(username=f"{name}-{next(_seq)}", first_name=name.title(), **extra)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def cast(db: Any) -> Cast:
    from mediation.models import IntegrationAccount

    shop = Shop.objects.create(slug=f"qc-shop-{next(_seq)}", name="Query Count Petals")
    ShopPolicy.objects.create(
        shop=shop,
        version=1,
        text="Returns in 30 days.",
        effective_from=timezone.now() - timedelta(days=365),
    )
    owner, agent = _user("owner"), _user("agent")
    ShopMember.objects.create(shop=shop, user=owner, role="owner")
    ShopMember.objects.create(
        shop=shop, user=agent, role="agent", offer_limit=5000, offer_limit_currency="USD"
    )
    mediators = {}
    for name, tier, authority in (
        ("mia", Tier.AGENT, {"USD": 10000}),
        ("sam", Tier.SENIOR, {"USD": 100000}),
        ("lee", Tier.LEAD, {}),
    ):
        mediators[name] = _user(name, is_staff=True)
        MediatorProfile.objects.create(user=mediators[name], tier=tier, authority=authority)
    storefront = _user("storefront")
    IntegrationAccount.objects.create(user=storefront, name="Storefront")
    return Cast(
        shop=shop,
        buyer=_user("buyer"),
        owner=owner,
        agent=agent,
        storefront=storefront,
        **mediators,
    )


# --- Disputes in every state, through the services -----------------------------------------


def _raise(c: Cast, outcome: str = "full_refund", amount: int | None = None) -> Dispute:
    return t.raise_dispute(
        actor=c.buyer,
        order_id=c.order().pk,
        reason="damaged_or_defective",
        requested_outcome=outcome,
        requested_amount=amount,
        description="Crushed in transit.",
    ).dispute


def _escalated(c: Cast) -> Dispute:
    d = _raise(c)
    t.escalate(dispute_id=d.pk, actor=c.owner, reason="seller_request")
    return d


def _under_review(c: Cast) -> Dispute:
    d = _escalated(c)
    t.assign(dispute_id=d.pk, actor=c.mia)
    return d


def _pending_approval(c: Cast) -> Dispute:
    d = _under_review(c)
    t.rule(dispute_id=d.pk, actor=c.mia, kind="full_refund", amount=24000, rationale="Crushed.")
    return d


def _ruled(c: Cast) -> Dispute:
    d = _pending_approval(c)
    t.approve_ruling(dispute_id=d.pk, actor=c.sam, note="Agreed.")
    return d


def _awaiting_buyer(c: Cast) -> Dispute:
    d = _raise(c)
    t.make_offer(dispute_id=d.pk, actor=c.owner, kind="partial_refund", amount=3000)
    return d


def _agreed(c: Cast, kind: str, amount: int | None = None) -> Dispute:
    d = _raise(c, kind, amount)
    t.accept_request(dispute_id=d.pk, actor=c.owner)
    return d


def _closed_after_ruling(c: Cast) -> Dispute:
    d = _ruled(c)
    t.fulfil(dispute_id=d.pk, actor=c.storefront, kind="refund", amount=24000, reference="re_1")
    return d


def _agreed_return(c: Cast) -> Dispute:
    return _agreed(c, "return_and_refund")


def _agreed_replacement(c: Cast) -> Dispute:
    return _agreed(c, "replacement")


def _with_messages(c: Cast) -> Dispute:
    d = _awaiting_buyer(c)
    conversation.post_message(dispute_id=d.pk, actor=c.owner, body="We are sorry.")
    return d


MAKERS: list[Callable[[Cast], Dispute]] = [
    _raise,
    _awaiting_buyer,
    _escalated,
    _under_review,
    _pending_approval,
    _ruled,
    _closed_after_ruling,
    _agreed_return,
    _agreed_replacement,
]


def _statements(captured: list[dict[str, Any]]) -> list[str]:
    """The captured SQL without the outermost SAVEPOINT/RELEASE pairs (see above)."""
    sql = [q["sql"] for q in captured]
    depth, kept = 0, []
    for statement in sql:
        if statement.startswith("SAVEPOINT"):
            depth += 1
            if depth == 1:
                continue
        elif statement.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            depth -= 1
            if depth == 0:
                continue
        kept.append(statement)
    return kept


@contextmanager
def _at_most(budget: int, label: str) -> Iterator[CaptureQueriesContext]:
    with CaptureQueriesContext(connection) as ctx:
        yield ctx
    statements = _statements(ctx.captured_queries)
    if len(statements) > budget:
        sql = "\n".join(f"  {i}. {q}" for i, q in enumerate(statements, 1))
        pytest.fail(f"{label}: {len(statements)} queries > {budget}:\n{sql}")


def _count(client: APIClient, url: str) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return len(ctx.captured_queries), len(rows), [q["sql"] for q in ctx.captured_queries]


# --- GET detail -------------------------------------------------------------------------------


@pytest.mark.parametrize("maker", MAKERS, ids=lambda m: m.__name__.strip("_"))
def test_dispute_detail_query_budget(cast: Cast, maker: Any) -> None:
    dispute = maker(cast)
    for viewer in ("buyer", "owner", "agent", "mia", "sam", "lee", "storefront"):
        client = cast.client(getattr(cast, viewer))
        budget = DETAIL_BUDGET + (PARTY_HISTORY_READS if viewer in ("mia", "sam", "lee") else 0)
        with _at_most(budget, f"GET detail as {viewer}"):
            response = client.get(f"/api/v1/disputes/{dispute.pk}/")
        assert response.status_code == 200, response.content
        assert "allowed_actions" in response.json()


# --- Actions ----------------------------------------------------------------------------------

# name -> (set the dispute up, who acts, path, body, expected status)
ActionCase = tuple[Callable[[Cast], Dispute], str, str, dict[str, Any], int]

ACTION_CASES: dict[str, ActionCase] = {
    "accept-request": (_raise, "owner", "accept-request", {"note": "Sorry!"}, 200),
    "offer": (_raise, "owner", "offer", {"kind": "partial_refund", "amount": 8000}, 200),
    "offer-above-agent-limit": (
        _raise,
        "agent",
        "offer",
        {"kind": "partial_refund", "amount": 8000},
        202,
    ),
    "contest": (_raise, "owner", "contest", {"statement": "As described."}, 200),
    "accept-offer": (_awaiting_buyer, "buyer", "accept-offer", {}, 200),
    "counter": (
        _awaiting_buyer,
        "buyer",
        "counter",
        {"requested_outcome": "partial_refund", "requested_amount": 9000},
        200,
    ),
    "escalate": (_awaiting_buyer, "buyer", "escalate", {"reason": "buyer_request"}, 200),
    "withdraw": (_awaiting_buyer, "buyer", "withdraw", {"note": "Sorted."}, 200),
    "assign": (_escalated, "mia", "assign", {}, 200),
    "assign-by-lead": (_escalated, "lee", "assign", {"mediator": "__sam__"}, 200),
    "reassign": (_under_review, "lee", "assign", {"mediator": "__sam__"}, 200),
    "request-info": (
        _under_review,
        "mia",
        "request-info",
        {"party": "buyer", "question": "Photos?"},
        200,
    ),
    "rule": (
        _under_review,
        "mia",
        "rule",
        {"kind": "partial_refund", "amount": 5000, "rationale": "Half."},
        200,
    ),
    "rule-beyond-authority": (
        _under_review,
        "mia",
        "rule",
        {"kind": "full_refund", "amount": 24000, "rationale": "Crushed."},
        202,
    ),
    "approve-ruling": (_pending_approval, "sam", "approve-ruling", {"note": "OK"}, 200),
    "reject-ruling": (_pending_approval, "sam", "reject-ruling", {"note": "No"}, 200),
    "fulfil-refund": (
        _ruled,
        "storefront",
        "fulfil",
        {"kind": "refund", "amount": 24000, "reference": "re_1"},
        200,
    ),
    "fulfil-partial-refund-by-seller": (
        _ruled,
        "owner",
        "fulfil",
        {"kind": "refund", "amount": 1000, "reference": "re_2"},
        200,
    ),
    "fulfil-return-shipment": (
        _agreed_return,
        "buyer",
        "fulfil",
        {"kind": "return_shipment", "carrier": "USPS", "tracking_number": "94001"},
        200,
    ),
    "fulfil-replacement": (
        _agreed_replacement,
        "owner",
        "fulfil",
        {"kind": "replacement_shipment", "carrier": "USPS", "tracking_number": "94002"},
        200,
    ),
}


def _ready_for(case: str, cast: Cast) -> Dispute:
    maker = ACTION_CASES[case][0]
    return maker(cast)


def _body(cast: Cast, body: dict[str, Any]) -> dict[str, Any]:
    return {k: (cast.sam.username if v == "__sam__" else v) for k, v in body.items()}


@pytest.mark.parametrize("case", list(ACTION_CASES))
def test_each_action_is_bounded(cast: Cast, case: str) -> None:
    _, who, path, body, expected = ACTION_CASES[case]
    dispute = _ready_for(case, cast)
    client = cast.client(getattr(cast, who))
    client.get("/api/v1/disputes/")  # the token row exists before counting
    with _at_most(ACTION_BUDGET, f"POST {path} ({case})"):
        response = client.post(f"/api/v1/disputes/{dispute.pk}/{path}/", _body(cast, body))
    assert response.status_code == expected, response.content


def _awaiting_return_ack(c: Cast) -> Dispute:
    d = _agreed(c, "return_and_refund")
    t.fulfil(
        dispute_id=d.pk, actor=c.buyer, kind="return_shipment", carrier="USPS", tracking_number="1"
    )
    return d


def _awaiting_info(c: Cast) -> Dispute:
    d = _under_review(c)
    t.request_info(dispute_id=d.pk, actor=c.mia, party="buyer", question="Photos?")
    return d


def _replacement_shipped(c: Cast) -> Dispute:
    d = _agreed(c, "replacement")
    t.fulfil(
        dispute_id=d.pk,
        actor=c.owner,
        kind="replacement_shipment",
        carrier="USPS",
        tracking_number="1",
    )
    return d


MORE_CASES: dict[str, ActionCase] = {
    "acknowledge-return": (_awaiting_return_ack, "owner", "acknowledge-return", {}, 200),
    "provide-info": (_awaiting_info, "buyer", "provide-info", {"answer": "Attached."}, 200),
    "confirm-received": (_replacement_shipped, "buyer", "confirm-received", {}, 200),
}


@pytest.mark.parametrize("case", list(MORE_CASES))
def test_later_actions_are_bounded(cast: Cast, case: str) -> None:
    maker, who, path, body, expected = MORE_CASES[case]
    dispute = maker(cast)
    client = cast.client(getattr(cast, who))
    client.get("/api/v1/disputes/")
    with _at_most(ACTION_BUDGET, f"POST {path}"):
        response = client.post(f"/api/v1/disputes/{dispute.pk}/{path}/", body)
    assert response.status_code == expected, response.content


def test_approve_offer_message_report_feedback_are_bounded(cast: Cast) -> None:
    d = _raise(cast)
    agent, owner, buyer = (cast.client(u) for u in (cast.agent, cast.owner, cast.buyer))
    for client in (agent, owner, buyer):
        client.get("/api/v1/disputes/")
    r = agent.post(f"/api/v1/disputes/{d.pk}/offer/", {"kind": "partial_refund", "amount": 8000})
    assert r.status_code == 202, r.content
    offer_id = r.json()["offers"][-1]["id"]
    with _at_most(ACTION_BUDGET, "approve offer"):
        r = owner.post(f"/api/v1/disputes/{d.pk}/offers/{offer_id}/approve/", {"note": "OK"})
    assert r.status_code == 200, r.content
    with _at_most(ACTION_BUDGET, "post message"):
        r = owner.post(f"/api/v1/disputes/{d.pk}/messages/", {"body": "We are sorry."})
    assert r.status_code == 201, r.content
    message_id = r.json()["id"]
    with _at_most(ACTION_BUDGET, "report message"):
        r = buyer.post(
            f"/api/v1/disputes/{d.pk}/messages/{message_id}/report/", {"reason": "Rude."}
        )
    assert r.status_code == 200, r.content
    t.withdraw(dispute_id=d.pk, actor=cast.buyer)
    with _at_most(ACTION_BUDGET, "feedback"):
        r = buyer.post(f"/api/v1/disputes/{d.pk}/feedback/", {"rating": 4})
    assert r.status_code == 201, r.content


def test_appeal_is_bounded(cast: Cast) -> None:
    d = _closed_after_ruling(cast)
    owner = cast.client(cast.owner)
    owner.get("/api/v1/disputes/")
    with _at_most(ACTION_BUDGET, "appeal"):
        r = owner.post(f"/api/v1/disputes/{d.pk}/appeal/", {"reason": "Too much."})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "escalated" and r.json()["required_tier"] == "lead"


def test_raise_is_bounded(cast: Cast) -> None:
    order = cast.order()
    buyer = cast.client(cast.buyer)
    buyer.get("/api/v1/disputes/")
    # The day, opened and shop counts, and the look for webhook endpoints.
    with _at_most(15 + 3 + WEBHOOK_LOOK, "raise"):
        r = buyer.post(
            "/api/v1/disputes/",
            {
                "order": order.pk,
                "reason": "not_received",
                "requested_outcome": "full_refund",
                "description": "Nothing came.",
            },
        )
    assert r.status_code == 201, r.content


# --- Lists: the same number of queries for 1 row and for 100 -------------------------------


def _fill(cast: Cast, total: int) -> None:
    """Disputes in every state, with offers, rulings and messages, up to ``total`` rows."""
    makers = [*MAKERS, _with_messages, _awaiting_info, _replacement_shipped]
    have = Dispute.objects.filter(shop=cast.shop).count()
    for i in range(total - have):
        makers[i % len(makers)](cast)


def _same_for_one_and_hundred(
    cast: Cast, viewers: list[str], url: str, fill: Callable[[int], None]
) -> None:
    clients = {name: cast.client(getattr(cast, name)) for name in viewers}
    for client in clients.values():
        client.get(url)
    fill(1)
    one = {}
    for name, client in clients.items():
        one[name], rows, _ = _count(client, url)
        assert rows == 1, name
    fill(100)
    for name, client in clients.items():
        hundred, rows, sql = _count(client, url)
        assert rows == 100, name
        listing = "\n".join(f"  {i}. {q}" for i, q in enumerate(sql, 1))
        assert hundred == one[name], (
            f"{url} as {name}: {one[name]} queries for 1 row, {hundred} for 100:\n{listing}"
        )


def test_dispute_list_has_no_n_plus_one(cast: Cast) -> None:
    url = f"/api/v1/disputes/?page_size=100&shop={cast.shop.slug}"
    viewers = ["buyer", "owner", "agent", "mia", "lee", "storefront"]
    _same_for_one_and_hundred(cast, viewers, url, lambda n: _fill(cast, n))


def test_order_list_has_no_n_plus_one(cast: Cast) -> None:
    def fill(n: int) -> None:
        for _ in range(n - Order.objects.filter(shop=cast.shop).count()):
            order = cast.order()
            OrderItem.objects.create(order=order, sku="EXTRA", title="Ribbon", unit_price=100)

    url = f"/api/v1/orders/?page_size=100&shop={cast.shop.slug}"
    _same_for_one_and_hundred(cast, ["buyer", "owner", "agent", "storefront", "mia"], url, fill)


def test_message_list_has_no_n_plus_one(cast: Cast, settings: Any) -> None:
    settings.MESSAGE_RATE_PER_MINUTE = 0  # a hundred messages in a few seconds
    d = _raise(cast)
    buyer = cast.client(cast.buyer)
    url = f"/api/v1/disputes/{d.pk}/messages/?page_size=100"

    def fill(n: int) -> None:
        for i in range(n - Message.objects.filter(dispute=d).count()):
            author = cast.owner if i % 2 else cast.buyer
            conversation.post_message(dispute_id=d.pk, actor=author, body=f"Message {i}")

    _same_for_one_and_hundred(cast, ["buyer", "owner", "mia"], url, fill)
    assert buyer.get(url).status_code == 200
