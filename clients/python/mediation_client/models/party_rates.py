from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PartyRates")


@_attrs_define
class PartyRates:
    """
    Attributes:
        orders (int):
        disputed_orders (int):
        disputes (int):
        decided (int):
        won (int): Decided disputes the buyer won (ruled or agreed)
        dispute_rate (float | None):
        win_rate (float | None):
    """

    orders: int
    disputed_orders: int
    disputes: int
    decided: int
    won: int
    dispute_rate: float | None
    win_rate: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        orders = self.orders

        disputed_orders = self.disputed_orders

        disputes = self.disputes

        decided = self.decided

        won = self.won

        dispute_rate: float | None
        dispute_rate = self.dispute_rate

        win_rate: float | None
        win_rate = self.win_rate

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "orders": orders,
                "disputed_orders": disputed_orders,
                "disputes": disputes,
                "decided": decided,
                "won": won,
                "dispute_rate": dispute_rate,
                "win_rate": win_rate,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        orders = d.pop("orders")

        disputed_orders = d.pop("disputed_orders")

        disputes = d.pop("disputes")

        decided = d.pop("decided")

        won = d.pop("won")

        def _parse_dispute_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        dispute_rate = _parse_dispute_rate(d.pop("dispute_rate"))

        def _parse_win_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        win_rate = _parse_win_rate(d.pop("win_rate"))

        party_rates = cls(
            orders=orders,
            disputed_orders=disputed_orders,
            disputes=disputes,
            decided=decided,
            won=won,
            dispute_rate=dispute_rate,
            win_rate=win_rate,
        )

        party_rates.additional_properties = d
        return party_rates

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
