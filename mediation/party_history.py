"""Party history for the mediator console: the buyer's and the shop's earlier disputes, and
flags for serial claimants and problem sellers.

The rates are compared with the marketplace's norm (from the rollups, like the shop's):

- dispute rate: orders with at least one dispute / orders;
- win rate: disputes the buyer won (ruled for the buyer, ruled partially, or settled by
  agreement) / disputes decided (those outcomes, ruled for the seller, or lapsed; a
  withdrawal decides nothing).

Thresholds are settings (``SERIAL_CLAIMANT_*``, ``PROBLEM_SELLER_*``); a flag needs a
minimum number of disputes, so one unlucky order never flags anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from mediation.models import Dispute, Order, ShopCount, State
from mediation.rollups import DECIDED, WON

HISTORY_LIMIT = 20


@dataclass(frozen=True)
class Rates:
    orders: int
    disputed_orders: int
    disputes: int
    decided: int
    won: int

    @property
    def dispute_rate(self) -> float | None:
        return self.disputed_orders / self.orders if self.orders else None

    @property
    def win_rate(self) -> float | None:
        return self.won / self.decided if self.decided else None


@dataclass
class PartyHistory:
    marketplace: Rates
    buyer: Rates
    shop: Rates
    buyer_disputes: list[Dispute] = field(default_factory=list)
    shop_disputes: list[Dispute] = field(default_factory=list)
    buyer_flags: list[str] = field(default_factory=list)
    shop_flags: list[str] = field(default_factory=list)


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def _flags(
    rates: Rates,
    norm: Rates,
    *,
    minimum: int,
    rate_factor: float,
    win_factor: float,
    who: str,
    win_words: str,
) -> list[str]:
    if rates.disputes < minimum:
        return []
    flags = []
    rate, norm_rate = rates.dispute_rate, norm.dispute_rate
    if rate is not None and norm_rate is not None and rate > norm_rate * rate_factor:
        flags.append(
            f"{who} disputed {rates.disputed_orders} of {rates.orders} orders "
            f"({_percent(rate)}); the marketplace norm is {_percent(norm_rate)} "
            f"(flagged above {rate_factor:g}x the norm)."
        )
    win, norm_win = rates.win_rate, norm.win_rate
    if win is not None and norm_win is not None and win > norm_win * win_factor:
        flags.append(
            f"{win_words} {rates.won} of {rates.decided} decided disputes ({_percent(win)}); "
            f"the marketplace norm is {_percent(norm_win)} "
            f"(flagged above {win_factor:g}x the norm)."
        )
    return flags


def _norm() -> Rates:
    counts = [f.name for f in fields(Rates)]
    return Rates(**ShopCount.objects.aggregate(**{c: Coalesce(Sum(c), 0) for c in counts}))


def _over(
    rates: Rates, norm: Rates, *, minimum: int, rate_factor: float, win_factor: float
) -> bool:
    return bool(
        _flags(
            rates,
            norm,
            minimum=minimum,
            rate_factor=rate_factor,
            win_factor=win_factor,
            who="",
            win_words="",
        )
    )


def flagged_shop_ids() -> list[int]:
    """The shops flagged as possible problem sellers now (by the rule of the case page):
    one read of the shop rollup, a row per shop."""
    norm = _norm()
    counts = [f.name for f in fields(Rates)]
    rows = ShopCount.objects.filter(disputes__gte=settings.PROBLEM_SELLER_MIN_DISPUTES)
    return sorted(
        row["shop_id"]
        for row in rows.values("shop_id", *counts)
        if _over(
            Rates(**{c: row[c] for c in counts}),
            norm,
            minimum=settings.PROBLEM_SELLER_MIN_DISPUTES,
            rate_factor=settings.PROBLEM_SELLER_RATE_FACTOR,
            win_factor=settings.PROBLEM_SELLER_LOSS_RATE_FACTOR,
        )
    )


def flagged_buyer_ids() -> list[int]:
    """The buyers flagged as possible serial claimants now: those with the minimum number
    of disputes (one pass over the (buyer, id) index), then their rates."""
    norm = _norm()
    minimum = settings.SERIAL_CLAIMANT_MIN_DISPUTES
    decided = Q(state=State.CLOSED, outcome__in=DECIDED)
    won = Q(state=State.CLOSED, outcome__in=WON)
    candidates = {
        row["buyer_id"]: row
        for row in Dispute.objects.values("buyer_id")
        .annotate(
            disputes=Count("id"),
            disputed_orders=Count("order_id", distinct=True),
            decided=Count("id", filter=decided),
            won=Count("id", filter=won),
        )
        .filter(disputes__gte=minimum)
        .order_by()
    }
    if not candidates:
        return []
    orders = dict(
        Order.objects.filter(buyer_id__in=list(candidates))
        .values("buyer_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("buyer_id", "n")
    )
    return sorted(
        buyer
        for buyer, row in candidates.items()
        if _over(
            Rates(
                orders=orders.get(buyer, 0),
                disputed_orders=row["disputed_orders"],
                disputes=row["disputes"],
                decided=row["decided"],
                won=row["won"],
            ),
            norm,
            minimum=minimum,
            rate_factor=settings.SERIAL_CLAIMANT_RATE_FACTOR,
            win_factor=settings.SERIAL_CLAIMANT_WIN_RATE_FACTOR,
        )
    )


def thresholds() -> dict[str, dict[str, float]]:
    """The flags' settings, as the API shows them beside the flags."""
    return {
        "serial_claimant": {
            "min_disputes": settings.SERIAL_CLAIMANT_MIN_DISPUTES,
            "dispute_rate_factor": settings.SERIAL_CLAIMANT_RATE_FACTOR,
            "win_rate_factor": settings.SERIAL_CLAIMANT_WIN_RATE_FACTOR,
        },
        "problem_seller": {
            "min_disputes": settings.PROBLEM_SELLER_MIN_DISPUTES,
            "dispute_rate_factor": settings.PROBLEM_SELLER_RATE_FACTOR,
            "loss_rate_factor": settings.PROBLEM_SELLER_LOSS_RATE_FACTOR,
        },
    }


