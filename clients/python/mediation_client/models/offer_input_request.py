from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.party_remedy_enum import PartyRemedyEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="OfferInputRequest")


@_attrs_define
class OfferInputRequest:
    """
    Attributes:
        kind (PartyRemedyEnum): * `full_refund` - Full refund
            * `partial_refund` - Partial refund
            * `replacement` - Replacement
            * `return_and_refund` - Return and refund
            * `store_credit` - Store credit
            * `goodwill` - Goodwill gesture
        amount (int | None | Unset): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        note (str | Unset):  Default: ''.
        fulfilment_days (int | None | Unset):
    """

    kind: PartyRemedyEnum
    amount: int | None | Unset = UNSET
    note: str | Unset = ""
    fulfilment_days: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        amount: int | None | Unset
        if isinstance(self.amount, Unset):
            amount = UNSET
        else:
            amount = self.amount

        note = self.note

        fulfilment_days: int | None | Unset
        if isinstance(self.fulfilment_days, Unset):
            fulfilment_days = UNSET
        else:
            fulfilment_days = self.fulfilment_days

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
            }
        )
        if amount is not UNSET:
            field_dict["amount"] = amount
        if note is not UNSET:
            field_dict["note"] = note
        if fulfilment_days is not UNSET:
            field_dict["fulfilment_days"] = fulfilment_days

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = PartyRemedyEnum(d.pop("kind"))

        def _parse_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        amount = _parse_amount(d.pop("amount", UNSET))

        note = d.pop("note", UNSET)

        def _parse_fulfilment_days(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        fulfilment_days = _parse_fulfilment_days(d.pop("fulfilment_days", UNSET))

        offer_input_request = cls(
            kind=kind,
            amount=amount,
            note=note,
            fulfilment_days=fulfilment_days,
        )

        return offer_input_request
