from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.blank_enum import BlankEnum
from ..models.funder_enum import FunderEnum
from ..models.remedy_enum import RemedyEnum
from ..models.return_result_enum import ReturnResultEnum

T = TypeVar("T", bound="Agreement")


@_attrs_define
class Agreement:
    """
    Attributes:
        kind (RemedyEnum): * `full_refund` - Full refund
            * `partial_refund` - Partial refund
            * `replacement` - Replacement
            * `return_and_refund` - Return and refund
            * `store_credit` - Store credit
            * `goodwill` - Goodwill gesture
            * `no_action` - No action
        amount (int): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        funded_by (FunderEnum): * `seller` - Seller
            * `platform` - Platform
        delivered_amount (int):
        replacement_shipped (bool):
        return_shipped (bool):
        return_acknowledged (bool):
        return_result (BlankEnum | ReturnResultEnum): What the shop found in the returned item; blank until it says.

            * `as_expected` - Arrived as expected
            * `damaged` - Arrived damaged
            * `empty_or_different` - Empty box or a different item
            * `missing_parts` - Parts are missing
            * `not_received` - Nothing arrived
    """

    kind: RemedyEnum
    amount: int
    funded_by: FunderEnum
    delivered_amount: int
    replacement_shipped: bool
    return_shipped: bool
    return_acknowledged: bool
    return_result: BlankEnum | ReturnResultEnum
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        amount = self.amount

        funded_by = self.funded_by.value

        delivered_amount = self.delivered_amount

        replacement_shipped = self.replacement_shipped

        return_shipped = self.return_shipped

        return_acknowledged = self.return_acknowledged

        return_result: str
        if isinstance(self.return_result, ReturnResultEnum):
            return_result = self.return_result.value
        else:
            return_result = self.return_result.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "amount": amount,
                "funded_by": funded_by,
                "delivered_amount": delivered_amount,
                "replacement_shipped": replacement_shipped,
                "return_shipped": return_shipped,
                "return_acknowledged": return_acknowledged,
                "return_result": return_result,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = RemedyEnum(d.pop("kind"))

        amount = d.pop("amount")

        funded_by = FunderEnum(d.pop("funded_by"))

        delivered_amount = d.pop("delivered_amount")

        replacement_shipped = d.pop("replacement_shipped")

        return_shipped = d.pop("return_shipped")

        return_acknowledged = d.pop("return_acknowledged")

        def _parse_return_result(data: object) -> BlankEnum | ReturnResultEnum:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                return_result_type_0 = ReturnResultEnum(data)

                return return_result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            return_result_type_1 = BlankEnum(data)

            return return_result_type_1

        return_result = _parse_return_result(d.pop("return_result"))

        agreement = cls(
            kind=kind,
            amount=amount,
            funded_by=funded_by,
            delivered_amount=delivered_amount,
            replacement_shipped=replacement_shipped,
            return_shipped=return_shipped,
            return_acknowledged=return_acknowledged,
            return_result=return_result,
        )

        agreement.additional_properties = d
        return agreement

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
