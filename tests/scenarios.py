"""Drive a dispute into any state of DESIGN §4 through the real services.

Nothing here writes a dispute's state directly: every step is a call to a service of
``workflows.transitions`` by the actor who would take it, so the audit chain, offers,
rulings and fulfilment bookkeeping are what a real dispute would have. The only shortcut
is time: :func:`make_overdue` moves a dispute's ``respond_by`` (an unprotected column)
into the past, and :func:`travel` shifts ``django.utils.timezone.now`` for everything
that reads the clock (services, serializers, ``auto_now`` fields).

The cast mirrors the demo data of DESIGN §11, built with factories (no password hashing,
so a scenario costs a few milliseconds)::

    sc = dispute_in("awaiting_buyer", answer="contest")
    sc.dispute.state                    # "awaiting_buyer"
    sc.cast.buyer, sc["owner"]          # the actors, by attribute or by name
    sc = dispute_in("awaiting_fulfilment", remedy="return_and_refund", stage="returned")
    sc = dispute_in("closed", outcome="ruled_for_seller")
    sc = dispute_in("escalated", by="appeal")    # needs a senior to assign it
    as_user(sc["mediator_senior"]).post(f"/api/v1/disputes/{sc.id}/assign/", {}, format="json")

Actor names (:data:`ACTORS`): ``buyer`` (the dispute's buyer, like alice), ``other_buyer``
(a buyer of the other shop, like bob), ``owner`` and ``agent`` (the shop's owner and its
agent with an offer limit of 50.00 USD, like petals_owner and petals_agent),
``other_owner`` (owner of another shop, like inkwell_owner), ``mediator_agent``,
``mediator_senior``, ``mediator_lead`` (authority 100.00, 1,000.00 and unlimited USD, like
mia_agent, sam_senior, lee_lead) and ``platform`` (the marketplace integration, like
storefront). ``system`` is :data:`mediation.actors.SYSTEM`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from unittest import mock

from django.utils import timezone
from rest_framework.test import APIClient

from mediation.actors import SYSTEM
from mediation.models import Dispute, Order, Remedy, Shop, State
from tests.factories import (
    IntegrationAccountFactory,
    MediatorProfileFactory,
    OrderFactory,
    ShopFactory,
    ShopMemberFactory,
    ShopPolicyFactory,
    UserFactory,
)
from workflows import transitions as t
from workflows.credentials import issue_token

__all__ = [
    "ACTORS",
    "MEDIATORS",
    "STATES",
    "Cast",
    "Scenario",
    "as_user",
    "dispute_in",
    "make_cast",
    "make_overdue",
    "raise_dispute",
    "travel",
]

ACTORS = (
    "buyer",
    "other_buyer",
    "owner",
    "agent",
    "other_owner",
    "mediator_agent",
    "mediator_senior",
    "mediator_lead",
    "platform",
)
MEDIATORS = ("mediator_agent", "mediator_senior", "mediator_lead")
STATES = tuple(State.values)


# --- The cast -------------------------------------------------------------------------------


@dataclass
class Cast:
    """Everyone around one order: its buyer, its shop's members, outsiders and the platform."""

    buyer: Any
    other_buyer: Any
    owner: Any
    agent: Any
    other_owner: Any
    mediator_agent: Any
    mediator_senior: Any
    mediator_lead: Any
    platform: Any
    shop: Shop
    other_shop: Shop
    order: Order
    other_order: Order

    def __getitem__(self, name: str) -> Any:
        """An actor by name (see :data:`ACTORS`); ``"system"`` is the system actor."""
        if name == "system":
            return SYSTEM
        if name not in ACTORS:
            raise KeyError(name)
        return getattr(self, name)

    def actors(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ACTORS}

    def new_order(self, **kwargs: Any) -> Order:
        """Another order of the buyer with the shop; ``kwargs`` go to ``OrderFactory``
        (240.00 plus 5.00 shipping, placed ten days ago, unless given)."""
        kwargs.setdefault("buyer", self.buyer)
        kwargs.setdefault("shop", self.shop)
        return cast(Order, OrderFactory(**kwargs))


