from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.party_history_thresholds_additional_property import PartyHistoryThresholdsAdditionalProperty


T = TypeVar("T", bound="PartyHistoryThresholds")


@_attrs_define
class PartyHistoryThresholds:
    """The settings the flags are computed with (SERIAL_CLAIMANT_*, PROBLEM_SELLER_*)"""

    additional_properties: dict[str, PartyHistoryThresholdsAdditionalProperty] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            field_dict[prop_name] = prop.to_dict()

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.party_history_thresholds_additional_property import PartyHistoryThresholdsAdditionalProperty  # noqa: PLC0415

        d = dict(src_dict)
        party_history_thresholds = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():
            additional_property = PartyHistoryThresholdsAdditionalProperty.from_dict(prop_dict)

            additional_properties[prop_name] = additional_property

        party_history_thresholds.additional_properties = additional_properties
        return party_history_thresholds

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> PartyHistoryThresholdsAdditionalProperty:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: PartyHistoryThresholdsAdditionalProperty) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
