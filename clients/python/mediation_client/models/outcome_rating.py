from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.outcome_enum import OutcomeEnum

T = TypeVar("T", bound="OutcomeRating")


@_attrs_define
class OutcomeRating:
    """
    Attributes:
        count (int): Ratings given.
        average (float | None): Their average, 1 to 5.
        low (int): Ratings of 1 or 2 (followed up).
        outcome (OutcomeEnum): * `agreement` - Agreement
            * `ruled_for_buyer` - Ruled for the buyer
            * `ruled_for_seller` - Ruled for the seller
            * `ruled_partial` - Ruled partially for the buyer
            * `withdrawn` - Withdrawn
            * `lapsed` - Lapsed
        label (str):
    """

    count: int
    average: float | None
    low: int
    outcome: OutcomeEnum
    label: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        count = self.count

        average: float | None
        average = self.average

        low = self.low

        outcome = self.outcome.value

        label = self.label

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "count": count,
                "average": average,
                "low": low,
                "outcome": outcome,
                "label": label,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        count = d.pop("count")

        def _parse_average(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        average = _parse_average(d.pop("average"))

        low = d.pop("low")

        outcome = OutcomeEnum(d.pop("outcome"))

        label = d.pop("label")

        outcome_rating = cls(
            count=count,
            average=average,
            low=low,
            outcome=outcome,
            label=label,
        )

        outcome_rating.additional_properties = d
        return outcome_rating

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
