"""Real concurrency on PostgreSQL: 20 threads, each with its own connection, released by a
barrier at once against one dispute or one order.

The dispute row lock (``SELECT ... FOR UPDATE``) serializes every use case, and the audit
chain's head lives on that row, so conflicting actions have exactly one winner, the losers
are told why (409 for the state, 412 for a stale ``If-Match``), never a 500, and every
append to the chain gets the next sequence number. Skipped on SQLite, which has no row
locks; CI runs the suite again on PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mediation_ci \\
        .venv/bin/python -m pytest tests/api/test_concurrency_pg.py --create-db
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from mediation import audit
from mediation.models import AuditEntry, Dispute, MediatorProfile, Message, Order, Tier
from tests.threads import run_together
from workflows import transitions as t
from workflows.credentials import issue_token

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20

Call = Callable[[], Any]


def _client(user: Any) -> Callable[[], APIClient]:
    """A factory of clients for ``user``: each thread builds its own."""
    key = issue_token(user)[1]

    def make() -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


def _race(calls: list[Call]) -> list[tuple[int, dict[str, Any]]]:
    """Run each call in its own thread, all released together; (status, body) of each."""
    return [(r.status_code, r.json() if r.content else {}) for r in run_together(calls)]


def _post(make: Callable[[], APIClient], path: str, body: dict[str, Any], **headers: str) -> Call:
    return lambda: make().post(path, body, format="json", headers=headers or None)


def _one_winner(results: list[tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    statuses = Counter(status for status, _ in results)
    assert not [s for s in statuses if s >= 500], statuses
    winners = [(s, b) for s, b in results if 200 <= s < 300]
    assert len(winners) == 1, statuses
    losers = [(s, b.get("code")) for s, b in results if not 200 <= s < 300]
    assert all(s in (409, 412) for s, _ in losers), losers
    return winners[0]


def _chain_ok(dispute_id: int) -> Dispute:
    dispute = Dispute.objects.get(pk=dispute_id)
    result = audit.verify(dispute)
    assert result.verified, result
    seqs = list(
        AuditEntry.objects.filter(dispute_id=dispute_id)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    return dispute


@pytest.fixture
def cast(demo: dict[str, Any]) -> dict[str, Any]:
    return demo


def _raise(buyer: Any, external_id: str) -> Dispute:
    return t.raise_dispute(
        actor=buyer,
        order_id=Order.objects.get(external_id=external_id).pk,
        reason="damaged_or_defective",
        requested_outcome="full_refund",
        description="Crushed.",
    ).dispute


def _awaiting_buyer(cast: dict[str, Any]) -> Dispute:
    dispute = _raise(cast["alice"], "PP-1001")
    t.make_offer(
        dispute_id=dispute.pk, actor=cast["petals_owner"], kind="partial_refund", amount=8000
    )
    return Dispute.objects.get(pk=dispute.pk)


def _accepts_and_counters(
    make: Callable[[], APIClient], base: str, n: int, amount: int, **headers: str
) -> list[Call]:
    """``n`` accept-offer calls, then ``n`` counters asking ``amount``, ``amount + 1``, ..."""
    counter = {"requested_outcome": "partial_refund"}
    return [
        *[_post(make, f"{base}/accept-offer/", {}, **headers) for _ in range(n)],
        *[
            _post(make, f"{base}/counter/", {**counter, "requested_amount": amount + i}, **headers)
            for i in range(n)
        ],
    ]


def test_buyer_answers_race_with_the_same_etag(cast: dict[str, Any]) -> None:
    dispute = _awaiting_buyer(cast)
    alice = _client(cast["alice"])
    base = f"/api/v1/disputes/{dispute.pk}"
    tag = alice().get(f"{base}/")["ETag"]
    entries = dispute.audit_seq
    calls = [
        *_accepts_and_counters(alice, base, 8, 12000, **{"If-Match": tag}),
        *[_post(alice, f"{base}/escalate/", {}, **{"If-Match": tag}) for _ in range(2)],
        *[_post(alice, f"{base}/withdraw/", {}, **{"If-Match": tag}) for _ in range(2)],
    ]
    _, body = _one_winner(_race(calls))
    after = _chain_ok(dispute.pk)
    assert after.audit_seq == entries + 1
    assert after.version == dispute.version + 1
    assert body["state"] == after.state and body["version"] == after.version


def test_buyer_answers_race_without_etag(cast: dict[str, Any]) -> None:
    """accept-offer and counter exclude each other by state alone: one wins, the rest 409."""
    dispute = _awaiting_buyer(cast)
    alice = _client(cast["alice"])
    base = f"/api/v1/disputes/{dispute.pk}"
    entries = dispute.audit_seq
    calls = _accepts_and_counters(alice, base, 10, 9000)
    results = _race(calls)
    _one_winner(results)
    assert {s for s, _ in results if s >= 400} == {409}
    after = _chain_ok(dispute.pk)
    assert after.audit_seq == entries + 1
    assert after.offers.filter(status="open").count() <= 1


def test_seller_and_buyer_race_with_the_same_etag(cast: dict[str, Any]) -> None:
    dispute = _raise(cast["alice"], "PP-1001")
    owner, agent, alice = (_client(cast[n]) for n in ("petals_owner", "petals_agent", "alice"))
    base = f"/api/v1/disputes/{dispute.pk}"
    tag = alice().get(f"{base}/")["ETag"]
    entries = dispute.audit_seq
    if_match = {"If-Match": tag}
    calls = [
        *[
            _post(
                owner, f"{base}/offer/", {"kind": "partial_refund", "amount": 1000 + i}, **if_match
            )
            for i in range(5)
        ],
        *[
            _post(agent, f"{base}/offer/", {"kind": "goodwill", "amount": 500 + i}, **if_match)
            for i in range(5)
        ],
        *[_post(owner, f"{base}/contest/", {"statement": "No."}, **if_match) for _ in range(4)],
        *[_post(owner, f"{base}/accept-request/", {}, **if_match) for _ in range(3)],
        *[_post(owner, f"{base}/escalate/", {}, **if_match) for _ in range(2)],
        _post(alice, f"{base}/withdraw/", {}, **if_match),
    ]
    assert len(calls) == THREADS
    _one_winner(_race(calls))
    after = _chain_ok(dispute.pk)
    assert after.audit_seq == entries + 1
    assert after.offers.filter(status__in=["open", "pending_approval"]).count() <= 1


def test_mediators_race_to_take_the_case(cast: dict[str, Any]) -> None:
    dispute = _raise(cast["alice"], "PP-1001")
    t.escalate(dispute_id=dispute.pk, actor=cast["petals_owner"], reason="seller_request")
    user_model = get_user_model()
    mediators = []
    for i in range(THREADS):
        user = user_model.objects.create(username=f"race-mediator-{i}", is_staff=True)
        MediatorProfile.objects.create(user=user, tier=Tier.AGENT, authority={"USD": 10000})
        mediators.append(_client(user))
    base = f"/api/v1/disputes/{dispute.pk}"
    tag = mediators[0]().get(f"{base}/")["ETag"]
    entries = Dispute.objects.get(pk=dispute.pk).audit_seq
    results = _race([_post(m, f"{base}/assign/", {}, **{"If-Match": tag}) for m in mediators])
    _, body = _one_winner(results)
    after = _chain_ok(dispute.pk)
    assert after.audit_seq == entries + 1
    assert after.state == "under_review" and after.assigned_to is not None
    assert after.assigned_to.username == body["assigned_to"]


def test_messages_all_land_with_consecutive_sequence_numbers(cast: dict[str, Any]) -> None:
    dispute = _awaiting_buyer(cast)
    authors = ["alice", "petals_owner", "petals_agent", "mia_agent", "sam_senior"]
    clients = {name: _client(cast[name]) for name in authors}
    base = f"/api/v1/disputes/{dispute.pk}"
    entries = dispute.audit_seq
    calls = [
        _post(clients[authors[i % len(authors)]], f"{base}/messages/", {"body": f"Note {i}"})
        for i in range(THREADS)
    ]
    results = _race(calls)
    assert [s for s, _ in results] == [201] * THREADS, results
    after = _chain_ok(dispute.pk)
    assert after.audit_seq == entries + THREADS
    new = AuditEntry.objects.filter(dispute_id=dispute.pk, seq__gt=entries).order_by("seq")
    assert [e.seq for e in new] == list(range(entries + 1, entries + THREADS + 1))
    assert {e.action for e in new} == {"message"}
    assert Message.objects.filter(dispute=dispute, body__startswith="Note ").count() == THREADS
    assert sorted(e.payload["message"] for e in new) == sorted(b["id"] for _, b in results)


@pytest.mark.parametrize(
    ("quota", "rate", "status", "code"),
    [(5, 0, 422, "message_quota_exceeded"), (0, 4, 429, "message_rate_exceeded")],
    ids=["quota", "rate"],
)
def test_racing_past_a_message_limit_lets_exactly_the_limit_in(
    cast: dict[str, Any], settings: Any, quota: int, rate: int, status: int, code: str
) -> None:
    """Twenty messages at once against the quota per dispute, or the rate per minute: the
    limit's count is taken under the dispute's lock, so exactly that many get in."""
    settings.MESSAGE_MAX_PER_DISPUTE, settings.MESSAGE_RATE_PER_MINUTE = quota, rate
    limit = quota or rate
    dispute = _awaiting_buyer(cast)
    alice = _client(cast["alice"])
    base = f"/api/v1/disputes/{dispute.pk}"
    results = _race(
        [_post(alice, f"{base}/messages/", {"body": f"Hello {i}"}) for i in range(THREADS)]
    )
    statuses = Counter(s for s, _ in results)
    assert statuses == {201: limit, status: THREADS - limit}, statuses
    assert {b["code"] for s, b in results if s == status} == {code}
    assert Message.objects.filter(dispute=dispute, author=cast["alice"]).count() == limit
    _chain_ok(dispute.pk)


def test_racing_to_raise_on_one_order_opens_one_dispute(cast: dict[str, Any]) -> None:
    order = Order.objects.get(external_id="PP-1001")
    alice = _client(cast["alice"])
    body = {
        "order": order.pk,
        "reason": "not_received",
        "requested_outcome": "full_refund",
        "description": "Nothing came.",
    }
    results = _race([_post(alice, "/api/v1/disputes/", body) for _ in range(THREADS)])
    statuses = Counter(s for s, _ in results)
    assert statuses == {201: 1, 409: THREADS - 1}, statuses
    assert {b["code"] for s, b in results if s == 409} == {"dispute_already_open"}
    disputes = Dispute.objects.filter(order=order)
    assert disputes.count() == 1
    _chain_ok(disputes.get().pk)


def test_one_idempotency_key_in_twenty_threads_applies_once(cast: dict[str, Any]) -> None:
    dispute = _awaiting_buyer(cast)
    alice = _client(cast["alice"])
    base = f"/api/v1/disputes/{dispute.pk}"
    entries = dispute.audit_seq
    calls = [
        _post(alice, f"{base}/messages/", {"body": "Only once"}, **{"Idempotency-Key": "k-1"})
        for _ in range(THREADS)
    ]
    results = _race(calls)
    statuses = Counter(s for s, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    assert {b["code"] for s, b in results if s == 409} <= {"idempotency_key_in_use"}
    created = {b["id"] for s, b in results if s == 201}
    assert len(created) == 1  # the replays carry the first answer
    assert Message.objects.filter(dispute=dispute, body="Only once").count() == 1
    assert _chain_ok(dispute.pk).audit_seq == entries + 1


def test_deadline_sweep_and_party_race(cast: dict[str, Any]) -> None:
    """The system applying a deadline and the parties acting at the same moment: one change
    wins, the others are refused, the chain stays whole."""
    from datetime import timedelta

    from django.utils import timezone

    dispute = _awaiting_buyer(cast)
    Dispute.objects.filter(pk=dispute.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    alice = _client(cast["alice"])
    base = f"/api/v1/disputes/{dispute.pk}"
    entries = dispute.audit_seq

    class Sweep:
        status_code = 200
        content = b""

        def json(self) -> dict[str, Any]:
            return {}

    def sweep() -> Any:
        from mediation.errors import DomainError

        try:
            t.apply_deadline(dispute_id=dispute.pk)
        except DomainError as exc:
            response = Sweep()
            response.status_code = exc.status
            return response
        return Sweep()

    calls: list[Call] = [sweep for _ in range(10)]
    calls += [_post(alice, f"{base}/accept-offer/", {}) for _ in range(10)]
    results = _race(calls)
    assert not [s for s, _ in results if s >= 500]
    assert sum(1 for s, _ in results if s < 300) == 1, results
    after = _chain_ok(dispute.pk)
    assert after.audit_seq == entries + 1
    assert after.state in {"closed", "awaiting_fulfilment"}