def party_history(dispute: Dispute, *, limit: int = HISTORY_LIMIT) -> PartyHistory:
    """The buyer's and the shop's other disputes (newest first) and the flags.

    The marketplace's norm and the shop's rates come from the rollups (mediation.rollups:
    a sum over one row a shop, one row a shop); the buyer's are counted over the buyer's
    own orders and disputes, on their (buyer, id) indexes."""
    buyer_q = Q(buyer_id=dispute.buyer_id)
    shop_q = Q(shop_id=dispute.shop_id)
    counts = [f.name for f in fields(Rates)]  # columns of the shop rollup, by the same names
    # The marketplace's sums and the shop's row, in one read of the rollup.
    both = ShopCount.objects.aggregate(
        **{f"all_{c}": Coalesce(Sum(c), 0) for c in counts},
        **{f"shop_{c}": Coalesce(Sum(c, filter=shop_q), 0) for c in counts},
    )
    norm = Rates(**{c: both[f"all_{c}"] for c in counts})
    shop = Rates(**{c: both[f"shop_{c}"] for c in counts})
    decided = Q(state=State.CLOSED, outcome__in=DECIDED)
    won = Q(state=State.CLOSED, outcome__in=WON)
    mine = Dispute.objects.filter(buyer_q).aggregate(
        n_disputes=Count("id"),
        n_disputed_orders=Count("order_id", distinct=True),
        n_decided=Count("id", filter=decided),
        n_won=Count("id", filter=won),
    )
    mine["n_orders"] = Order.objects.filter(buyer_q).count()
    buyer = Rates(**{c: mine[f"n_{c}"] for c in counts})
    others = Dispute.objects.exclude(pk=dispute.pk).select_related("order", "shop", "buyer")
    order_by = ("-created_at", "-id")
    return PartyHistory(
        marketplace=norm,
        buyer=buyer,
        shop=shop,
        buyer_disputes=list(others.filter(buyer_q).order_by(*order_by)[:limit]),
        shop_disputes=list(others.filter(shop_q).order_by(*order_by)[:limit]),
        buyer_flags=_flags(
            buyer,
            norm,
            minimum=settings.SERIAL_CLAIMANT_MIN_DISPUTES,
            rate_factor=settings.SERIAL_CLAIMANT_RATE_FACTOR,
            win_factor=settings.SERIAL_CLAIMANT_WIN_RATE_FACTOR,
            who="The buyer",
            win_words="The buyer won",
        ),
        shop_flags=_flags(
            shop,
            norm,
            minimum=settings.PROBLEM_SELLER_MIN_DISPUTES,
            rate_factor=settings.PROBLEM_SELLER_RATE_FACTOR,
            win_factor=settings.PROBLEM_SELLER_LOSS_RATE_FACTOR,
            who="Buyers of the shop",
            win_words="Buyers won against the shop",
        ),
    )


__all__ = [
    "PartyHistory",
    "Rates",
    "flagged_buyer_ids",
    "flagged_shop_ids",
    "party_history",
    "thresholds",
]
