from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.party_remedy_enum import PartyRemedyEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="CounterRequest")


@_attrs_define
class CounterRequest:
    """
    Attributes:
        requested_outcome (PartyRemedyEnum): * `full_refund` - Full refund
            * `partial_refund` - Partial refund
            * `replacement` - Replacement
            * `return_and_refund` - Return and refund
            * `store_credit` - Store credit
            * `goodwill` - Goodwill gesture
        requested_amount (int | None | Unset): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        note (str | Unset):  Default: ''.
    """

    requested_outcome: PartyRemedyEnum
    requested_amount: int | None | Unset = UNSET
    note: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        requested_outcome = self.requested_outcome.value

        requested_amount: int | None | Unset
        if isinstance(self.requested_amount, Unset):
            requested_amount = UNSET
        else:
            requested_amount = self.requested_amount

        note = self.note

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "requested_outcome": requested_outcome,
            }
        )
        if requested_amount is not UNSET:
            field_dict["requested_amount"] = requested_amount
        if note is not UNSET:
            field_dict["note"] = note

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        requested_outcome = PartyRemedyEnum(d.pop("requested_outcome"))

        def _parse_requested_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        requested_amount = _parse_requested_amount(d.pop("requested_amount", UNSET))

        note = d.pop("note", UNSET)

        counter_request = cls(
            requested_outcome=requested_outcome,
            requested_amount=requested_amount,
            note=note,
        )

        return counter_request
