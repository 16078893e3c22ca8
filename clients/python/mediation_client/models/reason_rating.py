from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.blank_enum import BlankEnum
from ..models.feedback_reason_enum import FeedbackReasonEnum

T = TypeVar("T", bound="ReasonRating")


@_attrs_define
class ReasonRating:
    """
    Attributes:
        reason (BlankEnum | FeedbackReasonEnum): Why a low rating was given; blank: no reason given.

            * `too_slow` - It took too long
            * `unfair_outcome` - The outcome was unfair
            * `poor_communication` - Poor communication
            * `not_resolved` - The problem is not resolved
            * `other` - Something else
            * `` - No reason given
        label (str):
        count (int): Low ratings giving this reason.
    """

    reason: BlankEnum | FeedbackReasonEnum
    label: str
    count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reason: str
        if isinstance(self.reason, FeedbackReasonEnum):
            reason = self.reason.value
        else:
            reason = self.reason.value

        label = self.label

        count = self.count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reason": reason,
                "label": label,
                "count": count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_reason(data: object) -> BlankEnum | FeedbackReasonEnum:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reason_type_0 = FeedbackReasonEnum(data)

                return reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, str):
                raise TypeError()
            reason_type_1 = BlankEnum(data)

            return reason_type_1

        reason = _parse_reason(d.pop("reason"))

        label = d.pop("label")

        count = d.pop("count")

        reason_rating = cls(
            reason=reason,
            label=label,
            count=count,
        )

        reason_rating.additional_properties = d
        return reason_rating

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
