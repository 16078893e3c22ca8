from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.fulfilment_kind_enum import FulfilmentKindEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="FulfilRequest")


@_attrs_define
class FulfilRequest:
    """
    Attributes:
        kind (FulfilmentKindEnum): * `refund` - Refund
            * `replacement_shipment` - Replacement shipment
            * `return_label` - Return label
            * `return_shipment` - Return shipment
            * `store_credit` - Store credit
        amount (int | Unset): Integer amount in minor units of the order's currency (3000 = 30.00 USD). Default: 0.
        reference (str | Unset):  Default: ''.
        carrier (str | Unset):  Default: ''.
        tracking_number (str | Unset):  Default: ''.
    """

    kind: FulfilmentKindEnum
    amount: int | Unset = 0
    reference: str | Unset = ""
    carrier: str | Unset = ""
    tracking_number: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        amount = self.amount

        reference = self.reference

        carrier = self.carrier

        tracking_number = self.tracking_number

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
            }
        )
        if amount is not UNSET:
            field_dict["amount"] = amount
        if reference is not UNSET:
            field_dict["reference"] = reference
        if carrier is not UNSET:
            field_dict["carrier"] = carrier
        if tracking_number is not UNSET:
            field_dict["tracking_number"] = tracking_number

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = FulfilmentKindEnum(d.pop("kind"))

        amount = d.pop("amount", UNSET)

        reference = d.pop("reference", UNSET)

        carrier = d.pop("carrier", UNSET)

        tracking_number = d.pop("tracking_number", UNSET)

        fulfil_request = cls(
            kind=kind,
            amount=amount,
            reference=reference,
            carrier=carrier,
            tracking_number=tracking_number,
        )

        return fulfil_request
