from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.offer_status_enum import OfferStatusEnum
from ..models.party_enum import PartyEnum
from ..models.remedy_enum import RemedyEnum

T = TypeVar("T", bound="Offer")


@_attrs_define
class Offer:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            side (PartyEnum): * `buyer` - Buyer
                * `seller` - Seller
            author (str): The user's username
            kind (RemedyEnum): * `full_refund` - Full refund
                * `partial_refund` - Partial refund
                * `replacement` - Replacement
                * `return_and_refund` - Return and refund
                * `store_credit` - Store credit
                * `goodwill` - Goodwill gesture
                * `no_action` - No action
            amount (int):
            note (str):
            fulfilment_days (int | None):
            status (OfferStatusEnum): * `open` - Open
                * `pending_approval` - Waiting for the shop owner
                * `accepted` - Accepted
                * `rejected` - Rejected
                * `superseded` - Superseded
            approved_by (None | str): The user's username
            created_at (datetime.datetime):
            decided_at (datetime.datetime | None):
    """

    id: int
    side: PartyEnum
    author: str
    kind: RemedyEnum
    amount: int
    note: str
    fulfilment_days: int | None
    status: OfferStatusEnum
    approved_by: None | str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        side = self.side.value

        author = self.author

        kind = self.kind.value

        amount = self.amount

        note = self.note

        fulfilment_days: int | None
        fulfilment_days = self.fulfilment_days

        status = self.status.value

        approved_by: None | str
        approved_by = self.approved_by

        created_at = self.created_at.isoformat()

        decided_at: None | str
        if isinstance(self.decided_at, datetime.datetime):
            decided_at = self.decided_at.isoformat()
        else:
            decided_at = self.decided_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "side": side,
                "author": author,
                "kind": kind,
                "amount": amount,
                "note": note,
                "fulfilment_days": fulfilment_days,
                "status": status,
                "approved_by": approved_by,
                "created_at": created_at,
                "decided_at": decided_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        side = PartyEnum(d.pop("side"))

        author = d.pop("author")

        kind = RemedyEnum(d.pop("kind"))

        amount = d.pop("amount")

        note = d.pop("note")

        def _parse_fulfilment_days(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        fulfilment_days = _parse_fulfilment_days(d.pop("fulfilment_days"))

        status = OfferStatusEnum(d.pop("status"))

        def _parse_approved_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        approved_by = _parse_approved_by(d.pop("approved_by"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_decided_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                decided_at_type_0 = datetime.datetime.fromisoformat(data)

                return decided_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        decided_at = _parse_decided_at(d.pop("decided_at"))

        offer = cls(
            id=id,
            side=side,
            author=author,
            kind=kind,
            amount=amount,
            note=note,
            fulfilment_days=fulfilment_days,
            status=status,
            approved_by=approved_by,
            created_at=created_at,
            decided_at=decided_at,
        )

        offer.additional_properties = d
        return offer

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
