from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.funder_enum import FunderEnum
from ..models.remedy_enum import RemedyEnum
from ..models.ruling_status_enum import RulingStatusEnum

T = TypeVar("T", bound="Ruling")


@_attrs_define
class Ruling:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            kind (RemedyEnum): * `full_refund` - Full refund
                * `partial_refund` - Partial refund
                * `replacement` - Replacement
                * `return_and_refund` - Return and refund
                * `store_credit` - Store credit
                * `goodwill` - Goodwill gesture
                * `no_action` - No action
            amount (int):
            value (int):
            funded_by (FunderEnum): * `seller` - Seller
                * `platform` - Platform
            rationale (str):
            status (RulingStatusEnum): * `pending_approval` - Pending approval
                * `approved` - Approved
                * `rejected` - Rejected
            proposer (str): The user's username
            approver (None | str): The user's username
            decision_note (str):
            created_at (datetime.datetime):
            decided_at (datetime.datetime | None):
    """

    id: int
    kind: RemedyEnum
    amount: int
    value: int
    funded_by: FunderEnum
    rationale: str
    status: RulingStatusEnum
    proposer: str
    approver: None | str
    decision_note: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        amount = self.amount

        value = self.value

        funded_by = self.funded_by.value

        rationale = self.rationale

        status = self.status.value

        proposer = self.proposer

        approver: None | str
        approver = self.approver

        decision_note = self.decision_note

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
                "kind": kind,
                "amount": amount,
                "value": value,
                "funded_by": funded_by,
                "rationale": rationale,
                "status": status,
                "proposer": proposer,
                "approver": approver,
                "decision_note": decision_note,
                "created_at": created_at,
                "decided_at": decided_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        kind = RemedyEnum(d.pop("kind"))

        amount = d.pop("amount")

        value = d.pop("value")

        funded_by = FunderEnum(d.pop("funded_by"))

        rationale = d.pop("rationale")

        status = RulingStatusEnum(d.pop("status"))

        proposer = d.pop("proposer")

        def _parse_approver(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        approver = _parse_approver(d.pop("approver"))

        decision_note = d.pop("decision_note")

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

        ruling = cls(
            id=id,
            kind=kind,
            amount=amount,
            value=value,
            funded_by=funded_by,
            rationale=rationale,
            status=status,
            proposer=proposer,
            approver=approver,
            decision_note=decision_note,
            created_at=created_at,
            decided_at=decided_at,
        )

        ruling.additional_properties = d
        return ruling

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