def make_cast(
    *,
    total: int = 24000,
    shipping: int = 1000,
    currency: str = "USD",
    placed_days_ago: int = 10,
    agent_limit: int = 5000,
) -> Cast:
    """Create the people, two shops and the buyer's order (``total + shipping`` refundable).

    Usernames are unique per call, so several casts can live in one test.
    """
    shop = cast(Shop, ShopFactory(name="Paper Petals"))
    other_shop = cast(Shop, ShopFactory(name="Inkwell Studio"))
    for s in (shop, other_shop):
        ShopPolicyFactory(shop=s, version=1)
    owner = ShopMemberFactory(shop=shop, user__username=f"{shop.slug}_owner").user
    agent = ShopMemberFactory(
        shop=shop, user__username=f"{shop.slug}_agent", agent=True, offer_limit=agent_limit
    ).user
    other_owner = ShopMemberFactory(shop=other_shop, user__username=f"{other_shop.slug}_owner").user
    buyer = UserFactory(username=f"{shop.slug}_buyer")
    other_buyer = UserFactory(username=f"{shop.slug}_other_buyer")
    order = cast(
        Order,
        OrderFactory(
            buyer=buyer,
            shop=shop,
            total=total,
            shipping=shipping,
            currency=currency,
            placed_days_ago=placed_days_ago,
        ),
    )
    other_order = cast(
        Order, OrderFactory(buyer=other_buyer, shop=other_shop, total=5000, shipping=500)
    )
    return Cast(
        buyer=buyer,
        other_buyer=other_buyer,
        owner=owner,
        agent=agent,
        other_owner=other_owner,
        mediator_agent=MediatorProfileFactory(user__username=f"{shop.slug}_mia").user,
        mediator_senior=MediatorProfileFactory(user__username=f"{shop.slug}_sam", senior=True).user,
        mediator_lead=MediatorProfileFactory(user__username=f"{shop.slug}_lee", lead=True).user,
        platform=IntegrationAccountFactory(user__username=f"{shop.slug}_storefront").user,
        shop=shop,
        other_shop=other_shop,
        order=order,
        other_order=other_order,
    )


# --- The API -------------------------------------------------------------------------------

_CLIENT: APIClient | None = None


def as_user(user: Any) -> APIClient:
    """An API client speaking as ``user`` (token authentication), or anonymously for None.

    One client is shared: a new ``APIClient`` builds the middleware chain on its first
    request, and WhiteNoise's scan of the static files makes that cost ~0.1 s each time.
    The returned client is only valid until the next call.
    """
    global _CLIENT
    if _CLIENT is None:
        _CLIENT = APIClient()
    if user is None:
        _CLIENT.credentials()
    else:
        _CLIENT.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)[1]}")
    return _CLIENT


# --- Time ----------------------------------------------------------------------------------


def make_overdue(dispute: Dispute, by: timedelta = timedelta(minutes=1)) -> Dispute:
    """Move the dispute's current deadline ``by`` into the past; returns it refreshed."""
    Dispute.objects.filter(pk=dispute.pk).update(respond_by=timezone.now() - by)
    dispute.refresh_from_db()
    return dispute


@contextmanager
def travel(offset: timedelta | datetime) -> Iterator[Callable[[], datetime]]:
    """Shift the clock that the services read (``django.utils.timezone.now``).

    ``offset`` is a timedelta (the clock keeps running, shifted) or an aware datetime
    (the clock runs on from there). Yields the patched ``now``.
    """
    real_now = timezone.now
    delta = offset - real_now() if isinstance(offset, datetime) else offset

    def shifted() -> datetime:
        return real_now() + delta

    with mock.patch("django.utils.timezone.now", side_effect=shifted) as patched:
        yield patched


# --- Scenarios -----------------------------------------------------------------------------


@dataclass
class Scenario:
    """A dispute in a known state and the cast around it."""

    dispute: Dispute
    cast: Cast
    state: str
    options: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.cast[name]

    @property
    def id(self) -> int:
        return self.dispute.pk

    def refresh(self) -> Dispute:
        self.dispute = Dispute.objects.select_related("order").get(pk=self.dispute.pk)
        return self.dispute

    def latest_offer(self) -> Any:
        return self.dispute.offers.order_by("-id").first()


def raise_dispute(
    cast: Cast,
    *,
    order: Order | None = None,
    reason: str = "damaged_or_defective",
    requested_outcome: str = Remedy.FULL_REFUND,
    requested_amount: int | None = None,
    description: str = "The bouquet arrived crushed.",
) -> Dispute:
    """The buyer raises a dispute on ``order`` (the cast's order by default)."""
    return t.raise_dispute(
        actor=cast.buyer,
        order_id=(order or cast.order).pk,
        reason=reason,
        requested_outcome=requested_outcome,
        requested_amount=requested_amount,
        description=description,
    ).dispute


