from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.blank_enum import BlankEnum
from ..models.feedback_reason_enum import FeedbackReasonEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="FeedbackInputRequest")


@_attrs_define
class FeedbackInputRequest:
    """
    Attributes:
        rating (int):
        comment (str | Unset):  Default: ''.
        reason (BlankEnum | FeedbackReasonEnum | Unset): With a rating of 1 or 2 only: why, for the platform's follow-up

            * `too_slow` - It took too long
            * `unfair_outcome` - The outcome was unfair
            * `poor_communication` - Poor communication
            * `not_resolved` - The problem is not resolved
            * `other` - Something else Default: BlankEnum.VALUE_0.
    """

    rating: int
    comment: str | Unset = ""
    reason: BlankEnum | FeedbackReasonEnum | Unset = BlankEnum.VALUE_0

    def to_dict(self) -> dict[str, Any]:
        rating = self.rating

        comment = self.comment

        reason: str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        elif isinstance(self.reason, FeedbackReasonEnum):
            reason = self.reason.value
        else:
            reason = self.reason.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "rating": rating,
            }
        )
        if comment is not UNSET:
            field_dict["comment"] = comment
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        rating = d.pop("rating")

        comment = d.pop("comment", UNSET)

        def _parse_reason(data: object) -> BlankEnum | FeedbackReasonEnum | Unset:
            if isinstance(data, Unset):
                return data
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

        reason = _parse_reason(d.pop("reason", UNSET))

        feedback_input_request = cls(
            rating=rating,
            comment=comment,
            reason=reason,
        )

        return feedback_input_request
