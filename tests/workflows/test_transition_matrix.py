"""The transition x actor matrix of DESIGN §4, through the API.

For every state of §4 (and the variants that change who may do what: an overdue
deadline, an agent's offer waiting for the owner, a contest instead of an offer, the
last counter round spent, an appeal, each delivery stage of each remedy, a ruling
standing or already appealed), every action of ``workflows.transitions.CHECKS`` (the
owner's ``approve-offer`` and ``reject-offer`` included) and every actor, one test posts
the action with a valid body and checks the answer against the expected policy written
out below; a second test per (state, actor) checks that ``allowed_actions`` lists exactly
the actions that succeed (and ``escalate`` where only its deadline refuses it); a third
applies the system's deadline transition (``apply_deadline``) on time and overdue, as
the system and as every user.

The policy is written from DESIGN §4/§5/§9, not read from the code:

* someone who may not see the dispute (a buyer of other orders, a member of another
  shop) gets 404 ``not_found`` for every action;
* ``approve-offer`` and ``reject-offer`` are the shop owner's alone: anyone else gets 403
  ``forbidden`` whatever the state (the owner then needs a pending offer: 404 without one,
  409 when it is not waiting for approval);
* otherwise, when the state does not admit the action at all (:data:`ADMITS`): 409
  ``invalid_transition``; when it does but the actor's role does not: 403 ``forbidden``;
* everything else (successes, limits, domain rules) is listed per state in :data:`SPECS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from mediation.errors import DomainError
from mediation.models import AuditEntry, Dispute, State
from tests.scenarios import ACTORS, Scenario, as_user, dispute_in, make_overdue
from workflows import transitions

S = State

ACTIONS = tuple(transitions.CHECKS)
INVISIBLE = ("other_buyer", "other_owner")
SELLERS = ("owner", "agent")

# The states in which an action can happen at all (DESIGN §4 transitions).
OPEN_BEFORE_RULING = {
    S.AWAITING_SELLER,
    S.AWAITING_BUYER,
    S.ESCALATED,
    S.UNDER_REVIEW,
    S.AWAITING_INFO,
    S.AWAITING_FULFILMENT,
}
REVIEW = {S.ESCALATED, S.UNDER_REVIEW, S.AWAITING_INFO}
# The shop may concede or offer while asked, and during the review before a ruling.
SHOP_ANSWERS = {S.AWAITING_SELLER, *REVIEW}
ADMITS: dict[str, set[Any]] = {
    "accept-request": SHOP_ANSWERS,
    "offer": SHOP_ANSWERS,
    "approve-offer": SHOP_ANSWERS,
    "reject-offer": SHOP_ANSWERS,
    "contest": {S.AWAITING_SELLER},
    "accept-offer": {S.AWAITING_BUYER, *REVIEW},
    "counter": {S.AWAITING_BUYER},
    "escalate": {S.AWAITING_SELLER, S.AWAITING_BUYER, S.AWAITING_FULFILMENT},
    "withdraw": OPEN_BEFORE_RULING,
    "assign": {S.ESCALATED, S.UNDER_REVIEW, S.AWAITING_INFO},
    "request-info": {S.UNDER_REVIEW},
    "provide-info": {S.AWAITING_INFO},
    "rule": {S.UNDER_REVIEW},
    "approve-ruling": {S.PENDING_APPROVAL},
    "reject-ruling": {S.PENDING_APPROVAL},
    "fulfil": {S.AWAITING_FULFILMENT},
    "acknowledge-return": {S.AWAITING_FULFILMENT},
    "confirm-received": {S.AWAITING_FULFILMENT},
    "appeal": {S.AWAITING_FULFILMENT, S.CLOSED},
}
# Actions only one role may take, checked before the state.
ONLY: dict[str, str] = {"approve-offer": "owner", "reject-offer": "owner"}

BODIES: dict[str, dict[str, Any]] = {
    "accept-request": {"note": "Of course, sorry about that."},
    "offer": {"kind": "partial_refund", "amount": 3000, "note": "Would 30.00 help?"},
    "contest": {"statement": "The photos show it left us intact."},
    "accept-offer": {},
    "counter": {"requested_outcome": "partial_refund", "requested_amount": 10000, "note": "More"},
    "escalate": {"note": "Please step in."},
    "withdraw": {"note": "Sorted."},
    "assign": {},
    "request-info": {"party": "buyer", "question": "A photo of the box, please?"},
    "provide-info": {"answer": "Attached, the box was crushed."},
    "rule": {
        "kind": "partial_refund",
        "amount": 5000,
        "funded_by": "seller",
        "rationale": "Half the bouquet is damaged.",
    },
    "approve-ruling": {"note": "Agreed."},
    "reject-ruling": {"note": "Look again."},
    "acknowledge-return": {"note": "Received."},
    "confirm-received": {},
    "appeal": {"reason": "The ruling ignored my photos."},
    "approve-offer": {"note": "Fine by me."},
    "reject-offer": {"note": "Too much; offer 50.00."},
}

Cell = str | tuple[int, str]  # a new state, or (status, code)
WAITS = " (202)"


def waits(state: str) -> str:
    """The cell of an action that waits for an approval (202) and leaves ``state``."""
    return f"{state}{WAITS}"


@dataclass(frozen=True)
class Spec:
    """One row of the matrix: how to build the state and the cells that are not defaults.

    ``ok`` and ``refused`` map an action to ``{actors: outcome}``; ``actors`` is one name
    or several separated by commas. ``deadline`` is what the system's ``apply_deadline``
    does on time and once the deadline passed: a new state or ``(status, code)``.
    """

    key: str
    state: str
    options: dict[str, Any] = field(default_factory=dict)
    ok: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    deadline: tuple[Cell, Cell] = ((409, "invalid_transition"), (409, "invalid_transition"))

    def explicit(self, action: str, actor: str) -> Cell | None:
        for table in (self.ok, self.refused):
            for actors, outcome in table.get(action, {}).items():
                if actor in actors.split(","):
                    return outcome
        return None


NOT_YET = (422, "deadline_not_reached")
CONFLICT = (409, "invalid_transition")
NOTHING = (409, "nothing_to_fulfil")
# Who records a refund besides the shop: the platform's integration and any mediator.
STAFF = "platform,mediator_agent,mediator_senior,mediator_lead"
NO_OFFER = (404, "not_found")
SELLER_LATE = (NOT_YET, S.ESCALATED)
BUYER_LATE = (NOT_YET, S.CLOSED)
INFO_LATE = (NOT_YET, S.UNDER_REVIEW)
DELIVERY_LATE = (NOT_YET, S.ESCALATED)

_SELLER_ANSWERS: dict[str, dict[str, str]] = {
    # The buyer asked for 250.00; the agent may grant 50.00 alone: the owner approves it.
    "accept-request": {"owner": S.AWAITING_FULFILMENT, "agent": waits(S.AWAITING_SELLER)},
    "offer": {"owner,agent": S.AWAITING_BUYER},
    "contest": {"owner,agent": S.AWAITING_BUYER},
    "escalate": {"owner,agent": S.ESCALATED},
    "withdraw": {"buyer": S.CLOSED},
}
_SELLER_REFUSALS: dict[str, dict[str, tuple[int, str]]] = {
    "escalate": {"buyer": NOT_YET},
    "approve-offer": {"owner": NO_OFFER},
}
_BUYER_ANSWERS: dict[str, dict[str, str]] = {
    "accept-offer": {"buyer": S.AWAITING_FULFILMENT},
    "counter": {"buyer": S.AWAITING_SELLER},
    "escalate": {"buyer,owner,agent": S.ESCALATED},
    "withdraw": {"buyer": S.CLOSED},
}
_DELIVERY_REFUSALS: dict[str, dict[str, tuple[int, str]]] = {
    "escalate": {"buyer,owner,agent": NOT_YET},
    "appeal": {"buyer,owner,agent": CONFLICT},  # there is no ruling to appeal
    "acknowledge-return": {"owner,agent": CONFLICT},
    "confirm-received": {"buyer": CONFLICT},
    "approve-offer": {"owner": NO_OFFER},
}


EVERYONE = "buyer,owner,agent,mediator_agent,mediator_senior,mediator_lead,platform"


def _shop_answers_in(state: str) -> dict[str, dict[str, str]]:
    """During the review before a ruling, the shop may still concede (the agreement ends
    the review) or offer (the case stays with the mediator until the buyer accepts)."""
    return {
        "accept-request": {"owner": S.AWAITING_FULFILMENT, "agent": waits(state)},
        "offer": {"owner,agent": state},
    }


# Escalation superseded the open offers: none is left for the buyer to accept.
REVIEW_REFUSALS: dict[str, dict[str, tuple[int, str]]] = {
    "approve-offer": {"owner": NO_OFFER},
    "accept-offer": {"buyer": (409, "no_open_offer")},
}


def _delivery(**refused: dict[str, tuple[int, str]]) -> dict[str, dict[str, tuple[int, str]]]:
    table = {k: dict(v) for k, v in _DELIVERY_REFUSALS.items()}
    for action, cells in refused.items():
        table[action.replace("_", "-")] = cells
    return table


SPECS: list[Spec] = [
    Spec(
        "awaiting_seller",
        S.AWAITING_SELLER,
        ok=_SELLER_ANSWERS,
        refused=_SELLER_REFUSALS,
        deadline=SELLER_LATE,
    ),
    Spec(
        "awaiting_seller+overdue",
        S.AWAITING_SELLER,
        {"overdue": True},
        ok={**_SELLER_ANSWERS, "escalate": {"buyer,owner,agent": S.ESCALATED}},
        refused={k: v for k, v in _SELLER_REFUSALS.items() if k != "escalate"},
        deadline=(S.ESCALATED, S.ESCALATED),
    ),
    Spec(
        "awaiting_seller+pending_offer",
        S.AWAITING_SELLER,
        {"pending_offer": True},
        ok={
            **_SELLER_ANSWERS,
            "approve-offer": {"owner": S.AWAITING_BUYER},
            "reject-offer": {"owner": S.AWAITING_SELLER},
        },
        refused={k: v for k, v in _SELLER_REFUSALS.items() if k != "approve-offer"},
        deadline=SELLER_LATE,
    ),
    Spec(
        "awaiting_buyer",
        S.AWAITING_BUYER,
        ok=_BUYER_ANSWERS,
        refused={"approve-offer": {"owner": CONFLICT}},  # the open offer needs no approval
        deadline=BUYER_LATE,
    ),
    Spec(
        "awaiting_buyer+contested",
        S.AWAITING_BUYER,
        {"answer": "contest"},
        ok={k: v for k, v in _BUYER_ANSWERS.items() if k != "accept-offer"},
        refused={
            "accept-offer": {"buyer": (409, "no_open_offer")},
            "approve-offer": {"owner": NO_OFFER},
        },
        deadline=BUYER_LATE,
    ),
    Spec(
        "awaiting_buyer+3_counters",
        S.AWAITING_BUYER,
        {"counter_rounds": 3},
        ok={k: v for k, v in _BUYER_ANSWERS.items() if k != "counter"},
        refused={
            "counter": {"buyer": (422, "counter_limit_reached")},
            "approve-offer": {"owner": CONFLICT},
        },
        deadline=BUYER_LATE,
    ),
    Spec(
        "escalated",
        S.ESCALATED,
        ok={
            "assign": {"mediator_agent,mediator_senior,mediator_lead": S.UNDER_REVIEW},
            "withdraw": {"buyer": S.CLOSED},
            **_shop_answers_in(S.ESCALATED),
        },
        refused=REVIEW_REFUSALS,
    ),
    Spec(
        "escalated+appeal",
        S.ESCALATED,
        {"by": "appeal"},  # an agent ruled; a senior or higher must hear the appeal
        ok={"assign": {"mediator_senior,mediator_lead": S.UNDER_REVIEW}},
        refused={
            "assign": {"mediator_agent": (403, "tier_too_low")},
            "withdraw": {"buyer": CONFLICT},  # a ruling was made
            "approve-offer": {"owner": NO_OFFER},
            # The review is of the ruling: the parties no longer settle it between them.
            **{a: {EVERYONE: CONFLICT} for a in ("accept-request", "offer", "accept-offer")},
        },
    ),
    Spec(
        "under_review",
        S.UNDER_REVIEW,
        {"mediator": "mediator_agent"},
        ok={
            "assign": {"mediator_lead": S.UNDER_REVIEW},  # a lead reassigns
            "request-info": {"mediator_agent,mediator_lead": S.AWAITING_INFO},
            "rule": {"mediator_agent,mediator_lead": S.AWAITING_FULFILMENT},
            "withdraw": {"buyer": S.CLOSED},
            **_shop_answers_in(S.UNDER_REVIEW),
        },
        refused=REVIEW_REFUSALS,
    ),
    Spec(
        "awaiting_info",
        S.AWAITING_INFO,
        {"party": "buyer"},
        ok={
            "provide-info": {"buyer": S.UNDER_REVIEW},
            "assign": {"mediator_lead": S.AWAITING_INFO},
            "withdraw": {"buyer": S.CLOSED},
            **_shop_answers_in(S.AWAITING_INFO),
        },
        refused=REVIEW_REFUSALS,
        deadline=INFO_LATE,
    ),
    Spec(
        "awaiting_info+seller_asked",
        S.AWAITING_INFO,
        {"party": "seller"},
        ok={
            "provide-info": {"owner,agent": S.UNDER_REVIEW},
            "assign": {"mediator_lead": S.AWAITING_INFO},
            "withdraw": {"buyer": S.CLOSED},
            **_shop_answers_in(S.AWAITING_INFO),
        },
        refused=REVIEW_REFUSALS,
        deadline=INFO_LATE,
    ),
    Spec(
        "pending_approval",
        S.PENDING_APPROVAL,
        {"proposer": "mediator_agent"},  # 250.00 ruled by an agent with 100.00 of authority
        ok={
            "approve-ruling": {"mediator_senior,mediator_lead": S.AWAITING_FULFILMENT},
            "reject-ruling": {"mediator_senior,mediator_lead": S.UNDER_REVIEW},
        },
        refused={
            "approve-ruling": {"mediator_agent": (403, "four_eyes")},
            "reject-ruling": {"mediator_agent": (403, "four_eyes")},
            "approve-offer": {"owner": NO_OFFER},
        },
    ),
    Spec(
        "awaiting_fulfilment",
        S.AWAITING_FULFILMENT,
        {"remedy": "full_refund"},  # agreed: the owner accepted the buyer's request
        ok={"fulfil": {f"owner,agent,{STAFF}": S.CLOSED}, "withdraw": {"buyer": S.CLOSED}},
        refused=_delivery(fulfil={"buyer": NOTHING}),
        deadline=DELIVERY_LATE,
    ),
    Spec(
        "awaiting_fulfilment+overdue",
        S.AWAITING_FULFILMENT,
        {"remedy": "full_refund", "overdue": True},
        ok={
            "fulfil": {f"owner,agent,{STAFF}": S.CLOSED},
            "withdraw": {"buyer": S.CLOSED},
            "escalate": {"buyer,owner,agent": S.ESCALATED},
        },
        refused={k: v for k, v in _delivery(fulfil={"buyer": NOTHING}).items() if k != "escalate"},
        deadline=(S.ESCALATED, S.ESCALATED),
    ),
    Spec(
        "awaiting_fulfilment+ruled",
        S.AWAITING_FULFILMENT,
        {"via": "ruling", "remedy": "partial_refund", "amount": 5000},
        ok={
            "fulfil": {f"owner,agent,{STAFF}": S.CLOSED},
            "appeal": {"buyer,owner,agent": S.ESCALATED},
        },
        refused={
            **{k: v for k, v in _delivery(fulfil={"buyer": NOTHING}).items() if k != "appeal"},
            "withdraw": {"buyer": CONFLICT},  # a ruling was made
        },
        deadline=DELIVERY_LATE,
    ),
    Spec(
        "awaiting_fulfilment+replacement",
        S.AWAITING_FULFILMENT,
        {"remedy": "replacement"},
        ok={"fulfil": {"owner,agent": S.AWAITING_FULFILMENT}, "withdraw": {"buyer": S.CLOSED}},
        refused=_delivery(fulfil={f"buyer,{STAFF}": NOTHING}),
        deadline=DELIVERY_LATE,
    ),
    Spec(
        "awaiting_fulfilment+replacement_shipped",
        S.AWAITING_FULFILMENT,
        {"remedy": "replacement", "stage": "shipped"},
        ok={"confirm-received": {"buyer": S.CLOSED}, "withdraw": {"buyer": S.CLOSED}},
        refused={
            **_delivery(fulfil={f"buyer,owner,agent,{STAFF}": NOTHING}),
            "confirm-received": {},
        },
        # Nobody complained within the delivery window: the loop closes.
        deadline=(NOT_YET, S.CLOSED),
    ),
    Spec(
        "awaiting_fulfilment+return",
        S.AWAITING_FULFILMENT,
        {"remedy": "return_and_refund"},
        ok={
            # The buyer records the return shipment; the shop may send a return label.
            "fulfil": {"buyer,owner,agent": S.AWAITING_FULFILMENT},
            "withdraw": {"buyer": S.CLOSED},
        },
        refused=_delivery(fulfil={STAFF: (422, "return_not_acknowledged")}),
        deadline=DELIVERY_LATE,
    ),
    Spec(
        "awaiting_fulfilment+returned",
        S.AWAITING_FULFILMENT,
        {"remedy": "return_and_refund", "stage": "returned"},
        ok={
            "acknowledge-return": {"owner,agent": S.AWAITING_FULFILMENT},
            "withdraw": {"buyer": S.CLOSED},
        },
        refused={
            **_delivery(
                fulfil={
                    "buyer": NOTHING,  # the return is already recorded
                    f"owner,agent,{STAFF}": (422, "return_not_acknowledged"),
                }
            ),
            "acknowledge-return": {},
        },
        deadline=DELIVERY_LATE,
    ),
    Spec(
        "awaiting_fulfilment+return_acknowledged",
        S.AWAITING_FULFILMENT,
        {"remedy": "return_and_refund", "stage": "acknowledged"},
        ok={"fulfil": {f"owner,agent,{STAFF}": S.CLOSED}, "withdraw": {"buyer": S.CLOSED}},
        refused=_delivery(fulfil={"buyer": NOTHING}),
        deadline=DELIVERY_LATE,
    ),
    Spec(
        "closed+withdrawn",
        S.CLOSED,
        {"outcome": "withdrawn"},
        refused={"appeal": {"buyer,owner,agent": CONFLICT}, "approve-offer": {"owner": NO_OFFER}},
    ),
    Spec(
        "closed+ruled",
        S.CLOSED,
        {"outcome": "ruled_for_seller"},
        ok={"appeal": {"buyer,owner,agent": S.ESCALATED}},
        refused={"approve-offer": {"owner": NO_OFFER}},
    ),
    Spec(
        "closed+appealed",
        S.CLOSED,
        {"appealed": True},
        refused={
            "appeal": {"buyer,owner,agent": (422, "already_appealed")},
            "approve-offer": {"owner": NO_OFFER},
        },
    ),
]
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


def expected(spec: Spec, action: str, actor: str) -> Cell:
    if actor in INVISIBLE:
        return (404, "not_found")
    cell = spec.explicit(action, actor)
    if cell is None and action == "reject-offer":
        # Refused as approving would be: both look the offer up first.
        mirrored = spec.explicit("approve-offer", actor)
        cell = None if isinstance(mirrored, str) else mirrored
    if cell is not None:
        return cell
    if action in ONLY and actor != ONLY[action]:
        return (403, "forbidden")
    if spec.state not in ADMITS[action]:
        return CONFLICT
    return (403, "forbidden")


def expected_allowed(spec: Spec, actor: str) -> set[str]:
    """The actions that succeed, and ``escalate`` while only its deadline refuses it: a
    party may escalate for abusive conduct at once (the matrix's body gives no reason)."""
    return {
        a
        for a in transitions.CHECKS
        if isinstance(expected(spec, a, actor), str)
        or (a == "escalate" and expected(spec, a, actor) == NOT_YET)
    }


# --- Driving the API ------------------------------------------------------------------------


def fulfil_body(dispute: Dispute, actor: str) -> dict[str, Any]:
    """What each side would send to record its part of the agreed remedy."""
    remaining = dispute.agreed_amount - dispute.delivered_amount
    refund = {"kind": "refund", "amount": remaining or 1000, "reference": "re_matrix"}
    if dispute.agreed_kind == "replacement":
        return {"kind": "replacement_shipment", "carrier": "UPS", "tracking_number": "1Z999"}
    if dispute.agreed_kind == "return_and_refund":
        if actor == "buyer":
            return {"kind": "return_shipment", "carrier": "USPS", "tracking_number": "9400333"}
        if actor in SELLERS and not dispute.return_shipped:
            return {"kind": "return_label", "reference": "label-42"}
    return refund


def post_action(sc: Scenario, action: str, actor: str) -> Any:
    client = as_user(sc[actor])
    if action in ("approve-offer", "reject-offer"):
        offer = sc.latest_offer()
        verb = action.split("-")[0]
        url = f"/api/v1/disputes/{sc.id}/offers/{offer.pk if offer else 0}/{verb}/"
    else:
        url = f"/api/v1/disputes/{sc.id}/{action}/"
    body = fulfil_body(sc.refresh(), actor) if action == "fulfil" else BODIES[action]
    return client.post(url, body, format="json")


# pytest-django creates the test database only when a selected test is marked for it;
# without the mark, running this module alone found no tables.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def built(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Scenario]]:
    """Every row's state, built once through the services.

    The build runs in a transaction that is rolled back after the module; every test runs
    in its own savepoint inside it (:func:`rollback`), so each test starts from the state
    exactly as built and leaves nothing behind (the pattern of Django's
    ``TestCase.setUpTestData``). Building each of the ~4,400 cells' state anew would make
    this module take minutes instead of about one.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            scenarios = {spec.key: dispute_in(spec.state, **spec.options) for spec in SPECS}
            yield scenarios
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def rollback(built: dict[str, Scenario]) -> Iterator[dict[str, Scenario]]:
    """A savepoint around one test, rolled back after it."""
    with transaction.atomic():
        yield built
        transaction.set_rollback(True)


def _snapshot(dispute_id: int) -> tuple[str, int, int]:
    d = Dispute.objects.get(pk=dispute_id)
    return d.state, d.version, AuditEntry.objects.filter(dispute_id=dispute_id).count()


def _cells() -> list[Any]:
    return [
        pytest.param(spec.key, action, actor, id=f"{spec.key}-{action}-{actor}")
        for spec in SPECS
        for action in ACTIONS
        for actor in ACTORS
    ]


@pytest.mark.parametrize(("key", "action", "actor"), _cells())
def test_action(rollback: dict[str, Scenario], key: str, action: str, actor: str) -> None:
    spec = SPEC_BY_KEY[key]
    sc = rollback[key]
    before = _snapshot(sc.id)
    assert before[0] == spec.state
    want = expected(spec, action, actor)

    r = post_action(sc, action, actor)
    body = r.json()
    after = _snapshot(sc.id)
    if isinstance(want, str):
        state = want.removesuffix(WAITS)
        assert r.status_code == (202 if want.endswith(WAITS) else 200), body
        assert body["state"] == state == after[0]
        assert after[1] > before[1], "the version moves with every change"
        assert after[2] > before[2], "every change is audited"
    else:
        assert (r.status_code, body.get("code")) == want, body
        assert r["Content-Type"].startswith("application/problem+json")
        assert after == before, "a refusal changes nothing and writes nothing"


@pytest.mark.parametrize(
    ("key", "actor"),
    [pytest.param(s.key, a, id=f"{s.key}-{a}") for s in SPECS for a in ACTORS],
)
def test_allowed_actions(rollback: dict[str, Scenario], key: str, actor: str) -> None:
    """allowed_actions is exactly the set of actions that succeed in :func:`test_action`
    (``approve-offer`` and ``reject-offer`` included, though routed on the offer)."""
    spec = SPEC_BY_KEY[key]
    sc = rollback[key]
    r = as_user(sc[actor]).get(f"/api/v1/disputes/{sc.id}/")
    if actor in INVISIBLE:
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
        return
    assert r.status_code == 200, r.json()
    assert set(r.json()["allowed_actions"]) == expected_allowed(spec, actor)


@pytest.mark.parametrize(
    ("key", "overdue", "actor"),
    [
        pytest.param(s.key, overdue, a, id=f"{s.key}-{'overdue' if overdue else 'on_time'}-{a}")
        for s in SPECS
        for overdue in (False, True)
        for a in ("system", *ACTORS)
    ],
)
def test_apply_deadline(rollback: dict[str, Scenario], key: str, overdue: bool, actor: str) -> None:
    """The system's deadline transition (§4's last column): only the system applies it, and
    only once the state's deadline has passed; states without one do not move."""
    spec = SPEC_BY_KEY[key]
    sc = rollback[key]
    dispute = sc.refresh()
    if overdue and dispute.respond_by is not None:
        make_overdue(dispute)
    if actor in INVISIBLE:
        want: Cell = (404, "not_found")
    elif actor != "system":
        want = (403, "forbidden")
    else:
        want = spec.deadline[overdue]
    before = _snapshot(sc.id)
    try:
        result = transitions.apply_deadline(dispute_id=sc.id, actor=sc[actor])
    except DomainError as exc:
        assert (exc.status, exc.code) == want, exc.message
        assert _snapshot(sc.id) == before
    else:
        assert result.dispute.state == want == _snapshot(sc.id)[0]
