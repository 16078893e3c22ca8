from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.blank_enum import BlankEnum
from ..models.party_escalation_reason_enum import PartyEscalationReasonEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="EscalateRequest")


@_attrs_define
class EscalateRequest:
    """
    Attributes:
        reason (BlankEnum | PartyEscalationReasonEnum | Unset):  Default: BlankEnum.VALUE_0.
        note (str | Unset):  Default: ''.
    """

    reason: BlankEnum | PartyEscalationReasonEnum | Unset = BlankEnum.VALUE_0
    note: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        reason: str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        elif isinstance(self.reason, PartyEscalationReasonEnum):
            reason = self.reason.value
        else:
            reason = self.reason.value

        note = self.note

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if reason is not UNSET:
            field_dict["reason"] = reason
        if note is not UNSET:
            field_dict["note"] = note

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_reason(data: object) -> BlankEnum | PartyEscalationReasonEnum | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reason_type_0 = PartyEscalationReasonEnum(data)

                return reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            reason_type_1 = BlankEnum(data)

            return reason_type_1

        reason = _parse_reason(d.pop("reason", UNSET))

        note = d.pop("note", UNSET)

        escalate_request = cls(
            reason=reason,
            note=note,
        )

        return escalate_request
