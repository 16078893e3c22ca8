from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.outcome_count import OutcomeCount


T = TypeVar("T", bound="WithoutPlatform")


@_attrs_define
class WithoutPlatform:
    """
    Attributes:
        closed (int):
        resolved (int): Closed disputes never escalated to the platform and never ruled.
        share (float | None): resolved / closed.
        by_outcome (list[OutcomeCount]):
    """

    closed: int
    resolved: int
    share: float | None
    by_outcome: list[OutcomeCount]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        closed = self.closed

        resolved = self.resolved

        share: float | None
        share = self.share

        by_outcome = []
        for by_outcome_item_data in self.by_outcome:
            by_outcome_item = by_outcome_item_data.to_dict()
            by_outcome.append(by_outcome_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "closed": closed,
                "resolved": resolved,
                "share": share,
                "by_outcome": by_outcome,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.outcome_count import OutcomeCount  # noqa: PLC0415

        d = dict(src_dict)
        closed = d.pop("closed")

        resolved = d.pop("resolved")

        def _parse_share(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        share = _parse_share(d.pop("share"))

        by_outcome = []
        _by_outcome = d.pop("by_outcome")
        for by_outcome_item_data in _by_outcome:
            by_outcome_item = OutcomeCount.from_dict(by_outcome_item_data)

            by_outcome.append(by_outcome_item)

        without_platform = cls(
            closed=closed,
            resolved=resolved,
            share=share,
            by_outcome=by_outcome,
        )

        without_platform.additional_properties = d
        return without_platform

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