def _offer_and_counter(cast: Cast, d: Dispute, rounds: int) -> None:
    """``rounds`` times: the owner offers, the buyer counters (back to awaiting_seller)."""
    for i in range(rounds):
        t.make_offer(dispute_id=d.pk, actor=cast.owner, kind="partial_refund", amount=1000 + i)
        t.counter(
            dispute_id=d.pk,
            actor=cast.buyer,
            requested_outcome="partial_refund",
            requested_amount=20000 - i,
            note=f"Round {i + 1}",
        )


def _awaiting_seller(
    cast: Cast,
    *,
    requested_outcome: str = Remedy.FULL_REFUND,
    requested_amount: int | None = None,
    counter_rounds: int = 0,
    pending_offer: bool = False,
    pending_offer_amount: int = 8000,
    overdue: bool = False,
    order: Order | None = None,
) -> Dispute:
    """Raised by the buyer on ``order`` (the cast's by default), asking for a full refund
    by default (above the agent's limit).

    ``counter_rounds``: that many offer/counter rounds first. ``pending_offer``: the agent
    offered a partial refund above their limit, waiting for the owner. ``overdue``: the
    shop's 24 h have passed.
    """
    d = raise_dispute(
        cast, order=order, requested_outcome=requested_outcome, requested_amount=requested_amount
    )
    _offer_and_counter(cast, d, counter_rounds)
    if pending_offer:
        result = t.make_offer(
            dispute_id=d.pk,
            actor=cast.agent,
            kind="partial_refund",
            amount=pending_offer_amount,
            note="Sorry! Would this help?",
        )
        assert result.waiting_for_approval
    if overdue:
        make_overdue(d)
    return d


def _awaiting_buyer(
    cast: Cast,
    *,
    answer: str = "offer",
    offer_kind: str = Remedy.PARTIAL_REFUND,
    offer_amount: int | None = 3000,
    fulfilment_days: int | None = None,
    counter_rounds: int = 0,
    overdue: bool = False,
    **raise_options: Any,
) -> Dispute:
    """The shop (owner) answered: ``answer="offer"`` (``offer_kind``/``offer_amount``) or
    ``"contest"``. ``counter_rounds`` offer/counter rounds happened before."""
    d = _awaiting_seller(cast, counter_rounds=counter_rounds, **raise_options)
    if answer == "offer":
        t.make_offer(
            dispute_id=d.pk,
            actor=cast.owner,
            kind=offer_kind,
            amount=offer_amount,
            fulfilment_days=fulfilment_days,
            note="We are sorry; this is what we can do.",
        )
    elif answer == "contest":
        t.contest(
            dispute_id=d.pk,
            actor=cast.owner,
            statement="The listing shows exactly this item; it left us intact.",
        )
    else:
        raise ValueError(f"answer is 'offer' or 'contest', not {answer!r}")
    if overdue:
        make_overdue(d)
    return d


def _escalated(
    cast: Cast,
    *,
    by: str = "seller",
    ruled_by: str = "mediator_agent",
    **options: Any,
) -> Dispute:
    """In the platform's queue. ``by``: ``"seller"`` (the owner escalates while awaiting the
    seller), ``"buyer"`` (after a contest), ``"deadline"`` (the shop did not answer: the
    system escalates with ``seller_no_response``) or ``"appeal"`` (``ruled_by`` ruled a
    partial refund and the buyer appealed: a higher tier must hear it)."""
    if by == "seller":
        d = _awaiting_seller(cast, **options)
        t.escalate(dispute_id=d.pk, actor=cast.owner, reason="seller_request", note="Please help.")
    elif by == "buyer":
        options.setdefault("answer", "contest")
        d = _awaiting_buyer(cast, **options)
        t.escalate(dispute_id=d.pk, actor=cast.buyer, reason="buyer_request", note="Please look.")
    elif by == "deadline":
        d = _awaiting_seller(cast, overdue=True, **options)
        t.apply_deadline(dispute_id=d.pk, actor=SYSTEM)
    elif by == "appeal":
        d = _awaiting_fulfilment(
            cast, via="ruling", remedy=Remedy.PARTIAL_REFUND, amount=5000, ruled_by=ruled_by
        )
        t.appeal(dispute_id=d.pk, actor=cast.buyer, reason="The ruling ignored my photos.")
    else:
        raise ValueError(f"by is seller, buyer, deadline or appeal, not {by!r}")
    return d


