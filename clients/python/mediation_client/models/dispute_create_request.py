from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.party_remedy_enum import PartyRemedyEnum
from ..models.reason_enum import ReasonEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="DisputeCreateRequest")


@_attrs_define
class DisputeCreateRequest:
    """
    Attributes:
        order (int): The order's id (from GET /api/v1/orders/)
        reason (ReasonEnum): * `not_received` - Not received
            * `not_as_described` - Not as described
            * `damaged_or_defective` - Damaged or defective
            * `wrong_item` - Wrong item
            * `missing_parts` - Missing parts
            * `return_not_refunded` - Return not refunded
            * `cancellation_not_honoured` - Cancellation not honoured
            * `other` - Other
        requested_outcome (PartyRemedyEnum): * `full_refund` - Full refund
            * `partial_refund` - Partial refund
            * `replacement` - Replacement
            * `return_and_refund` - Return and refund
            * `store_credit` - Store credit
            * `goodwill` - Goodwill gesture
        description (str):
        items (list[int] | Unset):
        requested_amount (int | None | Unset): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
    """

    order: int
    reason: ReasonEnum
    requested_outcome: PartyRemedyEnum
    description: str
    items: list[int] | Unset = UNSET
    requested_amount: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        order = self.order

        reason = self.reason.value

        requested_outcome = self.requested_outcome.value

        description = self.description

        items: list[int] | Unset = UNSET
        if not isinstance(self.items, Unset):
            items = self.items

        requested_amount: int | None | Unset
        if isinstance(self.requested_amount, Unset):
            requested_amount = UNSET
        else:
            requested_amount = self.requested_amount

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "order": order,
                "reason": reason,
                "requested_outcome": requested_outcome,
                "description": description,
            }
        )
        if items is not UNSET:
            field_dict["items"] = items
        if requested_amount is not UNSET:
            field_dict["requested_amount"] = requested_amount

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        order = d.pop("order")

        reason = ReasonEnum(d.pop("reason"))

        requested_outcome = PartyRemedyEnum(d.pop("requested_outcome"))

        description = d.pop("description")

        items = cast(list[int], d.pop("items", UNSET))

        def _parse_requested_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        requested_amount = _parse_requested_amount(d.pop("requested_amount", UNSET))

        dispute_create_request = cls(
            order=order,
            reason=reason,
            requested_outcome=requested_outcome,
            description=description,
            items=items,
            requested_amount=requested_amount,
        )

        return dispute_create_request
