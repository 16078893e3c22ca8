from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.blank_enum import BlankEnum
from ..models.feedback_reason_enum import FeedbackReasonEnum
from ..models.party_enum import PartyEnum

T = TypeVar("T", bound="Feedback")


@_attrs_define
class Feedback:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            party (PartyEnum): * `buyer` - Buyer
                * `seller` - Seller
            author (str): The user's username
            rating (int):
            comment (str):
            reason (BlankEnum | FeedbackReasonEnum):
            created_at (datetime.datetime):
    """

    id: int
    party: PartyEnum
    author: str
    rating: int
    comment: str
    reason: BlankEnum | FeedbackReasonEnum
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        party = self.party.value

        author = self.author

        rating = self.rating

        comment = self.comment

        reason: str
        if isinstance(self.reason, FeedbackReasonEnum):
            reason = self.reason.value
        else:
            reason = self.reason.value

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "party": party,
                "author": author,
                "rating": rating,
                "comment": comment,
                "reason": reason,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        party = PartyEnum(d.pop("party"))

        author = d.pop("author")

        rating = d.pop("rating")

        comment = d.pop("comment")

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

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        feedback = cls(
            id=id,
            party=party,
            author=author,
            rating=rating,
            comment=comment,
            reason=reason,
            created_at=created_at,
        )

        feedback.additional_properties = d
        return feedback

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