def _under_review(cast: Cast, *, mediator: str = "mediator_agent", **options: Any) -> Dispute:
    """Escalated (see :func:`_escalated` options) and assigned to ``mediator``."""
    d = _escalated(cast, **options)
    t.assign(dispute_id=d.pk, actor=cast[mediator])
    return d


def _awaiting_info(
    cast: Cast,
    *,
    party: str = "buyer",
    mediator: str = "mediator_agent",
    overdue: bool = False,
    **options: Any,
) -> Dispute:
    """Under review by ``mediator``, who asked ``party`` ("buyer" or "seller") a question."""
    d = _under_review(cast, mediator=mediator, **options)
    t.request_info(
        dispute_id=d.pk,
        actor=cast[mediator],
        party=party,
        question="Could you send a photo of the packaging?",
    )
    if overdue:
        make_overdue(d)
    return d


def _rule(cast: Cast, d: Dispute, *, kind: str, amount: int | None, ruled_by: str) -> Any:
    """``ruled_by`` takes the case (if not held) and rules; a ruling beyond their
    authority is approved by the lead (a lead's own, beyond
    ``MEDIATION_LEAD_SECOND_APPROVAL``, by the senior)."""
    d.refresh_from_db()
    if d.state == State.ESCALATED:
        t.assign(dispute_id=d.pk, actor=cast[ruled_by])
    result = t.rule(
        dispute_id=d.pk,
        actor=cast[ruled_by],
        kind=kind,
        amount=amount,
        funded_by="seller",
        rationale="Photos show the damage described.",
    )
    if result.waiting_for_approval:
        approver = "mediator_lead" if ruled_by != "mediator_lead" else "mediator_senior"
        result = t.approve_ruling(dispute_id=d.pk, actor=cast[approver], note="Agreed.")
    return result


def _pending_approval(
    cast: Cast,
    *,
    proposer: str = "mediator_agent",
    kind: str = Remedy.FULL_REFUND,
    amount: int | None = None,
    **options: Any,
) -> Dispute:
    """Under review by ``proposer``, who ruled ``kind``/``amount`` (a full refund of the
    order by default) beyond their authority: it waits for a second mediator."""
    d = _under_review(cast, mediator=proposer, **options)
    result = t.rule(
        dispute_id=d.pk,
        actor=cast[proposer],
        kind=kind,
        amount=amount,
        funded_by="seller",
        rationale="Photos show the damage described.",
    )
    assert result.waiting_for_approval, "the ruling is within the proposer's authority"
    return d


def _awaiting_fulfilment(
    cast: Cast,
    *,
    remedy: str = Remedy.FULL_REFUND,
    amount: int | None = None,
    via: str = "agreement",
    ruled_by: str = "mediator_agent",
    stage: str = "",
    overdue: bool = False,
) -> Dispute:
    """A remedy must be delivered.

    ``via="agreement"``: the buyer asked for ``remedy``/``amount`` and the owner accepted;
    ``via="offer"``: the owner offered it and the buyer accepted; ``via="ruling"``:
    ``ruled_by`` ruled it (approved by the lead when beyond their authority).
    ``stage`` advances the delivery: ``"shipped"`` (the replacement is on its way),
    ``"returned"`` (the buyer sent the item back), ``"acknowledged"`` (and the shop
    acknowledged it), ``"partly_refunded"`` (half the money was refunded).
    ``overdue``: the delivery deadline has passed.
    """
    if via == "agreement":
        d = raise_dispute(cast, requested_outcome=remedy, requested_amount=amount)
        t.accept_request(dispute_id=d.pk, actor=cast.owner, note="So sorry, of course.")
    elif via == "offer":
        d = _awaiting_buyer(cast, offer_kind=remedy, offer_amount=amount)
        t.accept_offer(dispute_id=d.pk, actor=cast.buyer)
    elif via == "ruling":
        d = _escalated(cast, by="seller")
        _rule(cast, d, kind=remedy, amount=amount, ruled_by=ruled_by)
    else:
        raise ValueError(f"via is agreement, offer or ruling, not {via!r}")
    d.refresh_from_db()
    assert d.state == State.AWAITING_FULFILMENT, d.state
    if stage == "shipped":
        t.fulfil(
            dispute_id=d.pk,
            actor=cast.owner,
            kind="replacement_shipment",
            carrier="USPS",
            tracking_number="9400111",
        )
    elif stage in {"returned", "acknowledged"}:
        t.fulfil(
            dispute_id=d.pk,
            actor=cast.buyer,
            kind="return_shipment",
            carrier="USPS",
            tracking_number="9400222",
        )
        if stage == "acknowledged":
            t.acknowledge_return(dispute_id=d.pk, actor=cast.owner, note="Received, thank you.")
    elif stage == "partly_refunded":
        t.fulfil(
            dispute_id=d.pk,
            actor=cast.platform,
            kind="refund",
            amount=d.agreed_amount // 2,
            reference="re_half",
        )
    elif stage:
        raise ValueError(f"unknown stage {stage!r}")
    if overdue:
        make_overdue(d)
    return d


