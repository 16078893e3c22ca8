from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ShopRate")


@_attrs_define
class ShopRate:
    """
    Attributes:
        id (int):
        slug (str):
        name (str):
        orders (int):
        disputes (int):
        dispute_rate (float | None): disputes / orders
        ruled (int):
        ruled_against (int):
        ruled_against_share (float | None):
    """

    id: int
    slug: str
    name: str
    orders: int
    disputes: int
    dispute_rate: float | None
    ruled: int
    ruled_against: int
    ruled_against_share: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        slug = self.slug

        name = self.name

        orders = self.orders

        disputes = self.disputes

        dispute_rate: float | None
        dispute_rate = self.dispute_rate

        ruled = self.ruled

        ruled_against = self.ruled_against

        ruled_against_share: float | None
        ruled_against_share = self.ruled_against_share

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "slug": slug,
                "name": name,
                "orders": orders,
                "disputes": disputes,
                "dispute_rate": dispute_rate,
                "ruled": ruled,
                "ruled_against": ruled_against,
                "ruled_against_share": ruled_against_share,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        slug = d.pop("slug")

        name = d.pop("name")

        orders = d.pop("orders")

        disputes = d.pop("disputes")

        def _parse_dispute_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        dispute_rate = _parse_dispute_rate(d.pop("dispute_rate"))

        ruled = d.pop("ruled")

        ruled_against = d.pop("ruled_against")

        def _parse_ruled_against_share(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        ruled_against_share = _parse_ruled_against_share(d.pop("ruled_against_share"))

        shop_rate = cls(
            id=id,
            slug=slug,
            name=name,
            orders=orders,
            disputes=disputes,
            dispute_rate=dispute_rate,
            ruled=ruled,
            ruled_against=ruled_against,
            ruled_against_share=ruled_against_share,
        )

        shop_rate.additional_properties = d
        return shop_rate

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
