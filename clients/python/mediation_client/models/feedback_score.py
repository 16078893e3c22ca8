from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FeedbackScore")


@_attrs_define
class FeedbackScore:
    """
    Attributes:
        party (str):
        label (str):
        count (int):
        average (float | None):
        distribution (list[int]): Ratings of 1, 2, 3, 4 and 5.
    """

    party: str
    label: str
    count: int
    average: float | None
    distribution: list[int]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        party = self.party

        label = self.label

        count = self.count

        average: float | None
        average = self.average

        distribution = self.distribution

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "party": party,
                "label": label,
                "count": count,
                "average": average,
                "distribution": distribution,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        party = d.pop("party")

        label = d.pop("label")

        count = d.pop("count")

        def _parse_average(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        average = _parse_average(d.pop("average"))

        distribution = cast(list[int], d.pop("distribution"))

        feedback_score = cls(
            party=party,
            label=label,
            count=count,
            average=average,
            distribution=distribution,
        )

        feedback_score.additional_properties = d
        return feedback_score

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
