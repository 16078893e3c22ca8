from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="OrderItemInputRequest")


@_attrs_define
class OrderItemInputRequest:
    """
    Attributes:
        sku (str):
        title (str):
        quantity (int):
        unit_price (int): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
    """

    sku: str
    title: str
    quantity: int
    unit_price: int

    def to_dict(self) -> dict[str, Any]:
        sku = self.sku

        title = self.title

        quantity = self.quantity

        unit_price = self.unit_price

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sku": sku,
                "title": title,
                "quantity": quantity,
                "unit_price": unit_price,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sku = d.pop("sku")

        title = d.pop("title")

        quantity = d.pop("quantity")

        unit_price = d.pop("unit_price")

        order_item_input_request = cls(
            sku=sku,
            title=title,
            quantity=quantity,
            unit_price=unit_price,
        )

        return order_item_input_request
