from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.return_result_enum import ReturnResultEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="AcknowledgeReturnRequest")


@_attrs_define
class AcknowledgeReturnRequest:
    """
    Attributes:
        result (ReturnResultEnum | Unset): * `as_expected` - Arrived as expected
            * `damaged` - Arrived damaged
            * `empty_or_different` - Empty box or a different item
            * `missing_parts` - Parts are missing
            * `not_received` - Nothing arrived Default: ReturnResultEnum.AS_EXPECTED.
        note (str | Unset):  Default: ''.
        evidence (list[int] | Unset): Ids of evidence you uploaded to this dispute (photos of what arrived).
    """

    result: ReturnResultEnum | Unset = ReturnResultEnum.AS_EXPECTED
    note: str | Unset = ""
    evidence: list[int] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        result: str | Unset = UNSET
        if not isinstance(self.result, Unset):
            result = self.result.value

        note = self.note

        evidence: list[int] | Unset = UNSET
        if not isinstance(self.evidence, Unset):
            evidence = self.evidence

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if result is not UNSET:
            field_dict["result"] = result
        if note is not UNSET:
            field_dict["note"] = note
        if evidence is not UNSET:
            field_dict["evidence"] = evidence

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _result = d.pop("result", UNSET)
        result: ReturnResultEnum | Unset
        if isinstance(_result, Unset):
            result = UNSET
        else:
            result = ReturnResultEnum(_result)

        note = d.pop("note", UNSET)

        evidence = cast(list[int], d.pop("evidence", UNSET))

        acknowledge_return_request = cls(
            result=result,
            note=note,
            evidence=evidence,
        )

        return acknowledge_return_request