def _closed(
    cast: Cast,
    *,
    outcome: str = "withdrawn",
    ruled_by: str = "mediator_agent",
    appealed: bool = False,
) -> Dispute:
    """Closed with ``outcome``: ``withdrawn`` (from awaiting_seller), ``agreement`` (a
    partial refund accepted and refunded), ``lapsed`` (the buyer let the offer expire),
    ``ruled_for_seller`` (``ruled_by`` ruled no action), ``ruled_for_buyer`` (a full
    refund ruled and refunded). ``appealed``: the first ruling (no action by ``ruled_by``)
    was appealed and the higher tier ruled no action again."""
    if appealed:
        d = _closed(cast, outcome="ruled_for_seller", ruled_by=ruled_by)
        t.appeal(dispute_id=d.pk, actor=cast.buyer, reason="Please look again.")
        d.refresh_from_db()
        hearing = "mediator_lead" if d.required_tier == "lead" else "mediator_senior"
        _rule(cast, d, kind=Remedy.NO_ACTION, amount=None, ruled_by=hearing)
        return d
    if outcome == "withdrawn":
        d = raise_dispute(cast)
        t.withdraw(dispute_id=d.pk, actor=cast.buyer, note="Sorted it out with the shop.")
    elif outcome == "agreement":
        d = _awaiting_fulfilment(cast, remedy=Remedy.PARTIAL_REFUND, amount=3000)
        t.fulfil(
            dispute_id=d.pk, actor=cast.platform, kind="refund", amount=3000, reference="re_ok"
        )
    elif outcome == "lapsed":
        d = _awaiting_buyer(cast, overdue=True)
        t.apply_deadline(dispute_id=d.pk, actor=SYSTEM)
    elif outcome == "ruled_for_seller":
        d = _escalated(cast, by="seller")
        _rule(cast, d, kind=Remedy.NO_ACTION, amount=None, ruled_by=ruled_by)
    elif outcome == "ruled_for_buyer":
        d = _awaiting_fulfilment(cast, via="ruling", ruled_by=ruled_by)
        d.refresh_from_db()
        t.fulfil(
            dispute_id=d.pk,
            actor=cast.platform,
            kind="refund",
            amount=d.agreed_amount,
            reference="re_all",
        )
    else:
        raise ValueError(f"unknown outcome {outcome!r}")
    return d


_RECIPES: dict[str, Callable[..., Dispute]] = {
    State.AWAITING_SELLER: _awaiting_seller,
    State.AWAITING_BUYER: _awaiting_buyer,
    State.ESCALATED: _escalated,
    State.UNDER_REVIEW: _under_review,
    State.AWAITING_INFO: _awaiting_info,
    State.PENDING_APPROVAL: _pending_approval,
    State.AWAITING_FULFILMENT: _awaiting_fulfilment,
    State.CLOSED: _closed,
}


def dispute_in(state: str, *, cast: Cast | None = None, **options: Any) -> Scenario:
    """A dispute driven into ``state`` (one of :data:`STATES`) through the services.

    ``cast`` defaults to a fresh :func:`make_cast`. ``options`` go to the state's recipe
    (``_awaiting_seller``, ``_awaiting_buyer``, ... in this module; their docstrings list
    them). The returned scenario's dispute is freshly read from the database and is
    asserted to be in ``state``.
    """
    if state not in _RECIPES:
        raise ValueError(f"{state!r} is not a state of DESIGN §4: {', '.join(STATES)}")
    cast = cast or make_cast()
    dispute = _RECIPES[state](cast, **options)
    scenario = Scenario(dispute=dispute, cast=cast, state=state, options=options)
    scenario.refresh()
    assert scenario.dispute.state == state, (state, scenario.dispute.state, options)
    return scenario
